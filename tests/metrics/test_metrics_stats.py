from __future__ import annotations

import math

import numpy as np
import pytest

from actionbias import metrics


def test_bootstrap_interval_contains_value_and_is_seeded():
    x = np.r_[np.ones(30), np.zeros(70)]
    a = metrics.bootstrap_mean(x, seed=1)
    b = metrics.bootstrap_mean(x, seed=1)
    assert a == b
    assert a.value == pytest.approx(0.3)
    assert a.low < 0.3 < a.high
    assert a.n == 100


def test_bootstrap_degenerate_and_empty():
    assert metrics.bootstrap_mean(np.ones(10)).as_dict()["low"] == 1.0
    empty = metrics.bootstrap_mean(np.array([]))
    assert empty.n == 0 and math.isnan(empty.value)


def test_bootstrap_interval_has_nominal_coverage():
    """Bernoulli(0.3) samples of 400: the 95 % interval covers 0.3 about 95 % of the time."""
    rng = np.random.default_rng(0)
    covered = 0
    reps = 200
    for r in range(reps):
        x = (rng.random(400) < 0.3).astype(float)
        est = metrics.bootstrap_mean(x, n_boot=1000, seed=r)
        covered += est.low <= 0.3 <= est.high
    assert 0.88 <= covered / reps <= 0.99


def test_bootstrap_width_shrinks_with_n():
    rng = np.random.default_rng(0)
    small = metrics.bootstrap_mean((rng.random(100) < 0.5).astype(float))
    large = metrics.bootstrap_mean((rng.random(10000) < 0.5).astype(float))
    assert (large.high - large.low) < 0.3 * (small.high - small.low)


def test_bootstrap_statistic_matches_mean_for_mean():
    x = np.arange(50, dtype=float)
    est = metrics.bootstrap_statistic(np.mean, x, n_boot=500, seed=0)
    assert est.value == pytest.approx(24.5)
    assert est.low < 24.5 < est.high


def test_mcnemar_exact_hand_computed():
    assert metrics.mcnemar_exact(0, 0) == 1.0
    assert metrics.mcnemar_exact(0, 5) == pytest.approx(2 * 0.5**5)
    assert metrics.mcnemar_exact(9, 1) == pytest.approx(2 * 11 / 1024)
    assert metrics.mcnemar_exact(5, 5) == 1.0


def test_paired_comparison():
    same = np.r_[np.ones(50), np.zeros(50)]
    cmp_same = metrics.paired_comparison(same, same)
    assert cmp_same.difference.value == 0.0
    assert cmp_same.p_mcnemar == 1.0 and cmp_same.p_bootstrap == 1.0
    better = same.copy()
    better[50:80] = 1.0
    cmp = metrics.paired_comparison(better, same)
    assert cmp.difference.value == pytest.approx(0.3)
    assert cmp.a_only == 30 and cmp.b_only == 0
    assert cmp.p_mcnemar < 1e-6 and cmp.p_bootstrap < 0.01
    with pytest.raises(ValueError):
        metrics.paired_comparison(np.ones(3), np.ones(4))


# --- clustered resampling (videos sharing a human or background clip) ------------


def _crossed_design(rng, humans=30, uses=5, sigma=2.0):
    """Each human clip pasted on ``uses`` backgrounds; every background hosts ``uses`` humans.

    Outcome 1 when human effect + background effect + noise > 0, so the true
    rate is 0.5 by symmetry while videos sharing a clip are strongly correlated.
    """
    h = np.repeat(np.arange(humans), uses)
    b = (h + rng.permutation(humans)[np.tile(np.arange(uses), humans)]) % humans
    u, v = rng.normal(0, sigma, humans), rng.normal(0, sigma, humans)
    y = (u[h] + v[b] + rng.normal(0, 1, h.size) > 0).astype(float)
    return y, {"human_clip": h, "background_clip": b}


def test_unique_sources_give_the_plain_video_bootstrap():
    x = np.random.default_rng(3).integers(0, 2, 80).astype(float)
    ids = {"human_clip": [f"h{i}" for i in range(80)], "background_clip": list(range(80))}
    assert metrics.resampling(80, ids).unit == "video"
    assert metrics.bootstrap_mean(x, 500, 1, clusters=ids) == metrics.bootstrap_mean(x, 500, 1)


def test_repeated_clips_widen_the_interval_to_the_clip_count():
    """Three identical copies of 60 videos carry the information of 60, not 180."""
    x = np.random.default_rng(4).integers(0, 2, 60).astype(float)
    copies = np.repeat(x, 3)
    clips = {"human_clip": np.repeat(np.arange(60), 3)}
    original = metrics.bootstrap_mean(x, 4000, 0)
    naive = metrics.bootstrap_mean(copies, 4000, 0)
    clustered = metrics.bootstrap_mean(copies, 4000, 0, clusters=clips)
    width = lambda e: e.high - e.low  # noqa: E731
    assert clustered.unit == "human_clip" and naive.unit == "video"
    assert clustered.value == naive.value == pytest.approx(x.mean())
    assert 0.5 < width(naive) / width(original) < 0.7  # ~ 1/sqrt(3): too narrow
    assert 0.85 < width(clustered) / width(original) < 1.15


def test_crossed_clusters_restore_coverage():
    """Correlated swap videos: the video bootstrap under-covers, the pigeonhole one does not."""
    rng = np.random.default_rng(0)
    hits = {"video": 0, "clustered": 0}
    sims = 150
    for i in range(sims):
        y, ids = _crossed_design(rng)
        plain = metrics.bootstrap_mean(y, 400, i)
        crossed = metrics.bootstrap_mean(y, 400, i, clusters=ids)
        assert crossed.unit == "human_clip x background_clip"
        hits["video"] += plain.low <= 0.5 <= plain.high
        hits["clustered"] += crossed.low <= 0.5 <= crossed.high
    assert hits["video"] / sims < 0.8  # measured 0.67
    assert hits["clustered"] / sims >= 0.93  # measured 0.99 (the pigeonhole is conservative)


def test_clustered_statistic_and_subset():
    y, ids = _crossed_design(np.random.default_rng(5))
    plan = metrics.resampling(y.size, ids)
    stat = metrics.bootstrap_statistic(np.mean, y, n_boot=300, seed=2, clusters=plan)
    mean = metrics.bootstrap_mean(y, 300, 2, clusters=plan)
    assert stat.unit == mean.unit == "human_clip x background_clip"
    assert stat.value == pytest.approx(mean.value)
    assert abs((stat.high - stat.low) - (mean.high - mean.low)) < 0.05
    one_human = plan.subset(ids["human_clip"] == 0)  # 5 videos, 5 different backgrounds
    assert one_human.unit == "human_clip" and one_human.n == 5
    assert plan.describe() == {
        "unit": "human_clip x background_clip",
        "videos": 150,
        "human_clip": 30,
        "background_clip": 30,
    }
    with pytest.raises(ValueError, match="for 150 videos"):
        metrics.resampling(150, {"human_clip": [1, 2]})


def test_mcnemar_clustered_hand_computed():
    # clusters 0, 1, 2 with A-only minus B-only = 2, 1, -1: (2)^2 / (4 + 1 + 1)
    a_only = np.array([1, 1, 0, 1, 0, 0])
    b_only = np.array([0, 0, 0, 0, 0, 1])
    cluster = np.array([0, 0, 0, 1, 1, 2])
    assert metrics.mcnemar_clustered(a_only, b_only, cluster) == pytest.approx(
        math.erfc(math.sqrt(1 / 3))
    )
    # one video per cluster: the uncorrected McNemar chi-square (b - c)^2 / (b + c)
    a = np.r_[np.ones(12), np.zeros(4)]
    b = 1 - a
    p = metrics.mcnemar_clustered(a, b, np.arange(16))
    assert p == pytest.approx(math.erfc(math.sqrt(((12 - 4) ** 2 / 16) / 2)))
    assert metrics.mcnemar_clustered(np.zeros(3), np.zeros(3), np.arange(3)) == 1.0


def test_paired_comparison_resamples_the_same_unit():
    rng = np.random.default_rng(6)
    a = rng.integers(0, 2, 50).astype(float)
    b = np.where(rng.random(50) < 0.7, a, 1 - a)
    a3, b3 = np.repeat(a, 3), np.repeat(b, 3)
    one = {"human_clip": np.repeat(np.arange(50), 3)}
    naive = metrics.paired_comparison(a3, b3, 2000, 0)
    clustered = metrics.paired_comparison(a3, b3, 2000, 0, clusters=one)
    assert naive.mcnemar == "exact" and clustered.mcnemar == "clustered by human_clip"
    assert clustered.difference.unit == "human_clip"
    width = lambda c: c.difference.high - c.difference.low  # noqa: E731
    assert width(clustered) > 1.4 * width(naive)
    assert clustered.p_mcnemar > naive.p_mcnemar or naive.p_mcnemar == 1.0
    y, ids = _crossed_design(np.random.default_rng(7))
    crossed = metrics.paired_comparison(y, 1 - y, 500, 0, clusters=ids)
    assert math.isnan(crossed.p_mcnemar) and "not available" in crossed.mcnemar
    assert 0.0 <= crossed.p_bootstrap <= 1.0
