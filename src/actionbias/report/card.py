"""The SynthAct benchmark card as a report section and as a page of its own.

A reader should see at a glance whether a configuration can tell mitigations
apart: the scene-only bar shows how much the shortcut says, the human-only and
no-shortcut bars how learnable the action is, and the baseline's swap bars how
much of the shortcut a plain model takes. The learning curves show whether the
probe's budget was enough (a curve still rising at the last epoch means the
figure is a lower bound).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from actionbias.fileio import atomic_write_text
from actionbias.report.markup import Column, Markup, Section, figure, how, table, tag
from actionbias.report.page import html_document
from actionbias.report.plots import OKABE_ITO, _chance, _style_axes, data_uri, png_bytes

_BARS = (
    ("scene_only", "test_accuracy", "scene only (background clips)"),
    ("human_only", "test_accuracy", "human only (person clips)"),
    ("rgb_no_shortcut", "test_accuracy", "RGB, scenes shuffled"),
    ("baseline", "test_accuracy", "RGB baseline, test"),
    ("baseline", "swap_shacc", "baseline swap SHAcc"),
    ("baseline", "swap_sberr", "baseline swap SBErr"),
    ("baseline", "mimetic_accuracy", "baseline mimetic"),
)


def _rows(card: Mapping[str, Any]) -> list[tuple[str, dict[str, float]]]:
    m = card["measurements"]
    return [(label, m[name][key]) for name, key, label in _BARS if name in m and key in m[name]]


def card_plot(card: Mapping[str, Any]) -> bytes:
    """Bars with 95 % intervals (left) and the probes' validation curves (right)."""
    rows = _rows(card)
    fig = Figure(figsize=(11.0, 3.6), layout="constrained")
    bars, curves = fig.subplots(1, 2, width_ratios=(1.3, 1.0))
    y = list(range(len(rows)))[::-1]
    values = [100 * e["value"] for _, e in rows]
    low = [100 * (e["value"] - e["low"]) for _, e in rows]
    high = [100 * (e["high"] - e["value"]) for _, e in rows]
    colours = [OKABE_ITO[1] if "SBErr" in label else OKABE_ITO[0] for label, _ in rows]
    bars.barh(y, values, xerr=[low, high], color=colours, capsize=3, height=0.6)
    bars.set_yticks(y, [label for label, _ in rows], fontsize=8.5)
    bars.set_xlim(0, 100)
    bars.set_xlabel("% of clips")
    _chance(bars, card["chance"], horizontal=False)
    _style_axes(bars)
    for i, (name, entry) in enumerate(card["measurements"].items()):
        curve = [100 * v for v in entry.get("val_curve", [])]
        curves.plot(
            range(1, len(curve) + 1),
            curve,
            color=OKABE_ITO[i % len(OKABE_ITO)],
            label=name.replace("_", " "),
        )
    curves.set_xlabel("epoch")
    curves.set_ylabel("validation accuracy %")
    curves.set_ylim(0, 100)
    _chance(curves, card["chance"])
    curves.legend(fontsize=8, frameon=False)
    _style_axes(curves)
    return png_bytes(fig)


def _probe_seeds(card: Mapping[str, Any]) -> list[int]:
    """The card's probe seeds (cards written before seeds were an option: the budget's)."""
    return list(card.get("probe_seeds") or [card.get("budget", {}).get("seed", 0)])


def card_section(card: Mapping[str, Any], section_id: str = "card") -> Section:
    """The card as a report section (the demo report and the stand-alone page use it)."""
    from actionbias.synth.card import per_seed  # the renderer, only when a card is drawn

    seeds = _probe_seeds(card)
    several = len(seeds) > 1
    m = card["measurements"]
    rows = []
    for name, key, label in _BARS:
        if name not in m or key not in m[name]:
            continue
        e = m[name][key]
        row = [
            label,
            f"{100 * e['value']:.1f}",
            f"[{100 * e['low']:.1f}, {100 * e['high']:.1f}]",
            str(e["n"]),
        ]
        if several:
            row.append(" / ".join(f"{v:.1f}" for v in per_seed(m[name], key)))
        rows.append(row)
    columns = [
        Column("figure"),
        Column("%", True),
        Column("95 % interval", True),
        Column("clips", True),
    ]
    if several:
        columns.append(Column(f"seed {' / '.join(str(s) for s in seeds)}", True))
    config = card.get("config", {})
    budget = card.get("budget", {})
    facts = (
        f"{len(card['classes'])} classes (chance {100 * card['chance']:.1f} %), data seed "
        f"{card.get('seed')}, correlation {config.get('correlation')}, scenes per class "
        f"{config.get('scene_sets')}; probe {budget.get('model')} for {budget.get('epochs')} "
        f"epochs at {card['probe']['frames']}x{card['probe']['size']}x{card['probe']['size']}, "
        f"probe seed{'s' if several else ''} {', '.join(str(s) for s in seeds)}."
    )
    intervals = (
        f"Bars: mean over {len(seeds)} probe seeds with 95 % Student t intervals over seeds "
        "(the spread between trainings, which one probe's bootstrap over clips leaves out); "
        if several
        else "Bars: test figures with 95 % bootstrap intervals over clips (one probe seed: "
        "another seed can move a figure further; --seeds 0,1,2 measures that); "
    )
    body = Markup(
        how(
            "a configuration can tell mitigations apart when the scene alone predicts the "
            "class well above chance, the action is learnable without it (human-only and "
            "shuffled-scene RGB well above chance), and the baseline's swap SBErr sits between "
            "the extremes: 0 means no bias to measure, 100 % means every model that sees the "
            "scene takes it completely."
        )
        + tag("p", facts)
        + table(columns, rows)
        + figure(
            data_uri(card_plot(card)),
            "benchmark card: accuracies with intervals and validation curves",
            intervals
            + "dashed: chance. Curves: the probes' validation accuracy per epoch"
            + (", mean over seeds." if several else "."),
        )
    )
    return Section(section_id, "Benchmark card", body)


def read_card(path: str | Path) -> dict[str, Any]:
    """A card JSON written by `actionbias synth card`; bad files raise `BadInputError`."""
    import json

    from actionbias.errors import BadInputError

    try:
        card = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInputError("no such card file", source=path) from None
    except (OSError, ValueError) as err:
        raise BadInputError(f"unreadable card: {err}", source=path) from None
    if not isinstance(card, dict) or card.get("format") != "synthact-card-1":
        raise BadInputError("not a SynthAct benchmark card (format)", source=path)
    for key in ("classes", "chance", "measurements", "probe"):
        if key not in card:
            raise BadInputError("missing field", source=path, where=f"field {key}")
    return card


def write_card_page(card: Mapping[str, Any], path: str | Path) -> Path:
    section = card_section(card)
    page = html_document(
        "SynthAct benchmark card",
        tag("header", tag("h1", "SynthAct benchmark card"), tag("p", str(card.get("data", "")))),
        tag("section", tag("h2", section.title), section.body, id=section.id),
    )
    out = Path(path)
    atomic_write_text(out, page)
    return out
