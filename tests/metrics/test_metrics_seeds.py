"""The across-seed t interval: critical values against tables and scipy, a summary by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from actionbias.metrics.seeds import seed_summary, t_quantile


@pytest.mark.parametrize(
    ("df", "expected"),
    [(1, 12.7062047), (2, 4.30265273), (4, 2.77644511), (9, 2.26215716), (30, 2.04227246)],
)
def test_t_quantile_matches_tables(df: int, expected: float) -> None:
    assert t_quantile(0.95, df) == pytest.approx(expected, rel=1e-5)


def test_t_quantile_agrees_with_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for df in (1, 3, 7, 50):
        for level in (0.9, 0.99):
            assert t_quantile(level, df) == pytest.approx(stats.t.ppf((1 + level) / 2, df), 1e-5)
    with pytest.raises(ValueError):
        t_quantile(0.95, 0)


def test_seed_summary_by_hand() -> None:
    values = [0.20, 0.25, 0.30]
    # mean 0.25, sd 0.05, half-width t_{0.975,2} * 0.05 / sqrt(3) = 4.3027 * 0.028868 = 0.12421
    s = seed_summary(values)
    assert s is not None
    assert s.mean == pytest.approx(0.25)
    assert s.half_width == pytest.approx(4.30265273 * 0.05 / math.sqrt(3), rel=1e-6)
    assert s.n == 3
    one = seed_summary([0.4, None, float("nan")])
    assert one is not None and one.n == 1 and one.half_width is None
    assert seed_summary([]) is None
    est = s.as_estimate()
    assert est["low"] == pytest.approx(0.25 - s.half_width) and est["n"] == 3
    assert np.isclose(est["high"], 0.25 + s.half_width)
