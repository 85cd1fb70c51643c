from __future__ import annotations

import math

import numpy as np
import pytest

from actionbias.metrics import bootstrap_mean, bootstrap_statistic, mcnemar_exact, paired_comparison


def test_bootstrap_interval_contains_value_and_is_seeded():
    x = np.r_[np.ones(30), np.zeros(70)]
    a = bootstrap_mean(x, seed=1)
    b = bootstrap_mean(x, seed=1)
    assert a == b
    assert a.value == pytest.approx(0.3)
    assert a.low < 0.3 < a.high
    assert a.n == 100


def test_bootstrap_degenerate_and_empty():
    assert bootstrap_mean(np.ones(10)).as_dict()["low"] == 1.0
    empty = bootstrap_mean(np.array([]))
    assert empty.n == 0 and math.isnan(empty.value)


def test_bootstrap_interval_has_nominal_coverage():
    """Bernoulli(0.3) samples of 400: the 95 % interval covers 0.3 about 95 % of the time."""
    rng = np.random.default_rng(0)
    covered = 0
    reps = 200
    for r in range(reps):
        x = (rng.random(400) < 0.3).astype(float)
        est = bootstrap_mean(x, n_boot=1000, seed=r)
        covered += est.low <= 0.3 <= est.high
    assert 0.88 <= covered / reps <= 0.99


def test_bootstrap_width_shrinks_with_n():
    rng = np.random.default_rng(0)
    small = bootstrap_mean((rng.random(100) < 0.5).astype(float))
    large = bootstrap_mean((rng.random(10000) < 0.5).astype(float))
    assert (large.high - large.low) < 0.3 * (small.high - small.low)


def test_bootstrap_statistic_matches_mean_for_mean():
    x = np.arange(50, dtype=float)
    est = bootstrap_statistic(np.mean, x, n_boot=500, seed=0)
    assert est.value == pytest.approx(24.5)
    assert est.low < 24.5 < est.high


def test_mcnemar_exact_hand_computed():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 5) == pytest.approx(2 * 0.5**5)
    assert mcnemar_exact(9, 1) == pytest.approx(2 * 11 / 1024)
    assert mcnemar_exact(5, 5) == 1.0


def test_paired_comparison():
    same = np.r_[np.ones(50), np.zeros(50)]
    cmp_same = paired_comparison(same, same)
    assert cmp_same.difference.value == 0.0
    assert cmp_same.p_mcnemar == 1.0 and cmp_same.p_bootstrap == 1.0
    better = same.copy()
    better[50:80] = 1.0
    cmp = paired_comparison(better, same)
    assert cmp.difference.value == pytest.approx(0.3)
    assert cmp.a_only == 30 and cmp.b_only == 0
    assert cmp.p_mcnemar < 1e-6 and cmp.p_bootstrap < 0.01
    with pytest.raises(ValueError):
        paired_comparison(np.ones(3), np.ones(4))
