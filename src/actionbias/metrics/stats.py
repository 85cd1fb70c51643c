"""Uncertainty for every reported figure: bootstrap intervals and paired tests.

Audits compare models on a few hundred to a few thousand videos; a 2-point gap
in SBErr can be noise at that size. Every figure therefore carries a seeded
percentile-bootstrap interval, and two models evaluated on the same videos are
compared with paired tests (paired bootstrap of the difference and McNemar's
test on the discordant pairs) rather than by eyeballing two intervals.

The resampled unit is the video unless videos share a source. Action-Swap sets
reuse clips: HAT's three Random mixes paste every human clip onto three
backgrounds, and a background clip can host several humans. Such videos are
not independent, and resampling them one by one gives intervals and p-values
that are too narrow. Given ``clusters`` (named per-video source ids, e.g.
``{"human_clip": ..., "background_clip": ...}``), every factor whose ids repeat
is resampled as a whole: one factor is the ordinary cluster bootstrap; two
crossed factors use the pigeonhole (product-weight) bootstrap of Owen (2007,
Ann. Appl. Stat.), in which humans and backgrounds are drawn with replacement
independently and each video counts (times its human was drawn) x (times its
background was drawn). `Estimate.unit` says what was resampled.

The pigeonhole bootstrap is conservative (Owen 2007): a video's own noise is
counted through both factors, so when sources do not actually matter its
variance is up to about three times the true one. On a HAT-sized simulation
with independent outcomes (15,000 videos, 5,000 human clips x 3, 1,500
backgrounds) its 95 % SBErr interval is 1.8x as wide as the video bootstrap's;
with strong human and background effects it covers 99 % where the video
bootstrap covers 67 % (tests/metrics/test_metrics_stats.py). Too wide rather
than too narrow, by design.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

VIDEO = "video"
"""The unit of an ordinary (unclustered) bootstrap."""
_MAX_CELLS_PER_CHUNK = 2_000_000  # bootstrap draws x cells held in memory at once

Clusters = Mapping[str, Sequence[object] | np.ndarray]
"""Named per-video source ids: ``{"human_clip": [...], "background_clip": [...]}``."""


@dataclass(frozen=True)
class Estimate:
    """A figure with its 95 % (by default) bootstrap interval and sample size.

    ``unit`` is what the bootstrap resampled: ``"video"``, or the source
    factor(s) shared by several videos (``"human_clip"``, or
    ``"human_clip x background_clip"`` when both repeat).
    """

    value: float
    low: float
    high: float
    n: int
    level: float = 0.95
    unit: str = VIDEO

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{100 * self.value:.2f} [{100 * self.low:.2f}, {100 * self.high:.2f}] (n={self.n})"


def _resample_indices(n: int, n_boot: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, n, size=(n_boot, n))


@dataclass(frozen=True)
class Resampling:
    """Which source factors a bootstrap resamples, as integer codes per video.

    Built by `resampling`; ``factors`` is empty for the ordinary video bootstrap.
    """

    n: int
    factors: tuple[tuple[str, np.ndarray], ...] = ()

    @property
    def unit(self) -> str:
        return " x ".join(name for name, _ in self.factors) or VIDEO

    @property
    def clustered(self) -> bool:
        return bool(self.factors)

    def levels(self) -> dict[str, int]:
        """Number of distinct sources per factor (what is resampled)."""
        return {name: int(codes.max()) + 1 for name, codes in self.factors}

    def describe(self) -> dict[str, object]:
        """``{"unit": ..., "videos": n, <factor>: <distinct sources>, ...}`` for reports."""
        return {"unit": self.unit, "videos": self.n, **self.levels()}

    def subset(self, mask: np.ndarray) -> Resampling:
        """The same factors restricted to some videos (re-evaluated: they may stop repeating)."""
        mask = np.asarray(mask, dtype=bool)
        return resampling(int(mask.sum()), {name: codes[mask] for name, codes in self.factors})


def resampling(n: int, clusters: Clusters | Resampling | None = None) -> Resampling:
    """The resampling plan for ``n`` videos: the factors of ``clusters`` whose ids repeat.

    A factor in which every video has its own id adds nothing and is dropped, so
    unique sources give the ordinary video bootstrap. Missing ids (``None`` or
    ``""``) are each their own source.
    """
    if isinstance(clusters, Resampling):
        if clusters.n != n:
            raise ValueError(f"resampling plan for {clusters.n} videos used on {n}")
        return clusters
    factors = []
    for name, ids in (clusters or {}).items():
        values = list(np.asarray(ids, dtype=object).ravel())
        if len(values) != n:
            raise ValueError(f"cluster ids {name!r}: {len(values)} for {n} videos")
        keys = [
            ("\0unique", i) if v is None or (isinstance(v, str) and not v) else ("id", v)
            for i, v in enumerate(values)
        ]
        codes: dict[object, int] = {}
        coded = np.fromiter((codes.setdefault(k, len(codes)) for k in keys), np.int64, n)
        if len(codes) < n:
            factors.append((str(name), coded))
    return Resampling(n, tuple(factors))


def _cluster_draw_means(values: np.ndarray, plan: Resampling, n_boot: int, seed: int) -> np.ndarray:
    """Per-draw weighted means of ``values`` (columns: one per value vector).

    Videos are grouped into cells (one per combination of source ids); a draw
    gives every source a multiplicity (how often it was drawn) and every cell
    the product of its sources' multiplicities. Draws whose weights are all zero
    (possible with crossed factors) are NaN.
    """
    rng = np.random.default_rng(seed)
    codes = np.stack([c for _, c in plan.factors], axis=1)
    cells, cell_of = np.unique(codes, axis=0, return_inverse=True)
    cell_of = cell_of.ravel()
    sizes = np.bincount(cell_of, minlength=len(cells)).astype(np.float64)
    sums = np.stack(
        [np.bincount(cell_of, weights=v, minlength=len(cells)) for v in values.T], axis=1
    )
    levels = [int(c.max()) + 1 for _, c in plan.factors]
    out = np.empty((n_boot, values.shape[1]), dtype=np.float64)
    chunk = max(1, _MAX_CELLS_PER_CHUNK // max(len(cells), max(levels)))
    for start in range(0, n_boot, chunk):
        rows = min(chunk, n_boot - start)
        weights = np.ones((rows, len(cells)), dtype=np.float64)
        for k, level in enumerate(levels):
            draws = rng.integers(0, level, size=(rows, level))
            flat = (draws + level * np.arange(rows)[:, None]).ravel()
            counts = np.bincount(flat, minlength=rows * level).reshape(rows, level)
            weights *= counts[:, cells[:, k]]
        total = weights @ sizes
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + rows] = (weights @ sums) / total[:, None]
    return out


def _draw_means(values: np.ndarray, plan: Resampling, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, k) bootstrap means of the k columns of ``values``, resampled together."""
    if not plan.clustered:
        idx = _resample_indices(values.shape[0], n_boot, seed)
        return np.stack([v[idx].mean(axis=1) for v in values.T], axis=1)
    return _cluster_draw_means(values, plan, n_boot, seed)


def _interval(draws: np.ndarray, level: float) -> tuple[float, float]:
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return math.nan, math.nan
    lo, hi = np.quantile(draws, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def bootstrap_mean(
    values: np.ndarray,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    clusters: Clusters | Resampling | None = None,
) -> Estimate:
    """Mean of per-video values (e.g. 0/1 correctness) with a percentile interval.

    Vectorised: one (n_boot x n) index draw, so 2,000 resamples of 10,000
    videos cost a fraction of a second. With ``clusters`` the videos sharing a
    repeated source are resampled together (see the module docstring).
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    n = x.size
    plan = resampling(n, clusters)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, level, plan.unit)
    lo, hi = _interval(_draw_means(x[:, None], plan, n_boot, seed)[:, 0], level)
    return Estimate(float(x.mean()), lo, hi, n, level, plan.unit)


def _cluster_index_draws(plan: Resampling, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Row indices of each clustered draw: every video repeated by its weight."""
    rng = np.random.default_rng(seed)
    for _ in range(n_boot):
        weights = np.ones(plan.n, dtype=np.int64)
        for _, codes in plan.factors:
            level = int(codes.max()) + 1
            counts = np.bincount(rng.integers(0, level, size=level), minlength=level)
            weights *= counts[codes]
        yield np.repeat(np.arange(plan.n), weights)


def bootstrap_statistic(
    statistic: Callable[..., float],
    *arrays: np.ndarray,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    clusters: Clusters | Resampling | None = None,
) -> Estimate:
    """Any statistic of per-video arrays (resampled together, row-aligned).

    Used for figures that are not means of per-video values, such as macro
    mAP; slower than `bootstrap_mean` because `statistic` runs once per draw.
    With ``clusters`` a draw repeats each video by its product weight.
    """
    arrs = [np.asarray(a) for a in arrays]
    n = len(arrs[0])
    if any(len(a) != n for a in arrs):
        raise ValueError("bootstrap_statistic: arrays must have the same length")
    plan = resampling(n, clusters)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, level, plan.unit)
    value = float(statistic(*arrs))
    if plan.clustered:
        draws_idx: Iterator[np.ndarray] = _cluster_index_draws(plan, n_boot, seed)
    else:
        draws_idx = iter(_resample_indices(n, n_boot, seed))
    draws = np.array(
        [statistic(*(a[i] for a in arrs)) if i.size else math.nan for i in draws_idx],
        dtype=np.float64,
    )
    lo, hi = _interval(draws, level)
    return Estimate(value, lo, hi, n, level, plan.unit)


@dataclass(frozen=True)
class PairedComparison:
    """Model A minus model B on the same videos.

    ``p_mcnemar`` is the exact McNemar test when videos are independent, the
    cluster-adjusted McNemar test (Durkalski et al. 2003) when one source factor
    repeats, and NaN (not available) when two crossed factors repeat; the paired
    bootstrap p-value always resamples the same unit as the interval
    (``difference.unit``).
    """

    difference: Estimate
    p_bootstrap: float
    p_mcnemar: float
    a_only: int  # videos A gets right and B wrong
    b_only: int
    mcnemar: str = "exact"

    def as_dict(self) -> dict[str, object]:
        return {
            "difference": self.difference.as_dict(),
            "p_bootstrap": self.p_bootstrap,
            "p_mcnemar": self.p_mcnemar,
            "mcnemar": self.mcnemar,
            "a_only": self.a_only,
            "b_only": self.b_only,
        }


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value (binomial test on the discordant pairs).

    Exact rather than the chi-square approximation because per-class slices
    of a swap set often have only a handful of discordant videos.
    """
    n = a_only + b_only
    if n == 0:
        return 1.0
    k = min(a_only, b_only)
    # P(X <= k) for X ~ Bin(n, 1/2), in log space to stay exact for large n.
    log_half_n = -n * math.log(2.0)
    tail = sum(math.exp(_log_comb(n, i) + log_half_n) for i in range(k + 1))
    return float(min(1.0, 2.0 * tail))


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def mcnemar_clustered(a_only: np.ndarray, b_only: np.ndarray, cluster: np.ndarray) -> float:
    """Cluster-adjusted McNemar p-value (Durkalski, Palesch, Lipsitz & Rust 2003).

    ``a_only``/``b_only`` are per-video discordance indicators and ``cluster``
    the per-video cluster code; the statistic ``(sum_k d_k)^2 / sum_k d_k^2``
    with ``d_k`` = (A-only minus B-only videos in cluster k) is referred to a
    chi-square with one degree of freedom. With one video per cluster it is the
    uncorrected asymptotic McNemar test.
    """
    codes = np.asarray(cluster, dtype=np.int64).ravel()
    diff = np.asarray(a_only, dtype=np.float64).ravel() - np.asarray(b_only, dtype=np.float64)
    per_cluster = np.bincount(codes, weights=diff)
    denominator = float(np.sum(per_cluster**2))
    if denominator == 0.0:
        return 1.0
    statistic = float(np.sum(per_cluster)) ** 2 / denominator
    return float(math.erfc(math.sqrt(statistic / 2.0)))


def paired_comparison(
    a_values: np.ndarray,
    b_values: np.ndarray,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    clusters: Clusters | Resampling | None = None,
) -> PairedComparison:
    """Compare two models' per-video 0/1 outcomes (same videos, same order).

    The bootstrap p-value is the two-sided share of resampled differences on
    the other side of zero (doubled, capped at 1), the usual percentile test.
    With ``clusters`` both the interval and the p-value resample repeated
    sources as wholes, and McNemar's test is adjusted (see `PairedComparison`).
    """
    a = np.asarray(a_values, dtype=np.float64).ravel()
    b = np.asarray(b_values, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError("paired_comparison: both models must be scored on the same videos")
    diff = a - b
    plan = resampling(diff.size, clusters)
    est = bootstrap_mean(diff, n_boot=n_boot, seed=seed, level=level, clusters=plan)
    if diff.size:
        draws = _draw_means(diff[:, None], plan, n_boot, seed)[:, 0]
        draws = draws[np.isfinite(draws)]
        below = float(np.mean(draws <= 0.0))
        above = float(np.mean(draws >= 0.0))
        p_boot = min(1.0, 2.0 * min(below, above))
    else:
        p_boot = 1.0
    a_bin, b_bin = a > 0.5, b > 0.5
    a_only = int(np.sum(a_bin & ~b_bin))
    b_only = int(np.sum(b_bin & ~a_bin))
    if not plan.clustered:
        p_mc, kind = mcnemar_exact(a_only, b_only), "exact"
    elif len(plan.factors) == 1:
        codes = plan.factors[0][1]
        p_mc = mcnemar_clustered(a_bin & ~b_bin, b_bin & ~a_bin, codes)
        kind = f"clustered by {plan.unit}"
    else:
        p_mc, kind = math.nan, f"not available ({plan.unit} cross)"
    return PairedComparison(est, p_boot, p_mc, a_only, b_only, kind)
