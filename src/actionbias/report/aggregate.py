"""Grouping runs into the report's multi-run views: study tables, sweeps, baselines.

Pure bookkeeping over loaded runs (no HTML, no plotting), so the rules that
decide which runs form a Table 2/3 cell, a sweep curve or a paired comparison
are tested directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from actionbias.audit.predictions import PredictionTable
from actionbias.audit.summary import compare
from actionbias.errors import BadInputError
from actionbias.metrics.seeds import SeedSummary, seed_summary
from actionbias.report.runs import ReportRun

NO_AUGMENT = "none"
STUDY_METRICS = ("test", "shacc", "sberr", "mimetic")


def augment_of(run: ReportRun) -> str:
    return str(run.tags.get("augment") or NO_AUGMENT)


def model_key(run: ReportRun) -> str:
    """The model a run belongs to: its tags' model, else its name (colour key, table row)."""
    return str(run.tags.get("model") or run.name)


# --------------------------------------------------------------------------- study


@dataclass
class StudyCell:
    """One (model, augment, metric) cell: the runs' estimates, one per seed."""

    estimates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.estimates)

    def seeds(self) -> SeedSummary | None:
        return seed_summary([e.get("value") for e in self.estimates])


@dataclass
class StudyTable:
    """Table 2/3 analogue: models (rows) x augment settings x metrics."""

    models: list[str]
    augments: list[str]
    cells: dict[tuple[str, str, str], StudyCell]
    seeds: dict[tuple[str, str], list[object]]

    def cell(self, model: str, augment: str, metric: str) -> StudyCell:
        return self.cells.get((model, augment, metric), StudyCell())

    @property
    def multi_seed(self) -> bool:
        return any(len(s) > 1 for s in self.seeds.values())


def study_table(runs: Sequence[ReportRun], first_model: str | None = None) -> StudyTable | None:
    """Runs tagged with a model (the demo's runs) as Table 2/3; None when no run is tagged.

    Row order: `first_model` (the baseline) first, then models in the order their
    first run appears; augment columns: "none" first, then the others sorted.
    """
    tagged = [r for r in runs if "model" in r.tags]
    if not tagged:
        return None
    models: list[str] = []
    for run in tagged:
        if model_key(run) not in models:
            models.append(model_key(run))
    if first_model in models:
        models.remove(first_model)
        models.insert(0, first_model)  # type: ignore[arg-type]
    augments = sorted({augment_of(r) for r in tagged}, key=lambda a: (a != NO_AUGMENT, a))
    cells: dict[tuple[str, str, str], StudyCell] = {}
    seeds: dict[tuple[str, str], list[object]] = {}
    for run in tagged:
        key = (model_key(run), augment_of(run))
        seeds.setdefault(key, []).append(run.tags.get("seed"))
        for metric in STUDY_METRICS:
            estimate = run.figure(metric)
            if estimate is not None and estimate.get("value") is not None:
                cells.setdefault((*key, metric), StudyCell()).estimates.append(estimate)
    return StudyTable(models, augments, cells, seeds)


# --------------------------------------------------------------------------- sweeps


@dataclass
class SweepLine:
    """One model's runs at several frame counts, ordered by frames."""

    key: str
    label: str
    runs: list[ReportRun]

    @property
    def frames(self) -> list[int]:
        return [r.frames for r in self.runs]  # type: ignore[misc]


def frame_sweeps(runs: Sequence[ReportRun]) -> list[SweepLine]:
    """Figure 1b families: runs of one model (and seed) at two or more frame counts.

    A run counts when its config says `sweep.axis == "frames"` or when another
    run of the same name has a different `frames`. Only runs with swap figures
    can be drawn. When two runs share (model, seed, frames) the first one wins,
    so a duplicate never draws a zigzag.
    """
    by_name: dict[str, set[int]] = {}
    for run in runs:
        if run.frames is not None:
            by_name.setdefault(run.name, set()).add(run.frames)
    lines: dict[str, SweepLine] = {}
    seeds_per_name: dict[str, set[object]] = {}
    for run in runs:
        seeds_per_name.setdefault(run.name, set()).add(run.tags.get("seed"))
    for run in runs:
        if run.frames is None or run.figure("shacc") is None:
            continue
        if run.sweep.get("axis") != "frames" and len(by_name.get(run.name, ())) < 2:
            continue
        seed = run.tags.get("seed")
        several = len(seeds_per_name[run.name]) > 1
        key = f"{run.name}\x00{seed}" if several else run.name
        label = f"{run.name} (seed {seed})" if several else run.name
        line = lines.setdefault(key, SweepLine(key, label, []))
        if all(r.frames != run.frames for r in line.runs):
            line.runs.append(run)
    out = []
    for line in lines.values():
        line.runs.sort(key=lambda r: r.frames)
        if len(line.runs) >= 2:
            out.append(line)
    return out


# --------------------------------------------------------------------------- baseline


def baseline_runs(runs: Sequence[ReportRun], baseline: str) -> list[ReportRun]:
    """Runs whose name (or display label) is `baseline`; a clear error when none is."""
    found = [r for r in runs if baseline in (r.name, r.label)]
    if not found:
        names = ", ".join(sorted({r.name for r in runs}))
        raise BadInputError(
            f"baseline {baseline!r} is not among the runs ({names})", where="baseline"
        )
    return found


def pair_with_baseline(run: ReportRun, candidates: Sequence[ReportRun]) -> ReportRun:
    """The baseline run to compare `run` with: same seed tag when there is one, else the first."""
    seed = run.tags.get("seed")
    for candidate in candidates:
        if seed is not None and candidate.tags.get("seed") == seed:
            return candidate
    return candidates[0]


def _on_classes(table: PredictionTable, classes: list[str]) -> PredictionTable:
    """The same table with labels re-indexed into `classes` (a superset of its own)."""
    index = np.array([classes.index(c) for c in table.classes], dtype=np.int64)

    def remap(values: np.ndarray) -> np.ndarray:
        return np.where(values >= 0, index[np.clip(values, 0, None)], values)

    return PredictionTable(
        ids=table.ids,
        labels=remap(table.labels),
        predictions=remap(table.predictions),
        backgrounds=remap(table.backgrounds),
        datasets=table.datasets,
        classes=classes,
        scores=None,
        source=table.source,
    )


def paired(run: ReportRun, base: ReportRun, n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """`audit.compare` of run minus baseline on their shared videos.

    Runs with different class lists (e.g. a model audited on a class subset)
    are compared by class name on the union list.
    """
    a, b = run.predictions(), base.predictions()
    if a.classes != b.classes:
        union = sorted(set(a.classes) | set(b.classes))
        a, b = _on_classes(a, union), _on_classes(b, union)
    return compare(a, b, n_boot=n_boot, seed=seed)
