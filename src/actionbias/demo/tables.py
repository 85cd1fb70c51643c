"""The Table 2 / Table 3 analogue of "Seeing Beyond the Scene", with intervals.

Table 2 compares the five classifiers trained without augmentation (in-
distribution accuracy, SHAcc and SBErr on the swap split, mimetic accuracy);
Table 3 puts each model beside its scene-swap-trained twin. Every cell carries
its uncertainty, because on SynthAct's 60-100 evaluation videos per split a
gap of a few points is often noise:

* one seed: the audit's 95 % percentile bootstrap over videos (from
  ``metrics.json``, so the table and the HTML report show the same interval);
* several seeds: mean over seeds with a 95 % Student t interval on the per-seed
  values (``actionbias.metrics.seeds.seed_summary``, again shared with the
  report), ``n`` = number of seeds. Bootstrap intervals are not pooled across
  seeds: the seed-to-seed spread is the larger and the more honest source of
  uncertainty for "does this training recipe cut SBErr".

The same cells are written three ways: CSV (fractions, one row per cell, for
scripts), JSON (everything, including the per-seed values) and Markdown (percent,
the change from the baseline in parentheses as in the paper).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actionbias.errors import BadInputError
from actionbias.fileio import atomic_write_text
from actionbias.metrics.seeds import seed_summary
from actionbias.report.numbers import pct

NO_AUGMENT = "none"
SCENE_SWAP = "scene-swap"
LEVEL = 0.95

#: (key, column title, higher is better) of the four figures of the paper's tables.
METRICS: tuple[tuple[str, str, bool], ...] = (
    ("test_acc", "Test acc", True),
    ("swap_shacc", "Swap SHAcc", True),
    ("swap_sberr", "Swap SBErr", False),
    ("mimetic_acc", "Mimetic acc", True),
)
METRIC_KEYS = tuple(key for key, _, _ in METRICS)
CSV_FIELDS = ("table", "model", "augment", "metric", "value", "low", "high", "n", "seeds", "method")


@dataclass(frozen=True)
class RunFigures:
    """The four figures of one evaluated run (one model, augment setting and seed).

    ``figures`` maps a `METRIC_KEYS` entry to an estimate dict ``{"value", "low",
    "high", "n"}`` (fractions; low/high the bootstrap interval over videos).
    """

    model: str
    augment: str
    seed: int
    figures: Mapping[str, Mapping[str, Any]]
    num_classes: int | None = None
    source: str = ""


@dataclass
class Cell:
    """One table cell: a value with its interval, and how the interval was made."""

    value: float | None
    low: float | None
    high: float | None
    n: int
    """Videos (one seed) or seeds (several)."""
    method: str
    """``bootstrap`` (one seed, over videos), ``t`` (over seeds) or ``none``."""
    per_seed: list[float | None] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "n": self.n,
            "method": self.method,
            "level": LEVEL,
            "seeds": self.seeds,
            "per_seed": self.per_seed,
        }

    @property
    def half_width(self) -> float | None:
        if self.method != "t" or self.value is None or self.high is None:
            return None
        return self.high - self.value

    def text(self, baseline: Cell | None = None) -> str:
        """Percent with the interval, and the change from ``baseline`` in parentheses."""
        if self.value is None:
            return "–"
        if self.method == "t":
            text = f"{pct(self.value)} ± {pct(self.half_width)}"
        elif self.low is not None and self.high is not None:
            text = f"{pct(self.value)} [{pct(self.low)}, {pct(self.high)}]"
        else:
            text = pct(self.value)
        if baseline is not None and baseline is not self and baseline.value is not None:
            text += f" ({pct(self.value - baseline.value, signed=True)})"
        return text


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def figures_from_metrics(metrics: Mapping[str, Any], source: str = "") -> dict[str, dict[str, Any]]:
    """The four figures from an audit ``metrics.json`` (groups test, swap and mimetic).

    A missing group is an error naming the file: a demo table with a silently
    empty column would read as "no effect".
    """
    groups = (metrics.get("summary") or {}).get("groups") or {}

    def need(group: str) -> Mapping[str, Any]:
        g = groups.get(group)
        if not isinstance(g, Mapping):
            raise BadInputError(f"no {group!r} group in the audit metrics", source=source or None)
        return g

    swap = need("swap").get("swap")
    if not isinstance(swap, Mapping):
        raise BadInputError("the 'swap' group has no swap figures", source=source or None)
    return {
        "test_acc": dict(need("test")["top1"]),
        "swap_shacc": dict(swap["shacc"]),
        "swap_sberr": dict(swap["sberr"]),
        "mimetic_acc": dict(need("mimetic")["top1"]),
    }


def load_run_figures(run_dir: str | Path) -> RunFigures:
    """`RunFigures` of one demo audit run directory (its ``metrics.json`` and tags)."""
    path = Path(run_dir) / "metrics.json"
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInputError("audit run has no metrics (not finished)", source=path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BadInputError(f"invalid JSON ({err})", source=path) from None
    tags = (metrics.get("run") or {}).get("tags") or {}
    missing = [key for key in ("model", "augment", "seed") if key not in tags]
    if missing:
        raise BadInputError(f"run config lacks the demo tag(s) {missing}", source=path)
    return RunFigures(
        model=str(tags["model"]),
        augment=str(tags["augment"]),
        seed=int(tags["seed"]),
        figures=figures_from_metrics(metrics, str(path)),
        num_classes=(metrics.get("summary") or {}).get("classes"),
        source=str(path.parent),
    )


def combine(estimates: Sequence[Mapping[str, Any]], seeds: Sequence[int]) -> Cell:
    """One cell from the runs of one (model, augment, metric), one estimate per seed."""
    if len(estimates) != len(seeds):
        raise ValueError(f"{len(estimates)} estimates for {len(seeds)} seeds")
    values = [_finite(e.get("value")) for e in estimates]
    if len(estimates) == 1:
        e = estimates[0]
        value, low, high = values[0], _finite(e.get("low")), _finite(e.get("high"))
        method = "bootstrap" if value is not None and low is not None else "none"
        return Cell(value, low, high, int(e.get("n") or 0), method, values, list(seeds))
    summary = seed_summary(values, LEVEL)
    if summary is None:
        return Cell(None, None, None, 0, "none", values, list(seeds))
    estimate = summary.as_estimate()
    return Cell(
        summary.mean,
        _finite(estimate["low"]),
        _finite(estimate["high"]),
        summary.n,
        "t" if summary.half_width is not None else "none",
        values,
        list(seeds),
    )


@dataclass
class DemoTables:
    """Cells of both tables: ``cells[(model, augment)][metric]``."""

    models: list[str]
    augments: list[str]
    cells: dict[tuple[str, str], dict[str, Cell]]
    seeds: list[int]
    baseline: str
    num_classes: int | None
    videos: dict[str, int]
    """Videos per evaluation figure (from the first run; every run sees the same)."""

    @property
    def chance(self) -> float | None:
        """Accuracy (and SBErr) of a uniform random guess: 1 / classes."""
        return 1.0 / self.num_classes if self.num_classes else None

    def cell(self, model: str, augment: str, metric: str) -> Cell | None:
        return self.cells.get((model, augment), {}).get(metric)

    # ------------------------------------------------------------------ rows

    def table2_rows(self) -> list[tuple[str, dict[str, Cell]]]:
        return [
            (m, self.cells[(m, NO_AUGMENT)]) for m in self.models if (m, NO_AUGMENT) in self.cells
        ]

    def _interval_note(self) -> str:
        if len(self.seeds) > 1:
            return (
                f"mean ± 95 % Student t interval over {len(self.seeds)} training seeds "
                f"({', '.join(map(str, self.seeds))})"
            )
        return (
            f"95 % bootstrap interval over videos in brackets (one training seed, {self.seeds[0]})"
        )

    def _footer(self) -> list[str]:
        videos = ", ".join(f"{name} {n}" for name, n in self.videos.items())
        lines = [
            f"Percent; {self._interval_note()}; change from the {self.baseline} row in "
            "parentheses.",
            f"Videos per figure: {videos}.",
        ]
        if self.chance is not None:
            lines.append(
                f"Chance: {pct(self.chance)} % ({self.num_classes} classes): a uniform random "
                f"guess is right, and names the background's class, 1 time in {self.num_classes}."
            )
        return lines

    # ------------------------------------------------------------------ markdown

    def table2_markdown(self) -> str:
        header = ["Model", *(f"{title} {'↑' if up else '↓'}" for _, title, up in METRICS)]
        lines = [
            "**Table 2 (SynthAct analogue).** Mitigation models, no augmentation.",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "|".join(["---", *["---:"] * len(METRICS)]) + "|",
        ]
        base = self.cells.get((self.baseline, NO_AUGMENT), {})
        for model, row in self.table2_rows():
            texts = [
                row[key].text(base.get(key) if model != self.baseline else None)
                for key in METRIC_KEYS
            ]
            lines.append("| " + " | ".join([model, *texts]) + " |")
        lines += ["", *self._footer()]
        return "\n".join(lines) + "\n"

    def table3_markdown(self) -> str:
        """One row per (model, augment), the augmented row right under its twin.

        The paper puts the two settings side by side (eight columns); with an
        interval in every cell that no longer fits a terminal, so here they are
        stacked and the change the augmentation makes is in parentheses.
        """
        header = ["Model", "Training data"]
        header += [f"{title} {'↑' if up else '↓'}" for _, title, up in METRICS]
        lines = [
            "**Table 3 (SynthAct analogue).** Each model without and with scene-swap "
            "augmentation (training set doubled with every person pasted on a random scene).",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "|".join(["---", "---", *["---:"] * len(METRICS)]) + "|",
        ]
        for model in self.models:
            plain = self.cells.get((model, NO_AUGMENT), {})
            for augment in self.augments:
                row = self.cells.get((model, augment))
                if row is None:
                    continue
                reference = plain if augment != NO_AUGMENT else {}
                texts = [row[key].text(reference.get(key)) for key in METRIC_KEYS]
                data = "original" if augment == NO_AUGMENT else f"+ {augment}"
                lines.append("| " + " | ".join([model, data, *texts]) + " |")
        footer = self._footer()
        footer[0] = footer[0].replace(
            f"change from the {self.baseline} row",
            "change from the same model trained on the original data",
        )
        lines += ["", *footer]
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------------ csv / json

    def _csv_rows(self, table: str, keys: Iterable[tuple[str, str]]) -> list[list[Any]]:
        rows = []
        for model, augment in keys:
            for metric in METRIC_KEYS:
                cell = self.cell(model, augment, metric)
                if cell is None:
                    continue
                rows.append(
                    [
                        table,
                        model,
                        augment,
                        metric,
                        *(
                            "" if v is None else repr(float(v))
                            for v in (cell.value, cell.low, cell.high)
                        ),
                        cell.n,
                        " ".join(map(str, cell.seeds)),
                        cell.method,
                    ]
                )
        return rows

    def _table_keys(self, table: str) -> list[tuple[str, str]]:
        augments = [NO_AUGMENT] if table == "table2" else self.augments
        return [(m, a) for m in self.models for a in augments if (m, a) in self.cells]

    def csv_text(self, table: str) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_FIELDS)
        writer.writerows(self._csv_rows(table, self._table_keys(table)))
        return buffer.getvalue()

    def json_data(self, table: str) -> dict[str, Any]:
        return {
            "table": table,
            "title": "Table 2 analogue" if table == "table2" else "Table 3 analogue",
            "metrics": [
                {"key": key, "title": title, "higher_is_better": up} for key, title, up in METRICS
            ],
            "baseline": self.baseline,
            "seeds": self.seeds,
            "level": LEVEL,
            "interval": "t over seeds" if len(self.seeds) > 1 else "bootstrap over videos",
            "classes": self.num_classes,
            "chance": self.chance,
            "videos": self.videos,
            "rows": [
                {
                    "model": model,
                    "augment": augment,
                    "cells": {
                        metric: cell.as_dict()
                        for metric, cell in self.cells[(model, augment)].items()
                    },
                }
                for model, augment in self._table_keys(table)
            ],
        }

    def markdown(self, table: str) -> str:
        return self.table2_markdown() if table == "table2" else self.table3_markdown()

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """``table2.{csv,md,json}`` and ``table3.*`` in ``out_dir``; their paths by name."""
        out = Path(out_dir)
        paths: dict[str, Path] = {}
        for table in ("table2", "table3"):
            for ext, text in (
                ("csv", self.csv_text(table)),
                ("md", self.markdown(table)),
                ("json", json.dumps(_json_safe(self.json_data(table)), indent=2) + "\n"),
            ):
                path = out / f"{table}.{ext}"
                atomic_write_text(path, text)
                paths[f"{table}.{ext}"] = path
        return paths


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def build_tables(
    runs: Sequence[RunFigures],
    baseline: str = "baseline",
    models: Sequence[str] | None = None,
) -> DemoTables:
    """Group runs by (model, augment) and combine their seeds into cells.

    ``models`` fixes the row order (default: order of first appearance, baseline
    first). Two runs of the same (model, augment, seed) are an error: a table
    that averaged a run with itself would overstate its certainty.
    """
    if not runs:
        raise ValueError("build_tables needs at least one run")
    order = list(models) if models else []
    for run in runs:
        if run.model not in order:
            order.append(run.model)
    if baseline in order:
        order.remove(baseline)
        order.insert(0, baseline)
    augments = sorted({r.augment for r in runs}, key=lambda a: (a != NO_AUGMENT, a))
    grouped: dict[tuple[str, str], list[RunFigures]] = {}
    for run in runs:
        group = grouped.setdefault((run.model, run.augment), [])
        if any(other.seed == run.seed for other in group):
            raise BadInputError(
                f"two runs of {run.model} ({run.augment}) with seed {run.seed}",
                source=run.source or None,
            )
        group.append(run)
    cells: dict[tuple[str, str], dict[str, Cell]] = {}
    for key, group in grouped.items():
        group.sort(key=lambda r: r.seed)
        seeds = [r.seed for r in group]
        cells[key] = {
            metric: combine([r.figures[metric] for r in group], seeds) for metric in METRIC_KEYS
        }
    first = runs[0]
    videos = {
        "test": int(first.figures["test_acc"].get("n") or 0),
        "swap": int(first.figures["swap_sberr"].get("n") or 0),
        "mimetic": int(first.figures["mimetic_acc"].get("n") or 0),
    }
    all_seeds = sorted({r.seed for r in runs})
    return DemoTables(
        models=[m for m in order if any(k[0] == m for k in cells)],
        augments=augments,
        cells=cells,
        seeds=all_seeds,
        baseline=baseline,
        num_classes=first.num_classes,
        videos=videos,
    )
