"""`write_report`: audit run directories -> one self-contained HTML file.

Self-contained means the file can be mailed, attached to an issue or opened
on an offline cluster node: CSS inline, figures as base64 PNG, no script, no
font or stylesheet from anywhere else. Every string that came from data,
configs or models is escaped (see `markup`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from actionbias import __version__
from actionbias.fileio import atomic_write_text
from actionbias.report.aggregate import baseline_runs
from actionbias.report.cells import Styles
from actionbias.report.comparisons import compare_section, study_section
from actionbias.report.context import context_section
from actionbias.report.markup import Markup, Section, join, tag
from actionbias.report.provenance import provenance_section
from actionbias.report.runs import ReportRun, label_runs, load_run
from actionbias.report.sections import (
    class_section,
    headline,
    swap_section,
    sweep_section,
)

CSS = """
:root { --ink:#1d1f23; --muted:#5f6670; --line:#dfe2e6; --soft:#f5f6f8; --accent:#0072B2;
  --warn:#a04000; --good:#00734f; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 28px 32px 60px; }
header h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
.meta, .muted { color: var(--muted); }
.meta { margin: 0 0 10px; font-size: 13px; }
nav { display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: 13.5px; padding: 8px 0 14px;
  border-bottom: 1px solid var(--line); }
nav a { color: var(--accent); text-decoration: none; }
nav a:hover { text-decoration: underline; }
section { margin-top: 30px; }
h2 { font-size: 19px; margin: 0 0 6px; padding-bottom: 4px; border-bottom: 2px solid var(--soft); }
.how { margin: 4px 0 14px; color: #3a4048; font-size: 13.5px; max-width: 100ch;
  background: var(--soft); border-left: 3px solid var(--accent); padding: 7px 12px; }
.study { margin: 8px 0 0; font-size: 14px; }
.study dt { font-weight: 600; }
.table-wrap { overflow: auto; max-height: 75vh; border: 1px solid var(--line); border-radius: 6px;
  margin: 6px 0 14px; }
table { border-collapse: separate; border-spacing: 0; width: 100%; font-size: 13.5px; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 6px 10px;
  background: #fff; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top;
  text-align: left; }
thead th { position: sticky; top: 0; background: #eef1f4; z-index: 1; font-weight: 600;
  vertical-align: bottom; }
thead tr:nth-child(2) th { top: 30px; }
thead th[colspan] { text-align: center; border-left: 1px solid var(--line); }
tbody tr:nth-child(even) td { background: #fafbfc; }
tbody tr:hover td { background: #eef6fc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
td .v { font-weight: 600; }
.ci { color: var(--muted); font-size: 12px; margin-left: 4px; }
.delta { color: var(--muted); font-size: 12px; margin-left: 4px; }
td.num .ci, td.num .delta { display: block; margin-left: 0; font-size: 11.5px; }
td:first-child { min-width: 13em; }
.pval { display: block; color: var(--muted); font-size: 11.5px; white-space: nowrap; }
.verdict { display: inline-block; font-size: 11px; font-weight: 600; padding: 0 6px;
  border-radius: 8px; margin-top: 2px; }
.verdict.better { color: #fff; background: var(--good); }
.verdict.worse { color: #fff; background: var(--warn); }
.warn { color: var(--warn); font-weight: 600; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 7px;
  vertical-align: -1px; border: 1px solid rgba(0,0,0,.25); }
.run-name { font-weight: 600; overflow-wrap: break-word; }
figure { margin: 10px 0 18px; }
figure img { max-width: 100%; height: auto; display: block; }
figure.narrow img { max-width: 1000px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 18px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card figure { margin-top: 0; }
table.compact { font-size: 12.5px; }
table.compact td.num .ci { display: inline; margin-left: 4px; }
table.compact td:first-child { min-width: 0; }
details { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; margin: 8px 0; }
details > summary { cursor: pointer; }
details.inner { border-style: dashed; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; font-size: 13px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
pre { background: var(--soft); padding: 10px; border-radius: 6px; overflow: auto; font-size: 12px;
  max-height: 420px; }
code { font-size: 12.5px; overflow-wrap: anywhere; }
ul.skips { font-size: 12.5px; }
@media print { .table-wrap { max-height: none; } details { break-inside: avoid; } }
"""


def _study_block(study: Mapping[str, Any] | str | None) -> Markup:
    """The caller's description of the study: a paragraph, or key: value facts."""
    if study is None:
        return Markup("")
    if isinstance(study, str):
        return tag("p", study, cls="study")
    items = []
    for key, value in study.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        items.append(join([tag("dt", key), tag("dd", text)]))
    return tag("dl", *items, cls="study facts")


def build_html(
    runs: Sequence[ReportRun],
    title: str = "actionbias report",
    baseline: str | None = None,
    study: Mapping[str, Any] | str | None = None,
    created: str | None = None,
    extra_sections: Sequence[Section] = (),
) -> str:
    """The report page for already-loaded runs (labels are assigned here).

    ``extra_sections`` (a workflow's own sections, e.g. A2O's search history) come
    right after the headline table, so one page holds the audit and the study.
    """
    runs = list(runs)
    if not runs:
        raise ValueError("a report needs at least one run")
    label_runs(runs)
    if baseline is not None:
        baseline_runs(runs, baseline)  # fail before any figure is drawn
    created = created or datetime.now(timezone.utc).isoformat(timespec="seconds")
    styles = Styles(runs)
    sections: list[Section | None] = [
        headline(runs, styles),
        *extra_sections,
        swap_section(runs, styles),
        class_section(runs, styles),
        context_section(runs, styles, baseline),
        sweep_section(runs, styles),
        study_section(runs, styles, baseline),
        compare_section(runs, styles, baseline),
        provenance_section(runs, styles, __version__, created),
    ]
    present = [s for s in sections if s is not None]
    nav = tag("nav", *(tag("a", s.title, href=f"#{s.id}") for s in present))
    header = tag(
        "header",
        tag("h1", title),
        tag(
            "p",
            f"{len(runs)} run{'s' if len(runs) != 1 else ''} · actionbias {__version__} · ",
            tag("span", f"created {created}", cls="created"),
            cls="meta",
        ),
        _study_block(study),
    )
    body = [tag("section", tag("h2", s.title), s.body, id=s.id) for s in present]
    return html_document(title, header, nav, *body)


def html_document(title: str, *body: object) -> str:
    """A whole page: the shared head (charset, viewport, inline CSS) around `body` in <main>.

    Every page the project writes (audit report, prompt tuning, TAL demo) goes
    through here so they look alike and none can forget the charset or the CSS.
    """
    head = tag(
        "head",
        Markup('<meta charset="utf-8">'),
        Markup('<meta name="viewport" content="width=device-width, initial-scale=1">'),
        tag("title", title),
        tag("style", Markup(CSS)),
    )
    page = tag("html", head, tag("body", tag("main", *body)), lang="en")
    return "<!DOCTYPE html>\n" + page + "\n"


def write_report(
    run_dirs: Sequence[str | Path],
    out_html: str | Path,
    title: str = "actionbias report",
    baseline: str | None = None,
    study: Mapping[str, Any] | str | None = None,
    extra_sections: Sequence[Section] = (),
) -> Path:
    """Write one self-contained HTML report of the given audit run directories.

    `baseline` names a run (config name) every other run is compared with,
    pairwise on shared videos; with several seeds each run is paired with the
    baseline of its own seed. `study` is an optional description shown under
    the title: a paragraph, or a mapping of facts (data, seeds, wall time).
    Raises `BadInputError` naming the folder and file when a run dir is
    missing, unfinished or broken.
    """
    if not run_dirs:
        raise ValueError("write_report needs at least one run directory")
    runs = [load_run(path) for path in run_dirs]
    text = build_html(
        runs, title=title, baseline=baseline, study=study, extra_sections=extra_sections
    )
    out = Path(out_html)
    atomic_write_text(out, text)
    return out
