"""How figures are written in the report, and the across-seed interval.

Percentages with three significant digits: enough to compare models whose
intervals are a few points wide, few enough that a reader sees the interval
before the noise digits. One formatter for every table, so the same figure
reads the same everywhere.

The across-seed interval (a Student t interval on the per-seed means) is
`actionbias.metrics.seeds`; `mean_pm_text` writes one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from actionbias.metrics.seeds import SeedSummary
from actionbias.metrics.seeds import finite_value as _finite

MISSING = "–"


def sig3(value: float, max_decimals: int = 6) -> str:
    """Three significant digits, never in exponent notation (100, 45.8, 0.512).

    `max_decimals` caps the digits after the point (percentages stop at 0.01).
    """
    if value == 0:
        return "0.00"
    magnitude = abs(value)
    decimals = min(max_decimals, max(0, 2 - math.floor(math.log10(magnitude))))
    rounded = round(magnitude, decimals)
    if rounded >= 10 ** (3 - decimals) and decimals > 0:  # 9.996 -> 10.0, not 10.00
        decimals -= 1
        rounded = round(magnitude, decimals)
    if rounded == 0:
        return f"{0:.{decimals}f}"  # no "-0.00"
    sign = "-" if value < 0 else ""
    return f"{sign}{rounded:.{decimals}f}"


def pct(value: object, signed: bool = False) -> str:
    """A fraction as a percentage with three significant digits; "–" when missing."""
    x = _finite(value)
    if x is None:
        return MISSING
    text = sig3(100.0 * x, max_decimals=2)
    if signed and not text.startswith("-") and text.strip("0.") != "":
        text = "+" + text
    return text.replace("-", "−")  # a real minus sign lines up with the plus sign


def ci_text(estimate: Mapping[str, Any] | None, signed: bool = False) -> tuple[str, str]:
    """(value, "[low, high]") of an Estimate dict in percent; ("–", "") when missing."""
    if not estimate:
        return MISSING, ""
    value = pct(estimate.get("value"), signed)
    low, high = _finite(estimate.get("low")), _finite(estimate.get("high"))
    if value == MISSING or low is None or high is None:
        return value, ""
    return value, f"[{pct(low, signed)}, {pct(high, signed)}]"


def p_text(p: object) -> str:
    """A p-value: 2 significant digits (0.038, 0.0014, 1), floored at "<0.001"."""
    x = _finite(p)
    if x is None:
        return MISSING
    if x < 0.001:
        return "<0.001"
    return f"{x:.2g}"


def mean_pm_text(summary: SeedSummary | None) -> tuple[str, str]:
    """("45.8", "± 3.10") in percent, or ("45.8", "") for a single seed."""
    if summary is None:
        return MISSING, ""
    if summary.half_width is None:
        return pct(summary.mean), ""
    return pct(summary.mean), f"± {pct(summary.half_width)}"
