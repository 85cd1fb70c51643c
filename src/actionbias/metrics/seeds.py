"""Mean over training seeds with a Student t interval.

A figure measured on one training run hides how much it would move with another
seed; across seeds the honest interval is a t interval on the per-seed values
(few seeds, unknown variance). It lives here, with the other pure statistics,
because the demo's tables, the report, A2O's repeated runs and the SynthAct
benchmark card all need the same one. Computed with a few lines of numpy rather
than scipy, which is not a dependency of the package.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def finite_value(value: object) -> float | None:
    """The value as a float, or None when it is missing, not a number or not finite."""
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


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
    xs = [x for x in (finite_value(v) for v in values) if x is not None]
    if not xs:
        return None
    n = len(xs)
    mean = float(np.mean(xs))
    if n == 1:
        return SeedSummary(mean, None, 1)
    sd = float(np.std(xs, ddof=1))
    return SeedSummary(mean, t_quantile(level, n - 1) * sd / math.sqrt(n), n)
