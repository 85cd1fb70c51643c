"""How figures are written in the report, and the across-seed interval.

Percentages with three significant digits: enough to compare models whose
intervals are a few points wide, few enough that a reader sees the interval
before the noise digits. One formatter for every table, so the same figure
reads the same everywhere.

The across-seed interval is a Student t interval on the per-seed means. It is
computed here (a few lines of numpy) rather than through scipy, which is not a
dependency of the package.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MISSING = "–"


def _finite(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


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


def _t_cdf_from_zero(t: float, df: int, steps: int = 4000) -> float:
    """P(0 <= T <= t) for Student's t with `df` degrees of freedom (Simpson's rule)."""
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    x = np.linspace(0.0, t, steps + 1)
    density = np.exp(log_c - (df + 1) / 2 * np.log1p(x * x / df))
    weights = np.ones(steps + 1)
    weights[1:-1:2] = 4
    weights[2:-1:2] = 2
    return float(weights @ density * (t / steps) / 3)


@functools.lru_cache(maxsize=256)
def t_quantile(level: float, df: int) -> float:
    """Two-sided critical value t such that P(|T| <= t) = level (e.g. 12.71 for df=1, 95 %)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    target = level / 2
    low, high = 0.0, 1.0
    while _t_cdf_from_zero(high, df) < target:
        high *= 2
    for _ in range(60):  # bisection: the CDF is monotone, 60 halvings reach 1e-15 relative
        mid = (low + high) / 2
        if _t_cdf_from_zero(mid, df) < target:
            low = mid
        else:
            high = mid
    return (low + high) / 2


@dataclass(frozen=True)
class SeedSummary:
    """Mean over seeds with a t interval (half-width 0 and no interval for one seed)."""

    mean: float
    half_width: float | None
    n: int

    def as_estimate(self) -> dict[str, float | int | None]:
        if self.half_width is None:
            return {"value": self.mean, "low": None, "high": None, "n": self.n}
        return {
            "value": self.mean,
            "low": self.mean - self.half_width,
            "high": self.mean + self.half_width,
            "n": self.n,
        }


def seed_summary(values: Sequence[float], level: float = 0.95) -> SeedSummary | None:
    """Mean ± t_{level, n-1} * sd / sqrt(n) over per-seed values (missing values dropped)."""
    xs = [x for x in (_finite(v) for v in values) if x is not None]
    if not xs:
        return None
    n = len(xs)
    mean = float(np.mean(xs))
    if n == 1:
        return SeedSummary(mean, None, 1)
    sd = float(np.std(xs, ddof=1))
    return SeedSummary(mean, t_quantile(level, n - 1) * sd / math.sqrt(n), n)


def mean_pm_text(summary: SeedSummary | None) -> tuple[str, str]:
    """("45.8", "± 3.10") in percent, or ("45.8", "") for a single seed."""
    if summary is None:
        return MISSING, ""
    if summary.half_width is None:
        return pct(summary.mean), ""
    return pct(summary.mean), f"± {pct(summary.half_width)}"
