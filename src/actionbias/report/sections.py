"""The report's sections about each run's figures: headline, swap, classes, frame sweep.

A section whose inputs are absent (no swap rows, no sweep, no tags, no
baseline) returns None and is left out, so the same code reports a single
CLIP audit and the full ten-model demo. Each section opens with one "how to
read this" line, because readers arrive from a link without the paper open.

The sections that compare runs are in `actionbias.report.comparisons`, the
provenance section in `actionbias.report.provenance`, and the notation they all
share in `actionbias.report.cells`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actionbias.report import plots
from actionbias.report.aggregate import frame_sweeps
from actionbias.report.cells import (
    CHANCE_LINE,
    FIGURE_ORDER,
    METRIC_TIPS,
    METRIC_TITLES,
    Styles,
    chance_text,
    common_chance,
    estimate_cell,
    interval,
    swatch,
)
from actionbias.report.markup import Column, Markup, Section, figure, how, join, table, tag
from actionbias.report.numbers import MISSING, ci_text, pct
from actionbias.report.runs import ReportRun

CLASS_EXTREMES = 5


# --------------------------------------------------------------------------- 1 headline


def headline(runs: Sequence[ReportRun], styles: Styles) -> Section:
    columns = [
        Column("Run"),
        Column("Protocol"),
        Column("Chance", True, "accuracy of a uniform random guess"),
        Column("Frames", True),
        Column("Videos", True, "videos scored"),
        Column("Skipped", True, "unreadable videos left out (see Provenance)"),
        Column("No answer", True, "replies that named no valid choice (counted as wrong)"),
    ] + [Column(f"{METRIC_TITLES[m]} (%)", True, METRIC_TIPS[m]) for m in FIGURE_ORDER]
    columns.append(
        Column(
            "Resampled",
            False,
            "what the swap intervals resample: videos, or the source clips that several "
            "swap videos share; no-person swap videos are reported apart",
        )
    )
    rows = []
    for run in runs:
        group_note = ""
        found = run.in_distribution()
        if found and found[0] != "test":
            group_note = found[0]
        cells: list[object] = [
            join([swatch(styles.of(run)), tag("span", run.label, cls="run-name")]),
            run.protocol,
            chance_text(run),
            MISSING if run.frames is None else run.frames,
            run.videos,
            tag("span", run.skipped_count, cls="warn" if run.skipped_count else None),
            tag("span", run.no_answer, cls="warn" if run.no_answer else None),
        ]
        for metric in FIGURE_ORDER:
            cell = estimate_cell(run.figure(metric))
            if metric == "test" and group_note:
                cell = join([cell, tag("span", f" ({group_note})", cls="ci")])
            cells.append(cell)
        cells.append(resampled_text(run))
        rows.append(cells)
    body = join(
        [
            how(
                "one row per audit run; every figure is a percentage with its 95 % bootstrap "
                "interval in brackets, resampled over videos or, where swap videos share a "
                "human or background clip, over those clips (last column). SHAcc is the share "
                "of Action-Swap videos (the human of class A on the scene of class B) predicted "
                "as A; SBErr the share "
                "predicted as B: lower SBErr is better, and SBErr above SHAcc means the scene "
                f"outweighs the person. Other = neither. {CHANCE_LINE}."
            ),
            table(columns, rows),
        ]
    )
    return Section("headline", "Results", body)


def resampled_text(run: ReportRun) -> str:
    """The swap group's resampled unit and clip counts, and its no-person videos set apart."""
    found = run.swap_group()
    if not found:
        return "video"
    plan = found[1].get("resampling") or {}
    unit = str(plan.get("unit") or "video")
    counts = [f"{plan[k]} {k.replace('_', ' ')}s" for k in unit.split(" x ") if k in plan]
    text = unit.replace("_", " ") + (f" ({', '.join(counts)})" if counts else "")
    apart = found[1].get("no_person")
    if isinstance(apart, dict) and apart.get("n"):
        text += f"; {apart['n']} no-person videos apart"
    return text


# --------------------------------------------------------------------------- 2 swap


def swap_section(runs: Sequence[ReportRun], styles: Styles) -> Section | None:
    swap_runs = [r for r in runs if r.figure("shacc") is not None]
    if not swap_runs:
        return None
    labels = [r.label for r in swap_runs]
    run_styles = [styles.of(r) for r in swap_runs]
    shacc = [interval(r.figure("shacc")) for r in swap_runs]
    sberr = [interval(r.figure("sberr")) for r in swap_runs]
    chance = common_chance(swap_runs)
    bars = plots.data_uri(plots.swap_bars(labels, run_styles, shacc, sberr, chance))
    scatter = plots.data_uri(plots.swap_scatter(labels, run_styles, shacc, sberr, chance))
    chance_note = (
        f"The dashed line is chance ({pct(chance)} %)."
        if chance is not None
        else "The runs have different chance levels (see the Results table), so none is drawn."
    )
    body = join(
        [
            how(
                "each model's SHAcc (solid bar) next to its SBErr (hatched bar), whiskers are "
                "95 % intervals. A model that watches the person has a tall solid bar and a "
                "short hatched one. In the scatter, better models sit towards the top-left "
                f"star; below the diagonal the scene wins. {chance_note}"
            ),
            figure(bars, "SHAcc and SBErr per model", "SHAcc vs SBErr per model"),
            figure(
                scatter,
                "SBErr against SHAcc per model",
                "SBErr (x) against SHAcc (y), 95 % intervals on both axes",
                cls="narrow",
            ),
        ]
    )
    return Section("swap", "Human vs scene on Action-Swap", body)


# --------------------------------------------------------------------------- 3 per class


def _class_rows(group: dict[str, Any]) -> list[plots.ClassBar]:
    rows = []
    for row in group.get("by_background", []):
        if not isinstance(row, dict) or row.get("sberr", {}).get("value") is None:
            continue
        rows.append(
            plots.ClassBar(
                str(row.get("class")),
                int(row.get("n", 0)),
                interval(row.get("sberr")),
                float(row.get("shacc", {}).get("value") or 0.0),
            )
        )
    return rows


def extremes(rows: Sequence[plots.ClassBar]) -> tuple[list[str], list[str]]:
    """The highest- and lowest-SBErr background classes: five each, never the same class.

    Ranked here rather than taken from the summary's lists because those may
    overlap (ties, or fewer than ten classes), and "lowest" must not repeat a
    "highest" class. Ties are broken by name, so the choice is stable.
    """
    k = max(1, min(CLASS_EXTREMES, len(rows) // 2))
    ranked = sorted(rows, key=lambda r: (-r.sberr.value, r.name))
    high = ranked[:k]
    rest = sorted(ranked[k:], key=lambda r: (r.sberr.value, r.name))
    return [r.name for r in high], [r.name for r in rest[:k]]


def _extremes_table(group: dict[str, Any], rows: Sequence[plots.ClassBar]) -> Markup:
    """Table 1 (right) analogue: the highest- and lowest-SBErr background classes."""
    values = {r.sberr.value for r in rows}
    if len(values) == 1:
        return tag(
            "p",
            f"Every background class has the same SBErr ({pct(values.pop())} %).",
            cls="muted",
        )
    by_name = {
        str(r.get("class")): r for r in group.get("by_background", []) if isinstance(r, dict)
    }
    columns = [Column("Background class"), Column("n", True)]
    columns += [Column("SHAcc (%)", True), Column("SBErr (%)", True)]
    high, low = extremes(rows)
    parts = []
    for title, names in (("Highest SBErr (scene wins)", high), ("Lowest SBErr", low)):
        body = [
            [
                name,
                by_name[name].get("n", MISSING),
                estimate_cell(by_name[name].get("shacc")),
                estimate_cell(by_name[name].get("sberr")),
            ]
            for name in names
        ]
        parts.append(table(columns, body, cls="data compact", caption=title))
    return join(parts)


def class_section(runs: Sequence[ReportRun], styles: Styles) -> Section | None:
    """One card per run; of several seeds of one model only the first is drawn.

    Seeds of one model differ by noise class by class, ten near-identical
    panels bury the comparison between models, and each panel costs a
    matplotlib render; the other seeds stay in the tables and metrics files.
    """
    per_name: dict[str, list[ReportRun]] = {}
    for run in runs:
        found = run.swap_group()
        if found is not None and _class_rows(found[1]):
            per_name.setdefault(run.name, []).append(run)
    cards = []
    for run in runs:
        same = per_name.get(run.name, [])
        if not same or same[0] is not run:
            continue
        group = run.swap_group()[1]  # type: ignore[index]
        rows = _class_rows(group)
        high, low = extremes(rows) if len({r.sberr.value for r in rows}) > 1 else ([], [])
        png, hidden = plots.class_sberr_bars(rows, set(high), set(low), run.chance)
        note = f" ({hidden} middle classes not drawn)" if hidden else ""
        if len(same) > 1:
            note += f"; first of {len(same)} runs of this model shown"
        cards.append(
            tag(
                "div",
                figure(
                    plots.data_uri(png),
                    f"SBErr by background class for {run.label}",
                    join([tag("strong", run.label), f" — SBErr by background class{note}"]),
                ),
                _extremes_table(group, rows),
                cls="card",
            )
        )
    if not cards:
        return None
    body = join(
        [
            how(
                "for each run, the swap videos grouped by the class of their background. A bar "
                "is the share of those videos predicted as the background's class (SBErr, "
                "95 % whiskers), the diamond the share predicted as the human's class (SHAcc). "
                "Orange bars are the five most scene-driven backgrounds, blue the five least; "
                "distinctive scenes that always come with one action are the usual culprits."
            ),
            tag("div", *cards, cls="cards"),
        ]
    )
    return Section("classes", "SBErr by background class", body)


# --------------------------------------------------------------------------- 4 sweeps


def sweep_section(runs: Sequence[ReportRun], styles: Styles) -> Section | None:
    lines = frame_sweeps(runs)
    if not lines:
        return None
    series = [
        plots.SweepSeries(
            line.label,
            styles.of(line.runs[0]),
            line.frames,
            [interval(r.figure("shacc")) for r in line.runs],
            [interval(r.figure("sberr")) for r in line.runs],
        )
        for line in lines
    ]
    chance = common_chance([r for line in lines for r in line.runs])
    png = plots.sweep_curves(series, chance)
    all_frames = sorted({f for line in lines for f in line.frames})
    columns = [Column("Model")]
    columns += [Column(f"{f} frame{'s' if f != 1 else ''}", True) for f in all_frames]
    header = [(Markup(""), 1), ("SHAcc / SBErr (%)", len(all_frames))]
    rows = []
    for line in lines:
        by_frames = {r.frames: r for r in line.runs}
        cells: list[object] = [join([swatch(styles.of(line.runs[0])), line.label])]
        for f in all_frames:
            run = by_frames.get(f)
            if run is None:
                cells.append(MISSING)
                continue
            shacc, _ = ci_text(run.figure("shacc"))
            sberr, _ = ci_text(run.figure("sberr"))
            cells.append(f"{shacc} / {sberr}")
        rows.append(cells)
    body = join(
        [
            how(
                "SHAcc and SBErr as the number of frames given to each model grows (the paper's "
                "Figure 1b); bands are 95 % intervals. If more frames raise SHAcc and lower "
                "SBErr, the model uses motion rather than a single scene-like frame."
            ),
            figure(plots.data_uri(png), "SHAcc and SBErr against frames", "Frame-count sweep"),
            table(columns, rows, header_rows=[header]),
        ]
    )
    return Section("sweep", "Frame-count sweep", body)
