"""The prompt-tuning report: the paper's Figure 1c for one tuning folder, and what it hides.

Figure 1c plots held-out SHAcc against SBErr for the four manual and the 20
automated prompts. Beside it this page shows what a reader needs to trust it:
every prompt's text, the prompt the search would pick (best *tuning*
objective, chosen without looking at held-out), and the tuning-vs-held-out gap
of every prompt, because a prompt picked on 25 % of the videos is flattered
there (the overfitting risk the paper names). Skipped optimiser steps are
listed with the replies that could not be used.

The page is self-contained (inline CSS, base64 PNG); every text an LLM wrote is
escaped (`actionbias.report.markup`) and drawn literally in the figure.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from matplotlib.figure import Figure

from actionbias import __version__
from actionbias.fileio import atomic_write_text
from actionbias.prompting.loop import PromptRecord, TuningResult, load_tuning
from actionbias.report.markup import Column, Markup, Section, figure, how, join, table, tag
from actionbias.report.numbers import pct
from actionbias.report.page import html_document
from actionbias.report.plots import OKABE_ITO, data_uri, plain, png_bytes

MANUAL_MARKERS = {"neutral": "s", "prefixed": "D", "human": "^", "background": "v"}
MANUAL_NAMES = {
    "neutral": "Neutral",
    "prefixed": "Prefixed choices",
    "human": "Human-focused",
    "background": "Background-focused",
}


def _label(record: PromptRecord) -> str:
    if record.kind == "manual":
        return MANUAL_NAMES.get(record.label, record.label)
    return f"#{record.step}"


def _errors(score, name: str) -> list[list[float]]:
    value = getattr(score, name)
    low, high = getattr(score, f"{name}_ci")
    return [
        [100 * (value - low) if low is not None else 0.0],
        [100 * (high - value) if high is not None else 0.0],
    ]


def scatter_png(result: TuningResult, part: str = "heldout") -> bytes:
    """SBErr (x) against SHAcc (y) of every prompt on one split part (Figure 1c)."""
    fig = Figure(figsize=(8.6, 5.6), layout="constrained")
    ax = fig.subplots()
    best = result.best()
    automated = result.automated
    for i, record in enumerate(result.manual):
        score = getattr(record, part)
        ax.errorbar(
            [100 * score.sberr],
            [100 * score.shacc],
            xerr=_errors(score, "sberr"),
            yerr=_errors(score, "shacc"),
            fmt=MANUAL_MARKERS.get(record.label, "o"),
            color=OKABE_ITO[(i + 1) % len(OKABE_ITO)],
            markersize=9,
            elinewidth=0.8,
            capsize=2,
            label=plain(f"manual: {_label(record)}"),
            zorder=4,
        )
    if automated:
        xs = [100 * getattr(r, part).sberr for r in automated]
        ys = [100 * getattr(r, part).shacc for r in automated]
        ax.scatter(xs, ys, s=36, color=OKABE_ITO[0], alpha=0.75, label="automated", zorder=3)
        for record, x, y in zip(automated, xs, ys, strict=True):
            ax.annotate(
                str(record.step), (x, y), xytext=(4, 3), textcoords="offset points", fontsize=7
            )
    if best is not None:
        score = getattr(best, part)
        ax.scatter(
            [100 * score.sberr],
            [100 * score.shacc],
            s=260,
            marker="*",
            color="#009E73",
            edgecolor="#004d38",
            label=plain(f"picked on tuning: #{best.step}"),
            zorder=5,
        )
    points = [getattr(r, part) for r in (*result.manual, *automated)]
    if points:
        xs = [100 * p.sberr for p in points]
        ys = [100 * p.shacc for p in points]
        pad = 6.0
        ax.set_xlim(max(-2, min(xs) - pad), min(102, max(xs) + pad))
        ax.set_ylim(max(-2, min(ys) - pad), min(102, max(ys) + pad))
    ax.set_xlabel("SBErr: % answered with the scene's action (lower is better)")
    ax.set_ylabel("SHAcc: % answered with the person's action")
    where = "held-out" if part == "heldout" else "tuning"
    ax.set_title(f"Prompts on the {where} part of the swap set", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(color="#eeeeee", linewidth=0.8)
    ax.set_axisbelow(True)
    fig.legend(loc="outside right center", fontsize=8, frameon=False)
    return png_bytes(fig)


def steps_png(result: TuningResult) -> bytes:
    """Objective per step on tuning and held-out: progress, and the gap between the two."""
    fig = Figure(figsize=(8.6, 3.6), layout="constrained")
    ax = fig.subplots()
    automated = result.automated
    steps = [r.step for r in automated]
    lines = (
        ("tune", "o-", OKABE_ITO[1], "tuning (what the optimiser sees)"),
        ("heldout", "s-", OKABE_ITO[0], "held-out"),
    )
    for part, style, colour, label in lines:
        values = [100 * getattr(r, part).objective for r in automated]
        ax.plot(steps, values, style, color=colour, label=label)
    for i, skipped in enumerate(result.skipped_steps):
        ax.axvline(
            skipped["step"],
            color="#D55E00",
            alpha=0.35,
            linewidth=6,
            label="skipped step (no usable proposal)" if i == 0 else None,
        )
    neutral = next((m for m in result.manual if m.label == "neutral"), None)
    if neutral is not None:
        ax.axhline(
            100 * neutral.heldout.objective,
            color="#777777",
            linestyle=":",
            label="neutral prompt, held-out",
        )
    ax.set_xlabel("optimisation step")
    ax.set_ylabel(f"objective ({result.config.get('objective', '')}), points")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(color="#eeeeee", linewidth=0.8)
    fig.legend(loc="outside right center", fontsize=8, frameon=False)
    return png_bytes(fig)


def _score_cell(score, name: str) -> Markup:
    low, high = getattr(score, f"{name}_ci")
    parts: list[object] = [tag("span", pct(getattr(score, name)), cls="v")]
    if low is not None and high is not None:
        parts.append(tag("span", f"[{pct(low)}, {pct(high)}]", cls="ci"))
    return Markup("".join(parts))


def prompt_table(result: TuningResult) -> Markup:
    best = result.best()
    columns = [
        Column("prompt"),
        Column("instruction"),
        Column("tuning SHAcc %", numeric=True),
        Column("tuning SBErr %", numeric=True),
        Column("held-out SHAcc %", numeric=True),
        Column("held-out SBErr %", numeric=True),
        Column("objective gap", numeric=True, tooltip="tuning minus held-out objective"),
    ]
    rows = []
    for record in (*result.manual, *result.automated):
        name = tag("span", _label(record))
        if best is not None and record.kind == "automated" and record.step == best.step:
            name = join([name, tag("span", "picked", cls="verdict better")], " ")
        prompt_text = record.instruction
        if record.prompt.choice_prefix:
            prompt_text += f"  (choices prefixed by {record.prompt.choice_prefix.strip()!r})"
        rows.append(
            [
                name,
                prompt_text,
                _score_cell(record.tune, "shacc"),
                _score_cell(record.tune, "sberr"),
                _score_cell(record.heldout, "shacc"),
                _score_cell(record.heldout, "sberr"),
                pct(record.gap, signed=True),
            ]
        )
    return table(columns, rows)


def _best_block(result: TuningResult) -> Markup:
    best = result.best()
    if best is None:
        return tag("p", "No automated prompt was scored yet.", cls="warn")
    neutral = next((m for m in result.manual if m.label == "neutral"), None)
    facts: list[object] = [
        tag("dt", "picked prompt"),
        tag("dd", tag("code", best.instruction)),
        tag("dt", "held-out SHAcc / SBErr"),
        tag("dd", f"{pct(best.heldout.shacc)} % / {pct(best.heldout.sberr)} %"),
        tag("dt", "tuning objective"),
        tag("dd", pct(best.tune.objective, signed=True)),
        tag("dt", "held-out objective"),
        tag("dd", pct(best.heldout.objective, signed=True)),
        tag("dt", "gap (tuning - held-out)"),
        tag("dd", pct(best.gap, signed=True)),
    ]
    if neutral is not None:
        delta = best.heldout.objective - neutral.heldout.objective
        facts += [
            tag("dt", "vs neutral prompt, held-out"),
            tag("dd", f"{pct(delta, signed=True)} objective points"),
        ]
    return tag("dl", *facts, cls="facts")


def _skipped_block(result: TuningResult) -> Markup:
    skipped = result.skipped_steps
    if not skipped:
        return Markup("")
    items = []
    for step in skipped:
        reasons = "; ".join(str(a.get("error")) for a in step.get("attempts", []))
        items.append(tag("li", f"step {step['step']}: {reasons}"))
    return tag(
        "details",
        tag("summary", f"{len(skipped)} step(s) skipped: the optimiser's replies were unusable"),
        tag("ul", *items, cls="skips"),
    )


def prompt_tuning_section(result: TuningResult) -> Section:
    """The report section of one tuning folder (usable inside a larger page)."""
    split = result.split
    sizes = f"{len(split.tune)} tuning / {len(split.heldout)} held-out videos" if split else ""
    body = [
        how(
            "Each point is one instruction given to the video LLM before the five answer options. "
            "Up and to the left is better: more answers name the person's action, fewer the "
            "scene's. The optimiser only ever saw tuning-split scores; the figure shows the "
            f"held-out part ({sizes}). The starred prompt is the one the search picks (best "
            "tuning objective); its gap is how much the tuning split flattered it. "
            f"Automated prompts come from the optimiser in {mode_text(result)}."
        ),
        figure(data_uri(scatter_png(result, "heldout")), "SHAcc against SBErr per prompt"),
        _best_block(result),
    ]
    if result.automated:
        body.append(
            figure(
                data_uri(steps_png(result)),
                "objective per optimisation step",
                "Steps are not monotone: a later prompt is not always better (as the paper notes).",
            )
        )
    body += [prompt_table(result), _skipped_block(result)]
    return Section("prompt-tuning", "Prompt tuning", join(body))


MODE_TEXT = {
    "conversation": "conversation mode: one running dialogue, every score reported back "
    "(the paper's appendix A.5)",
    "opro": "OPRO mode: a fresh meta-prompt with the best scored prompts each step",
}


def mode_text(result: TuningResult) -> str:
    """Which optimiser mode produced the automated prompts (folders from before: OPRO)."""
    mode = str(result.config.get("optimizer", {}).get("mode", "opro"))
    return MODE_TEXT.get(mode, mode)


def build_prompt_html(result: TuningResult, title: str | None = None) -> str:
    model = result.config.get("model", {}).get("id", "video LLM")
    title = title or f"Prompt tuning: {model}"
    section = prompt_tuning_section(result)
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    optimizer = result.config.get("optimizer", {})
    meta = (
        f"optimiser {optimizer.get('model', '?')} ({mode_text(result)}) · objective "
        f"{result.config.get('objective', '?')} · actionbias {__version__} · created {created}"
    )
    return html_document(
        title,
        tag("header", tag("h1", title), tag("p", meta, cls="meta")),
        tag("section", tag("h2", section.title), section.body, id=section.id),
    )


def write_prompt_report(
    tuning_dir: str | Path, out_html: str | Path | None = None, title: str | None = None
) -> Path:
    """Write the report of a tuning folder (default: ``TUNING_DIR/report.html``)."""
    result = load_tuning(tuning_dir)
    out = Path(out_html) if out_html is not None else result.path / "report.html"
    atomic_write_text(out, build_prompt_html(result, title))
    return out
