"""The report's "Mimetic accuracy by class" section: which classes a model loses out of context.

Mimetic accuracy is one number per model, and on Mimetics-style data it hides
the structure that explains it: classes recognised by their object or scene
drop to chance while the others hold up, and each lost class is mostly taken
by one other class (a squat without its dumbbell becomes "standing up"). The
section pools each model's seeds (runs that share name, frames and protocol),
so a cell is "right in k of n videos over all seeds", with a bootstrap
interval that resamples whole videos (the seeds share them), and names the
first model's most frequent wrong answer per class.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from actionbias.errors import BadInputError
from actionbias.metrics import ClassAccuracy, class_accuracy
from actionbias.report import plots
from actionbias.report.cells import Styles, estimate_cell, swatch
from actionbias.report.markup import Column, Section, figure, how, join, table, tag
from actionbias.report.numbers import pct
from actionbias.report.runs import ReportRun

N_BOOT = 500
MAX_ROWS = 40  # classes drawn; Kinetics-400 audits show the extremes


def _pooled(runs: Sequence[ReportRun]) -> tuple[list[str], list[ClassAccuracy]] | None:
    """Per-class accuracy over the mimetic rows of several runs of one model."""
    ids: list[str] = []
    labels, predictions = [], []
    classes: list[str] | None = None
    for run in runs:
        found = run.mimetic_group()
        if found is None:
            continue
        try:
            table_ = run.predictions()
        except BadInputError:
            continue  # a run without predictions keeps its figures elsewhere in the report
        if classes is not None and table_.classes != classes:
            continue  # another class list cannot be pooled with the first
        mask = np.array([d == found[0] for d in table_.datasets], dtype=bool)
        if not mask.any():
            continue
        classes = table_.classes
        sub = table_.subset(mask)
        ids += sub.ids
        labels.append(sub.labels)
        predictions.append(sub.predictions)
    if classes is None:
        return None
    rows = class_accuracy(
        np.concatenate(predictions),
        np.concatenate(labels),
        classes,
        N_BOOT,
        0,
        clusters={"video": ids},
    )
    return classes, rows


def _models(runs: Sequence[ReportRun]) -> dict[tuple[str, int | None, str], list[ReportRun]]:
    """Runs grouped by model: same name, frames and protocol (seeds differ only by seed)."""
    models: dict[tuple[str, int | None, str], list[ReportRun]] = {}
    for run in runs:
        if run.mimetic_group() is not None:
            models.setdefault((run.name, run.frames, run.protocol), []).append(run)
    return models


def _shown(order: list[ClassAccuracy]) -> tuple[list[ClassAccuracy], int]:
    """All rows, or the first model's weakest and strongest halves of MAX_ROWS."""
    if len(order) <= MAX_ROWS:
        return order, 0
    half = MAX_ROWS // 2
    return order[:half] + order[-half:], len(order) - 2 * half


def _titles(keys: Sequence[tuple[str, int | None, str]]) -> list[str]:
    """Model names, with frames and protocol only where the name alone is ambiguous."""
    titles = []
    for name, frames, protocol in keys:
        same = [k for k in keys if k[0] == name]
        extra = []
        if len({k[1] for k in same}) > 1:
            extra.append(f"{frames} frames")
        if len({k[2] for k in same}) > 1:
            extra.append(protocol)
        titles.append(f"{name} ({', '.join(extra)})" if extra else name)
    return titles


def context_section(
    runs: Sequence[ReportRun], styles: Styles, first: str | None = None
) -> Section | None:
    """The section, or None without mimetic rows; ``first`` (the baseline) leads when present."""
    models = _models(runs)
    pooled = {key: _pooled(group) for key, group in models.items()}
    pooled = {key: value for key, value in pooled.items() if value is not None}
    if not pooled:
        return None
    keys = sorted(pooled, key=lambda k: k[0] != first)  # stable: run order otherwise
    first_classes = pooled[keys[0]][0]
    keys = [k for k in keys if pooled[k][0] == first_classes]
    titles = _titles(keys)
    by_model = [{r.class_name: r for r in pooled[k][1]} for k in keys]
    order = sorted(by_model[0].values(), key=lambda r: (r.top1.value, r.class_name))
    shown, hidden = _shown(order)
    grid = np.array(
        [
            [rows[r.class_name].top1.value if r.class_name in rows else np.nan for rows in by_model]
            for r in shown
        ]
    )
    png = plots.class_accuracy_heatmap([r.class_name for r in shown], titles, grid)
    columns = [Column("True class"), Column("n", True, "the first model's videos, all its runs")]
    for key, title in zip(keys, titles, strict=True):
        runs_of = len(models[key])
        tip = f"accuracy (%) over {runs_of} run{'s' if runs_of != 1 else ''}, 95 % interval"
        columns.append(Column(join([swatch(styles.of(models[key][0])), title]), True, tip))
    columns.append(Column(f"{titles[0]}: most frequent wrong answer"))
    body = []
    for row in shown:
        cells: list[object] = [row.class_name, row.n]
        for rows in by_model:
            found = rows.get(row.class_name)
            cells.append(estimate_cell(found.top1.as_dict()) if found else "")
        if row.confused_with is None:
            cells.append(tag("span", "none", cls="muted"))
        else:
            cells.append(f"{row.confused_with} ({pct(row.confused_n / row.n)} %)")
        body.append(cells)
    chance = models[keys[0]][0].chance
    chance_note = f" Chance is {pct(chance)} %." if chance is not None else ""
    hidden_note = (
        f" Only the first model's {MAX_ROWS // 2} weakest and {MAX_ROWS // 2} strongest "
        f"classes are shown ({hidden} not shown)."
        if hidden
        else ""
    )
    text = how(
        "each model's accuracy on the mimetic videos (the action without its usual scene "
        "or object) of each true class, pooled over the model's seeds; rows start with the "
        "first model's weakest classes. A class far below the others is one the model "
        "recognises by its context rather than by the motion; the table under the figure "
        f"gives 95 % intervals and what the first model answered instead.{chance_note}"
        f"{hidden_note}"
    )
    details = tag(
        "details",
        tag("summary", "Figures with 95 % intervals and the most frequent wrong answer"),
        table(columns, body, cls="data compact"),
    )
    return Section(
        "context",
        "Mimetic accuracy by class",
        join(
            [
                text,
                figure(
                    plots.data_uri(png),
                    "Mimetic accuracy per class and model",
                    "Mimetic accuracy (%) per true class (rows) and model (columns)",
                ),
                details,
            ]
        ),
    )
