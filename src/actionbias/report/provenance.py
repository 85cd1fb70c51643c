"""The report's provenance section: what produced each run, and what it skipped.

Folder, model, software version and the full resolved config of every run, and
every video that could not be read: skipped videos are not in the figures, so
the report counts and lists them rather than dropping them silently.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from actionbias.report.cells import Styles, swatch
from actionbias.report.markup import Column, Markup, Section, how, join, table, tag
from actionbias.report.numbers import MISSING
from actionbias.report.runs import ReportRun

SKIPPED_SHOWN = 20


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
