"""Audit run directories as the report sees them: loaded once, checked, labelled.

The report is the last step of long runs, so a bad folder must fail with one
line naming the folder and the missing or broken file rather than with a
traceback from deep inside a plot. Everything the sections need is read here
(config, metrics, skipped videos); per-video predictions are read lazily,
once, for paired comparisons and the per-class mimetic section.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actionbias.audit.predictions import PredictionTable
from actionbias.audit.rundir import CONFIG, SKIPPED, load_table
from actionbias.audit.rundir import METRICS_JSON as METRICS
from actionbias.errors import BadInputError

# Group names the audit runner and the demo write; the first present wins.
IN_DISTRIBUTION_GROUPS = ("test", "val", "validation", "all")
MIMETIC_GROUPS = ("mimetic", "mimetics")
SWAP_GROUPS = ("swap", "action_swap", "hat_swap")
FIGURES_SWAP = ("shacc", "sberr", "other")
FIGURES = ("test", *FIGURES_SWAP, "mimetic")


@dataclass(frozen=True)
class SkippedVideo:
    id: str
    path: str
    reason: str


@dataclass
class ReportRun:
    """One audit run directory, read and validated."""

    path: Path
    config: dict[str, Any]
    metrics: dict[str, Any]
    skipped: list[SkippedVideo] = field(default_factory=list)
    label: str = ""  # unique display label, set by `label_runs`
    _table: PredictionTable | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        return str(self.config.get("name") or self.path.name)

    @property
    def protocol(self) -> str:
        return str(self.config.get("protocol") or "all")

    @property
    def frames(self) -> int | None:
        value = self.config.get("frames")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def tags(self) -> dict[str, Any]:
        tags = self.config.get("tags")
        return tags if isinstance(tags, dict) else {}

    @property
    def sweep(self) -> dict[str, Any]:
        sweep = self.config.get("sweep")
        return sweep if isinstance(sweep, dict) else {}

    @property
    def groups(self) -> dict[str, dict[str, Any]]:
        groups = self.metrics.get("summary", {}).get("groups", {})
        return groups if isinstance(groups, dict) else {}

    @property
    def num_classes(self) -> int | None:
        value = self.metrics.get("summary", {}).get("classes")
        return value if isinstance(value, int) and value > 0 else None

    @property
    def chance(self) -> float | None:
        """Accuracy of a uniform guess: 1/5 for the 5-choice MCQ, 1/N over N classes."""
        if self.protocol == "mcq":
            return 0.2
        n = self.num_classes
        return 1.0 / n if n else None

    def group(self, names: Sequence[str]) -> tuple[str, dict[str, Any]] | None:
        for name in names:
            if name in self.groups:
                return name, self.groups[name]
        return None

    def in_distribution(self) -> tuple[str, dict[str, Any]] | None:
        """The in-distribution accuracy group: test (or val/all) without swap rows."""
        for name in IN_DISTRIBUTION_GROUPS:
            g = self.groups.get(name)
            if g is not None and "swap" not in g:
                return name, g
        return None

    def swap_group(self) -> tuple[str, dict[str, Any]] | None:
        """The Action-Swap group: a conventional name first, else any group with swap rows."""
        found = self.group(SWAP_GROUPS)
        if found is not None and "swap" in found[1]:
            return found
        for name in sorted(self.groups):
            if "swap" in self.groups[name]:
                return name, self.groups[name]
        return None

    def mimetic_group(self) -> tuple[str, dict[str, Any]] | None:
        return self.group(MIMETIC_GROUPS)

    def figure(self, metric: str) -> dict[str, Any] | None:
        """One headline estimate dict (value/low/high/n) or None when the run lacks it.

        `metric`: "test" (in-distribution top-1), "shacc", "sberr", "other"
        (on the swap group) or "mimetic" (top-1 on the mimetic group).
        """
        if metric in FIGURES_SWAP:
            found = self.swap_group()
            estimate = found[1]["swap"].get(metric) if found else None
        elif metric == "test":
            found = self.in_distribution()
            estimate = found[1].get("top1") if found else None
        elif metric == "mimetic":
            found = self.mimetic_group()
            estimate = found[1].get("top1") if found else None
        else:
            raise ValueError(f"unknown figure {metric!r}")
        return estimate if isinstance(estimate, dict) else None

    def _count(self, key: str, group_key: str) -> int:
        """``metrics[key]``, or the groups' ``group_key`` summed (older metrics lack it)."""
        value = self.metrics.get(key)
        if isinstance(value, int):
            return value
        return sum(int(g.get(group_key, 0)) for g in self.groups.values())

    @property
    def videos(self) -> int:
        return self._count("videos", "n")

    @property
    def skipped_count(self) -> int:
        value = self.metrics.get("skipped")
        return value if isinstance(value, int) else len(self.skipped)

    @property
    def no_answer(self) -> int:
        return self._count("no_answer", "no_answer")

    def skip_reasons(self) -> list[tuple[str, int]]:
        """(reason, count), most frequent first, ties by reason text (stable output)."""
        counts = Counter(item.reason for item in self.skipped)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def predictions(self) -> PredictionTable:
        """Per-video predictions (all shard files merged), read once per report.

        The baseline is compared with every run of its seed and the mimetic
        section pools every run, so the table is kept; callers never modify it.
        """
        if self._table is None:
            self._table = load_table(self.path)
        return self._table


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise BadInputError(f"not valid JSON ({err.msg})", path, f"line {err.lineno}") from None
    except UnicodeDecodeError:
        raise BadInputError("not UTF-8 text", path) from None
    if not isinstance(data, dict):
        raise BadInputError("must hold a JSON object", path)
    return data


def _read_skipped(path: Path) -> list[SkippedVideo]:
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    items: list[SkippedVideo] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            # A kill can truncate the last appended line; anything else is corruption.
            if lineno == len(lines):
                break
            raise BadInputError("not JSON", path, f"line {lineno}") from None
        if not isinstance(row, dict):
            raise BadInputError("each line must be a JSON object", path, f"line {lineno}")
        items.append(
            SkippedVideo(str(row.get("id", "")), str(row.get("path", "")), str(row.get("reason")))
        )
    return items


def load_run(path: str | Path) -> ReportRun:
    """Read one run directory; a missing or broken file is a one-line BadInputError."""
    path = Path(path)
    if not path.is_dir():
        raise BadInputError("run directory not found", path)
    for required in (CONFIG, METRICS):
        if not (path / required).is_file():
            hint = (
                " (unfinished run? rerun the audit to finalize it)" if required == METRICS else ""
            )
            raise BadInputError(f"missing {required}{hint}", path)
    config = _read_json_object(path / CONFIG)
    metrics = _read_json_object(path / METRICS)
    summary = metrics.get("summary")
    if not isinstance(summary, dict) or not isinstance(summary.get("groups"), dict):
        raise BadInputError("no summary.groups object", path / METRICS, "field summary")
    for name, group in summary["groups"].items():
        if not isinstance(group, dict):
            raise BadInputError("must be an object", path / METRICS, f"field summary.groups.{name}")
    return ReportRun(
        path=path, config=config, metrics=metrics, skipped=_read_skipped(path / SKIPPED)
    )


def is_run_dir(path: Path) -> bool:
    return (path / CONFIG).is_file() and (path / METRICS).is_file()


def natural_key(path: Path) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders "f2" before "f16" (numbers compared as numbers)."""
    parts = re.split(r"(\d+)", path.as_posix())
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def collect_run_dirs(paths: Iterable[str | Path]) -> list[Path]:
    """Run directories named directly or found below the given folders.

    A given path that is itself a run dir is taken as is; otherwise every folder
    below it holding config.json and metrics.json is collected, sorted by path
    (numbers in names compared as numbers: f2 before f16) so that the same tree
    always gives the same report. The order of the given
    paths is kept, duplicates are dropped.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        root = Path(raw)
        if not root.exists():
            raise BadInputError("no such file or directory", root)
        if not root.is_dir():
            raise BadInputError("not a directory (expected an audit run directory)", root)
        if is_run_dir(root):
            candidates = [root]
        else:
            candidates = sorted(
                (p.parent for p in root.rglob(METRICS) if is_run_dir(p.parent)), key=natural_key
            )
            if not candidates:
                missing = CONFIG if not (root / CONFIG).is_file() else METRICS
                if (root / CONFIG).is_file() or (root / METRICS).is_file():
                    raise BadInputError(f"missing {missing}", root)
                raise BadInputError(
                    f"no audit run directory ({CONFIG} + {METRICS}) in or below this folder", root
                )
        for candidate in candidates:
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                found.append(candidate)
    return found


def label_runs(runs: list[ReportRun]) -> None:
    """Give each run a unique display label: its name, disambiguated only when needed.

    Several seeds of one model share a name, and so do the points of a frame
    sweep; the seed tag and the frame count tell them apart, the folder name
    is the last resort.
    """
    by_name: dict[str, list[ReportRun]] = {}
    for run in runs:
        by_name.setdefault(run.name, []).append(run)
    labels: list[str] = []
    for run in runs:
        same = by_name[run.name]
        extra = []
        if len(same) > 1:
            if "seed" in run.tags and len({str(r.tags.get("seed")) for r in same}) > 1:
                extra.append(f"seed {run.tags['seed']}")
            if len({r.frames for r in same}) > 1 and run.frames is not None:
                extra.append(f"{run.frames} frame{'s' if run.frames != 1 else ''}")
        labels.append(f"{run.name} ({', '.join(extra)})" if extra else run.name)
    again = Counter(labels)
    for run, label in zip(runs, labels, strict=True):
        run.label = f"{label} [{run.path.name}]" if again[label] > 1 else label
