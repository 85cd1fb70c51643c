"""How figures are written: 3 significant digits, CIs, p-values, the across-seed interval."""

from __future__ import annotations

import pytest

from actionbias.metrics.seeds import seed_summary
from actionbias.report.numbers import (
    ci_text,
    mean_pm_text,
    p_text,
    pct,
    sig3,
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


def test_mean_pm_text_writes_the_seed_interval() -> None:
    assert mean_pm_text(seed_summary([0.20, 0.25, 0.30])) == ("25.0", "± 12.4")
    assert mean_pm_text(seed_summary([0.4, None, float("nan")])) == ("40.0", "")
    assert mean_pm_text(None) == ("–", "")
