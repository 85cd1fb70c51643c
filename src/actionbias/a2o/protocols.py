"""Evaluation protocols around the ICRL loop: repeated runs, paired tests, ablations, cost.

- `summarize_runs` / `compare_runs` / `paired_t_test`: Table 8 — mean, sample
  standard deviation, 95 % Student-t interval over runs, and the two-sided
  paired t-test p-value against a baseline over matched seeds. The t
  distribution's tail is computed here through the regularised incomplete beta
  function (a continued fraction), accurate to ~1e-14 even for tiny p-values;
  the interval's critical value comes from `actionbias.report.numbers`. No
  scipy at run time (it is not a package dependency).
- `repeated_runs`: one value per seed from a caller's function, stored per seed
  in a JSON Lines file so an interrupted series resumes.
- (few-shot subsets of Table 1: `actionbias.a2o.data.few_shot`.)
- `remove_background`: the ablation that drops background-related classes
  (scene words such as floor, court, grass) from a set.
- `compute_accounting`: search time, trials and inference time per clip
  (Table 9's columns).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from actionbias.errors import BadInputError
from actionbias.fileio import append_jsonl, read_jsonl
from actionbias.metrics.seeds import t_quantile

# ---------------------------------------------------------------------- t distribution


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz's method)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            delta = d * c
            h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularised incomplete beta function, for a, b > 0 and x in [0, 1]."""
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"x must be in [0, 1], got {x}")
    if x == 0.0 or x == 1.0:
        return x
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with `df` degrees of freedom."""
    if df <= 0:
        raise ValueError(f"degrees of freedom must be > 0, got {df}")
    if math.isnan(t):
        return math.nan
    if math.isinf(t):
        return 0.0
    return min(1.0, regularized_beta(df / 2.0, 0.5, df / (df + t * t)))


# ---------------------------------------------------------------------- repeated runs


@dataclass(frozen=True)
class RunStats:
    """Mean ± sample std over runs with a Student-t interval (no interval for one run)."""

    n: int
    mean: float
    std: float | None
    half_width: float | None
    level: float = 0.95

    @property
    def low(self) -> float | None:
        return None if self.half_width is None else self.mean - self.half_width

    @property
    def high(self) -> float | None:
        return None if self.half_width is None else self.mean + self.half_width

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "low": self.low, "high": self.high}


@dataclass(frozen=True)
class PairedTest:
    """Method A minus baseline B over matched runs: the paired t-test.

    With zero spread of the differences t is infinite (p = 0) unless the mean
    difference is 0 too (p = 1): identical runs are no evidence of a gap, and
    a constant non-zero gap is as strong as evidence gets.
    """

    n: int
    mean_difference: float
    std_difference: float | None
    t: float | None
    df: int
    p_value: float | None
    half_width: float | None
    level: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _values(values: Iterable[float], where: str) -> list[float]:
    out = []
    for i, v in enumerate(values):
        x = float(v)
        if not math.isfinite(x):
            raise BadInputError(f"value {i} is {v!r}, not a finite number", where=where)
        out.append(x)
    return out


def summarize_runs(values: Iterable[float], level: float = 0.95) -> RunStats:
    """Table 8's "Mean ± Std" and "95 % CI" (mean ± t_{n-1} * std / sqrt(n)) of one method."""
    xs = _values(values, "values")
    if not xs:
        raise BadInputError("no runs to summarise", where="values")
    n = len(xs)
    mean = float(np.mean(xs))
    if n == 1:
        return RunStats(1, mean, None, None, level)
    std = float(np.std(xs, ddof=1))
    return RunStats(n, mean, std, t_quantile(level, n - 1) * std / math.sqrt(n), level)


def _matched(
    a: Sequence[float] | Mapping[Any, float], b: Sequence[float] | Mapping[Any, float]
) -> tuple[list[float], list[float]]:
    """Pair values by seed (mappings) or by position (sequences)."""
    if isinstance(a, Mapping) != isinstance(b, Mapping):
        raise BadInputError("give both as seed -> value mappings or both as lists", where="values")
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        only = sorted(set(a) ^ set(b), key=str)
        if only:
            raise BadInputError(
                f"seeds without a match: {', '.join(map(str, only[:8]))}", where="seeds"
            )
        keys = sorted(a, key=str)
        return _values((a[k] for k in keys), "values_a"), _values((b[k] for k in keys), "values_b")
    xs, ys = _values(a, "values_a"), _values(b, "values_b")  # type: ignore[arg-type]
    if len(xs) != len(ys):
        raise BadInputError(
            f"{len(xs)} runs against {len(ys)}: a paired test needs matched runs", where="values"
        )
    return xs, ys


def paired_t_test(
    values_a: Sequence[float] | Mapping[Any, float],
    values_b: Sequence[float] | Mapping[Any, float],
    level: float = 0.95,
) -> PairedTest:
    """Two-sided paired t-test of A - B over matched runs (n >= 2 for a p-value)."""
    xs, ys = _matched(values_a, values_b)
    diff = np.asarray(xs) - np.asarray(ys)
    n = int(diff.size)
    if n == 0:
        raise BadInputError("no runs to compare", where="values")
    mean = float(diff.mean())
    if n == 1:
        return PairedTest(1, mean, None, None, 0, None, None, level)
    sd = float(diff.std(ddof=1))
    df = n - 1
    if sd == 0.0:
        t = 0.0 if mean == 0.0 else math.copysign(math.inf, mean)
        return PairedTest(n, mean, 0.0, t, df, 1.0 if mean == 0.0 else 0.0, 0.0, level)
    t = mean / (sd / math.sqrt(n))
    half = t_quantile(level, df) * sd / math.sqrt(n)
    return PairedTest(n, mean, sd, t, df, t_two_sided_p(t, df), half, level)


def compare_runs(
    values_a: Sequence[float] | Mapping[Any, float],
    values_b: Sequence[float] | Mapping[Any, float],
    level: float = 0.95,
) -> dict[str, Any]:
    """Table 8 for method A against baseline B: both summaries and the paired test."""
    xs, ys = _matched(values_a, values_b)
    return {
        "a": summarize_runs(xs, level).to_dict(),
        "b": summarize_runs(ys, level).to_dict(),
        "paired": paired_t_test(xs, ys, level).to_dict(),
    }


@dataclass
class RepeatedRuns:
    """One value per seed and their summary."""

    values: dict[int, float]
    stats: RunStats

    def to_dict(self) -> dict[str, Any]:
        return {
            "values": {str(k): v for k, v in self.values.items()},
            "stats": self.stats.to_dict(),
        }


def repeated_runs(
    run: Callable[[int], float],
    seeds: Sequence[int],
    *,
    store: str | Path | None = None,
    level: float = 0.95,
) -> RepeatedRuns:
    """``run(seed)`` for every seed (a float, e.g. test accuracy), summarised.

    With `store` (a .jsonl path) each finished seed is appended at once and a
    rerun skips the seeds already there, so a series of long trainings
    survives a kill.
    """
    if not seeds:
        raise BadInputError("no seeds given", where="seeds")
    if len(set(seeds)) != len(seeds):
        raise BadInputError("seeds repeat", where="seeds")
    path = Path(store) if store is not None else None
    done: dict[int, float] = {}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        for lineno, row in read_jsonl(path):
            try:
                done[int(row["seed"])] = float(row["value"])
            except (KeyError, TypeError, ValueError):
                raise BadInputError("expected {seed, value}", path, f"line {lineno}") from None
    values: dict[int, float] = {}
    for seed in seeds:
        if seed in done:
            values[seed] = done[seed]
            continue
        value = float(run(int(seed)))
        values[seed] = value
        if path is not None:
            append_jsonl(path, [{"seed": int(seed), "value": value}])
    return RepeatedRuns(values, summarize_runs(list(values.values()), level))


def comparison_table(
    baseline: tuple[str, Mapping[Any, float]],
    methods: Mapping[str, Mapping[Any, float]],
    level: float = 0.95,
) -> list[dict[str, Any]]:
    """Rows of Table 8: the baseline's summary, then each method's with its p-value."""
    name, base = baseline
    rows = [{"method": name, **summarize_runs(list(base.values()), level).to_dict(), "p": None}]
    for method, values in methods.items():
        test = paired_t_test(values, base, level)
        stats = summarize_runs(list(values.values()), level)
        rows.append({"method": method, **stats.to_dict(), "p": test.p_value})
    return rows


# ---------------------------------------------------------------------- few-shot


# ---------------------------------------------------------------------- ablation


DEFAULT_BACKGROUND_TERMS = (
    "floor", "court", "grass", "field", "wall", "sky", "ground", "pitch", "ceiling", "water",
    "sand", "snow", "road", "street", "building", "tree", "trees", "room", "background", "scene",
    "stadium", "arena", "gym", "track", "pool", "lawn", "carpet", "stage", "audience",
    "crowd", "bleachers", "stands", "fence", "mountain", "beach", "sea", "ocean", "lake", "river",
    "forest", "house", "window", "door", "furniture", "indoor", "outdoor", "horizon", "cloud",
    "clouds", "ice", "rink", "dirt", "gravel", "pavement", "sidewalk", "parking lot",
)  # fmt: skip


@dataclass(frozen=True)
class BackgroundSplit:
    """The set without background-related classes (`kept`) and what was removed."""

    kept: list[str]
    removed: list[str]


def remove_background(
    objects: Sequence[str],
    background_terms: Iterable[str] | None = None,
    scene_objects: Iterable[str] = (),
) -> BackgroundSplit:
    """Drop background-related classes from an object set (the paper's Sec. 4.5.1 ablation).

    A class is background when the whole phrase or its head noun (last word)
    is a background term: "basketball court" goes with "court", "wall clock"
    stays. `background_terms` replaces the default scene words;
    `scene_objects` (e.g. a dataset's scene-object names) are added to them.
    """
    terms = DEFAULT_BACKGROUND_TERMS if background_terms is None else tuple(background_terms)
    words = {" ".join(str(t).lower().split()) for t in (*terms, *scene_objects)}
    words.discard("")
    kept, removed = [], []
    for name in objects:
        key = " ".join(str(name).lower().split())
        head = key.split()[-1] if key else ""
        (removed if key in words or head in words else kept).append(name)
    return BackgroundSplit(kept, removed)


# ---------------------------------------------------------------------- compute


def compute_accounting(
    result: Any,
    *,
    inference_ms_per_clip: float | None = None,
    clips: int | None = None,
) -> dict[str, Any]:
    """Table 9's cost columns for one ICRL run.

    `result` is an `ICRLResult`, its summary dict or a run folder (its
    summary.json is read). Search time is the environment's time of every
    trial plus the policy's time; `inference_ms_per_clip` is measured by the
    caller (e.g. the test-split evaluation's wall time / clips).
    """
    summary: Mapping[str, Any]
    if isinstance(result, (str, Path)):
        path = Path(result) / "summary.json" if Path(result).is_dir() else Path(result)
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BadInputError("no ICRL summary here", source=path) from None
        except ValueError as exc:
            raise BadInputError(f"unreadable summary ({exc})", source=path) from None
    elif isinstance(result, Mapping):
        summary = result
    else:
        summary = result.summary
    seconds = float(summary.get("search_seconds") or 0.0)
    trials = int(summary.get("completed") or 0)
    out: dict[str, Any] = {
        "policy": (summary.get("policy") or {}).get("label"),
        "search_seconds": seconds,
        "search_hours": seconds / 3600.0,
        "trials": trials,
        "failed_trials": int(summary.get("failed") or 0),
        "seconds_per_trial": seconds / trials if trials else None,
        "inference_ms_per_clip": None,
        "clips": clips,
    }
    if inference_ms_per_clip is not None:
        value = float(inference_ms_per_clip)
        if not (math.isfinite(value) and value >= 0):
            raise BadInputError(f"must be >= 0, got {value}", where="inference_ms_per_clip")
        out["inference_ms_per_clip"] = value
    return out


__all__ = [
    "DEFAULT_BACKGROUND_TERMS",
    "BackgroundSplit",
    "PairedTest",
    "RepeatedRuns",
    "RunStats",
    "compare_runs",
    "comparison_table",
    "compute_accounting",
    "paired_t_test",
    "regularized_beta",
    "remove_background",
    "repeated_runs",
    "summarize_runs",
    "t_two_sided_p",
]
