"""The report's sections, each a function from loaded runs to escaped HTML.

A section whose inputs are absent (no swap rows, no sweep, no tags, no
baseline) returns None and is left out, so the same code reports a single
CLIP audit and the full ten-model demo. Each section opens with one "how to
read this" line, because readers arrive from a link without the paper open.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from actionbias.report import plots
from actionbias.report.aggregate import (
    STUDY_METRICS,
    StudyTable,
    augment_of,
    baseline_runs,
    frame_sweeps,
    model_key,
    pair_with_baseline,
    paired,
    study_table,
)
from actionbias.report.markup import Column, Markup, esc, figure, join, table, tag
from actionbias.report.numbers import MISSING, ci_text, mean_pm_text, p_text, pct
from actionbias.report.runs import ReportRun

SKIPPED_SHOWN = 20
FIGURE_ORDER = ("test", "shacc", "sberr", "other", "mimetic")
CLASS_EXTREMES = 5

METRIC_TITLES = {
    "test": "In-dist. top\u20111",
    "shacc": "SHAcc ↑",
    "sberr": "SBErr ↓",
    "other": "Other",
    "mimetic": "Mimetics ↑",
}
METRIC_TIPS = {
    "test": "top-1 accuracy on the in-distribution test videos (higher is better)",
    "shacc": "swap videos predicted as the human's class (higher is better)",
    "sberr": "swap videos predicted as the background's class (lower is better)",
    "other": "swap videos predicted as neither (includes no-answer)",
    "mimetic": "top-1 accuracy on mimed actions without their scene (higher is better)",
}


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    body: Markup


def how(text: object) -> Markup:
    return tag("p", tag("strong", "How to read this: "), text, cls="how")


def estimate_cell(estimate: dict[str, Any] | None, signed: bool = False) -> Markup:
    value, ci = ci_text(estimate, signed)
    parts: list[object] = [tag("span", value, cls="v")]
    if ci:
        parts.append(tag("span", ci, cls="ci"))
    return join(parts)


def swatch(style: plots.Style) -> Markup:
    """A small coloured box tying a table row to the model's colour in the plots."""
    return tag("span", "", cls="swatch", style=f"background:{style.colour}")


def chance_text(run: ReportRun) -> str:
    chance = run.chance
    if chance is None:
        return MISSING
    if run.protocol == "mcq":
        return f"{pct(chance)} (1 of 5)"
    return f"{pct(chance)} (1/{run.num_classes})"


def common_chance(runs: Sequence[ReportRun]) -> float | None:
    """The chance level when every run shares it (same protocol and class count), else None."""
    values = {run.chance for run in runs}
    return values.pop() if len(values) == 1 else None


CHANCE_LINE = (
    "Chance is 1/N for the all-classes protocol over N classes and 20 % for the "
    "5-choice multiple-choice (MCQ) protocol"
)


class Styles:
    """The report's palette, keyed by model (tags.model, else name), variant by augment."""

    def __init__(self, runs: Sequence[ReportRun]):
        self.palette = plots.Palette()
        for run in runs:
            self.of(run)

    def of(self, run: ReportRun) -> plots.Style:
        return self.palette.style(model_key(run), augment_of(run))


def _interval(estimate: dict[str, Any] | None) -> plots.Interval:
    if not estimate or estimate.get("value") is None:
        return plots.Interval(float("nan"))
    return plots.Interval(float(estimate["value"]), estimate.get("low"), estimate.get("high"))


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


# --------------------------------------------------------------------------- 2 swap


def swap_section(runs: Sequence[ReportRun], styles: Styles) -> Section | None:
    swap_runs = [r for r in runs if r.figure("shacc") is not None]
    if not swap_runs:
        return None
    labels = [r.label for r in swap_runs]
    run_styles = [styles.of(r) for r in swap_runs]
    shacc = [_interval(r.figure("shacc")) for r in swap_runs]
    sberr = [_interval(r.figure("sberr")) for r in swap_runs]
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
                _interval(row.get("sberr")),
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
            [_interval(r.figure("shacc")) for r in line.runs],
            [_interval(r.figure("sberr")) for r in line.runs],
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


# --------------------------------------------------------------------------- 5 study


def _augment_title(augment: str) -> str:
    return "no aug." if augment == "none" else f"+ {augment}"


def _study_cell(st: StudyTable, model: str, augment: str, metric: str, ref: str | None) -> Markup:
    cell = st.cell(model, augment, metric)
    if cell.n == 0:
        return esc(MISSING)
    if cell.n == 1:
        out = estimate_cell(cell.estimates[0])
        value = cell.estimates[0].get("value")
    else:
        summary = cell.seeds()
        text, pm = mean_pm_text(summary)
        out = join([tag("span", text, cls="v"), tag("span", pm, cls="ci")])
        value = summary.mean if summary else None
    if ref is not None and ref != model and value is not None:
        base = st.cell(ref, augment, metric)
        base_summary = base.seeds()
        if base_summary is not None:
            out = join(
                [out, tag("span", f"({pct(value - base_summary.mean, signed=True)})", cls="delta")]
            )
    return out


def study_section(
    runs: Sequence[ReportRun], styles: Styles, baseline: str | None
) -> Section | None:
    ref_model = None
    if baseline is not None:
        base = [r for r in runs if baseline in (r.name, r.label) and "model" in r.tags]
        ref_model = model_key(base[0]) if base else None
    st = study_table(runs, ref_model)
    if st is None:
        return None
    header = [(Markup(""), 1)]
    header += [(f"{METRIC_TITLES[m]} (%)", len(st.augments)) for m in STUDY_METRICS]
    columns = [Column("Model")]
    for metric in STUDY_METRICS:
        columns += [Column(_augment_title(a), True, METRIC_TIPS[metric]) for a in st.augments]
    style_runs = {model_key(r): r for r in reversed(runs) if "model" in r.tags}
    rows = []
    for model in st.models:
        counts = sorted({len(st.seeds.get((model, a), [])) for a in st.augments} - {0})
        seeds_note = f" · {'/'.join(map(str, counts))} seeds" if counts and counts != [1] else ""
        row: list[object] = [
            join(
                [
                    swatch(styles.of(style_runs[model])),
                    tag("span", model, cls="run-name"),
                    tag("span", seeds_note, cls="ci"),
                ]
            )
        ]
        for metric in STUDY_METRICS:
            row += [_study_cell(st, model, a, metric, ref_model) for a in st.augments]
        rows.append(row)
    if st.multi_seed:
        spread = (
            "Cells with several seeds show the mean over seeds ± the half-width of a 95 % "
            "Student t interval (n seeds given per model); single-seed cells show the "
            "bootstrap interval over videos in brackets."
        )
    else:
        spread = (
            "Each cell is one trained model; brackets are 95 % bootstrap intervals over videos."
        )
    delta = (
        f" In parentheses: the change from {ref_model} at the same augmentation "
        "(percentage points)."
        if ref_model
        else ""
    )
    body = join(
        [
            how(
                "the paper's Table 2 / Table 3 analogue: one row per model, each metric without "
                "and with training augmentation side by side. In-distribution top-1, SHAcc and "
                f"Mimetics: higher is better; SBErr: lower is better. {spread}{delta}"
            ),
            table(columns, rows, header_rows=[header]),
        ]
    )
    return Section("study", "Mitigation study (Table 2 / 3)", body)


# --------------------------------------------------------------------------- 6 compare


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


def _diff_cell(result: dict[str, Any] | None, lower_is_better: bool) -> Markup:
    if not result:
        return esc(MISSING)
    diff = result.get("difference", {})
    value = diff.get("value")
    p_boot, p_mc = result.get("p_bootstrap"), result.get("p_mcnemar")
    # McNemar is not available when two crossed source factors repeat: the paired
    # bootstrap (over the same clusters) then decides alone.
    significant = p_boot is not None and max(p_boot, 0.0 if p_mc is None else p_mc) < 0.05
    verdict = None
    if significant and value:
        better = (value < 0) if lower_is_better else (value > 0)
        verdict = "better" if better else "worse"
    return join(
        [
            estimate_cell(diff, signed=True),
            tag(
                "span",
                f"p {p_text(p_boot)} · {p_text(p_mc)}",
                cls="pval",
                title=f"p-values: paired bootstrap · McNemar ({result.get('mcnemar', 'exact')})",
            ),
            tag("span", verdict, cls=f"verdict {verdict}") if verdict else "",
        ]
    )


def compare_section(
    runs: Sequence[ReportRun], styles: Styles, baseline: str | None
) -> Section | None:
    if baseline is None:
        return None
    bases = baseline_runs(runs, baseline)
    base_ids = {id(b) for b in bases}
    columns = [
        Column("Run"),
        Column("Baseline run"),
        Column("Shared videos", True),
        Column("Δ in-dist. top-1 (pp)", True),
        Column("Δ SHAcc (pp)", True),
        Column("Δ SBErr (pp)", True),
    ]
    rows = []
    other_protocol = []
    for run in runs:
        if id(run) in base_ids:
            continue
        if run.protocol != bases[0].protocol:
            other_protocol.append(run.label)
            continue
        base = pair_with_baseline(run, bases)
        result = paired(run, base)
        groups = result.get("groups", {})
        test = run.in_distribution()
        swap = run.swap_group()
        top1 = groups.get(test[0], {}).get("top1") if test else None
        swap_g = groups.get(swap[0], {}) if swap else {}
        rows.append(
            [
                join([swatch(styles.of(run)), tag("span", run.label, cls="run-name")]),
                base.label,
                result.get("shared_videos", 0),
                _diff_cell(top1, lower_is_better=False),
                _diff_cell(swap_g.get("shacc"), lower_is_better=False),
                _diff_cell(swap_g.get("sberr"), lower_is_better=True),
            ]
        )
    if not rows and not other_protocol:
        return None
    skipped_note = (
        tag(
            "p",
            f"Not compared (protocol other than the baseline's “{bases[0].protocol}”): ",
            ", ".join(other_protocol),
            ".",
            cls="muted",
        )
        if other_protocol
        else ""
    )
    body = join(
        [
            how(
                f"each run minus the baseline run “{baseline}” on the videos both scored, in "
                "percentage points with the 95 % paired-bootstrap interval; under it the "
                "p-values of the paired bootstrap · McNemar tests (exact; cluster-adjusted where "
                "swap videos share a human or background clip; not available, –, where both "
                "repeat, and the bootstrap, over the same clips, decides alone). A difference is "
                "marked better/worse only when both are below 0.05; for SBErr a negative "
                "difference is the improvement."
            ),
            table(columns, rows) if rows else "",
            skipped_note,
        ]
    )
    return Section("compare", f"Paired comparisons with {baseline}", body)


# --------------------------------------------------------------------------- 7 provenance


def _skipped_block(run: ReportRun) -> Markup:
    if not run.skipped and not run.skipped_count:
        return tag("p", "No video was skipped.", cls="muted")
    reasons = run.skip_reasons()
    if not reasons and isinstance(run.metrics.get("skipped_reasons"), dict):
        reasons = [(str(k), int(v)) for k, v in run.metrics["skipped_reasons"].items()]
    parts: list[object] = [
        tag("p", f"{run.skipped_count} video(s) skipped as unreadable, by reason:"),
        table(
            [Column("Reason"), Column("Videos", True)],
            [[reason, count] for reason, count in reasons],
            cls="data compact",
        ),
    ]
    if run.skipped:
        shown = run.skipped[:SKIPPED_SHOWN]
        more = len(run.skipped) - len(shown)
        items = [
            tag(
                "li",
                tag("code", item.id),
                " ",
                tag("span", item.path, cls="muted"),
                " — ",
                item.reason,
            )
            for item in shown
        ]
        if more:
            items.append(tag("li", f"… and {more} more (skipped.jsonl)", cls="muted"))
        parts.append(tag("ul", *items, cls="skips"))
    return join(parts)


PROMPT_WORDS = {
    "label": "the raw class label (the paper's protocol)",
    "authors": "the model authors' templates",
}


def provenance_section(
    runs: Sequence[ReportRun], styles: Styles, version: str, created: str
) -> Section:
    blocks = []
    for run in runs:
        facts = [
            ("Folder", tag("code", str(run.path))),
            ("Model", json.dumps(run.config.get("model"), sort_keys=True, ensure_ascii=False)),
            ("actionbias version", run.config.get("actionbias_version", MISSING)),
            ("Created", run.config.get("created", MISSING)),
        ]
        space = run.config.get("label_space")
        if isinstance(space, dict):
            facts.append(
                (
                    "Label space",
                    f"{space.get('name')} ({space.get('classes')} classes; {space.get('reason')})",
                )
            )
        prompts = (run.config.get("model") or {}).get("prompts")
        if prompts:
            facts.append(("Zero-shot prompts", PROMPT_WORDS.get(prompts, f"template {prompts!r}")))
        sources = run.metrics.get("answer_sources")
        if isinstance(sources, dict) and sources:
            facts.append(("Answer sources", ", ".join(f"{k}: {v}" for k, v in sources.items())))
        errors = run.metrics.get("errors")
        if isinstance(errors, int) and errors:
            facts.append(("Failed model calls", tag("span", errors, cls="warn")))
        config_text = json.dumps(run.config, indent=2, sort_keys=True, ensure_ascii=False)
        blocks.append(
            tag(
                "details",
                tag(
                    "summary",
                    swatch(styles.of(run)),
                    tag("span", run.label, cls="run-name"),
                    tag(
                        "span", f" — {run.videos} videos, {run.skipped_count} skipped", cls="muted"
                    ),
                ),
                tag("dl", *(join([tag("dt", k), tag("dd", v)]) for k, v in facts), cls="facts"),
                _skipped_block(run),
                tag("details", tag("summary", "config.json"), tag("pre", config_text), cls="inner"),
            )
        )
    body = join(
        [
            how(
                "what produced each run: its folder, model, software version and full resolved "
                "config, and every video that could not be read (skipped videos are not in the "
                "figures above; they are counted, never silently dropped)."
            ),
            *blocks,
            tag(
                "p",
                f"Report written by actionbias {version}",
                " · ",
                tag("span", f"created {created}", cls="created"),
                cls="muted",
            ),
        ]
    )
    return Section("provenance", "Provenance", body)
