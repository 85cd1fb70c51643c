"""How figures are written (3 significant digits, CIs, p-values) and the across-seed t interval."""

from __future__ import annotations

import math

import numpy as np
import pytest

from actionbias.report.numbers import (
    ci_text,
    mean_pm_text,
    p_text,
    pct,
    seed_summary,
    sig3,
    t_quantile,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (100.0, "100"),
        (45.83, "45.8"),
        (5.123, "5.12"),
        (0.5126, "0.513"),
        (9.996, "10.0"),
        (99.96, "100"),
        (0.0, "0.00"),
        (-3.062, "-3.06"),
        (12.0, "12.0"),
        (0.000123, "0.000123"),
        (-0.0000001, "0.000000"),
    ],
)
def test_sig3(value: float, text: str) -> None:
    assert sig3(value) == text


def test_pct_and_ci_text() -> None:
    assert pct(0.4583) == "45.8"
    assert pct(None) == "–" and pct(float("nan")) == "–" and pct("x") == "–"
    assert pct(-0.0306, signed=True) == "−3.06"
    assert pct(0.0306, signed=True) == "+3.06"
    assert pct(0.0, signed=True) == "0.00"
    assert pct(0.00512) == "0.51" and pct(-0.000125, signed=True) == "−0.01"
    assert pct(0.00001, signed=True) == "0.00"  # rounds to zero: no sign, no "-0.00"
    est = {"value": 0.2342, "low": 0.1987, "high": 0.2711, "n": 500}
    assert ci_text(est) == ("23.4", "[19.9, 27.1]")
    assert ci_text({"value": 0.5, "low": None, "high": None}) == ("50.0", "")
    assert ci_text(None) == ("–", "")
    diff = {"value": -0.0306, "low": -0.051, "high": -0.01}
    assert ci_text(diff, signed=True) == ("−3.06", "[−5.10, −1.00]")


def test_p_text() -> None:
    assert p_text(0.0380) == "0.038"
    assert p_text(0.00143) == "0.0014"
    assert p_text(1.0) == "1"
    assert p_text(0.0004) == "<0.001"
    assert p_text(None) == "–"


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
    assert mean_pm_text(s) == ("25.0", "± 12.4")
    one = seed_summary([0.4, None, float("nan")])
    assert one is not None and one.n == 1 and one.half_width is None
    assert mean_pm_text(one) == ("40.0", "")
    assert seed_summary([]) is None
    est = s.as_estimate()
    assert est["low"] == pytest.approx(0.25 - s.half_width) and est["n"] == 3
    assert np.isclose(est["high"], 0.25 + s.half_width)
