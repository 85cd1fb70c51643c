"""The report's sections that compare runs: the mitigation study and paired tests.

`study_section` is the paper's Table 2 / Table 3 analogue (models by training
augmentation, mean over seeds where there are several); `compare_section` tests
each run against the baseline on the videos both scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actionbias.report.aggregate import (
    STUDY_METRICS,
    StudyTable,
    baseline_runs,
    model_key,
    pair_with_baseline,
    paired,
    study_table,
)
from actionbias.report.cells import METRIC_TIPS, METRIC_TITLES, Styles, estimate_cell, swatch
from actionbias.report.markup import Column, Markup, Section, esc, how, join, table, tag
from actionbias.report.numbers import MISSING, mean_pm_text, p_text, pct
from actionbias.report.runs import ReportRun

# --------------------------------------------------------------------------- study


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


# --------------------------------------------------------------------------- paired tests


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
