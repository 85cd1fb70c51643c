"""The HTML page of `actionbias tal demo`: mAP, LAP, class groups and the ambiguous pairs.

Built from the demo's results JSON alone (so a finished run can be re-rendered)
with the report package's markup, number formatting and inline-PNG helpers;
the page is self-contained like the main report.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from actionbias import __version__
from actionbias.fileio import atomic_write_text
from actionbias.report.markup import Column, Markup, figure, table, tag
from actionbias.report.numbers import sig3
from actionbias.report.page import html_document
from actionbias.report.plots import data_uri, png_bytes

MODELS = (("vision_only", "Vision-only ActionFormer"), ("actionvlm", "ActionVLM (compact LM)"))


def _num(value: Any, pct: bool = True) -> str:
    if value is None or not np.isfinite(float(value)):
        return "–"
    return f"{100 * float(value):.1f}" if pct else sig3(float(value))


def _pm(summary: Mapping[str, Any] | None, pct: bool = True) -> str:
    if summary is None:
        return "–"
    text = _num(summary["mean"], pct)
    if len(summary["per_seed"]) > 1:
        text += f" ± {_num(summary['std'], pct)}"
    return text


def _numeric(*titles: str) -> list[Column]:
    """Right-aligned columns: nearly every column of these tables holds a number."""
    return [Column(title, numeric=True) for title in titles]


def _map_table(results: Mapping[str, Any]) -> Markup:
    keys = [f"{t:.2f}" for t in results["tiou_thresholds"]]
    cols = [Column("model"), *_numeric(*(f"mAP@{k}" for k in keys), "average mAP")]
    rows = []
    for key, title in MODELS:
        per = [s[key] for s in results["seeds"]]
        cells = [_num(np.mean([p["mAP"][k] for p in per])) for k in keys]
        rows.append([title, *cells, _num(np.mean([p["average_mAP"] for p in per]))])
    return table(cols, rows, caption="Test split, mean over seeds, in %.")


def _class_figure(results: Mapping[str, Any]) -> Markup:
    from matplotlib.figure import Figure

    classes = results["data"]["classes"]
    ap = {
        key: [
            np.mean([s["class_AP"][key].get(c, np.nan) for s in results["seeds"]]) for c in classes
        ]
        for key, _ in MODELS
    }
    ambiguous = set(c for p in results["reversed_pairs"] for c in p)
    fig = Figure(figsize=(8, 3.2))
    ax = fig.add_subplot()
    x = np.arange(len(classes))
    for i, (key, title) in enumerate(MODELS):
        ax.bar(x + (i - 0.5) * 0.38, ap[key], 0.38, label=title)
    ax.set_xticks(x, [f"{c} *" if c in ambiguous else c for c in classes], rotation=35, ha="right")
    ax.set_ylabel("test AP (avg over tIoU)")
    ax.set_ylim(0, 1)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return figure(
        data_uri(png_bytes(fig)),
        "per-class AP of both models",
        "Per-class AP, mean over seeds; * marks a class of a time-reversed pair.",
    )


def _group_table(results: Mapping[str, Any]) -> Markup:
    cols = [
        Column("seed", numeric=True),
        Column("group"),
        Column("classes"),
        Column("ActionVLM mAP", numeric=True),
        Column("gain vs vision", numeric=True),
        Column("mean Â", numeric=True, tooltip="predicted language advantage, GT frames"),
        Column("mean λ", numeric=True),
    ]
    rows = []
    for s in results["seeds"]:
        for g in s["groups"]:
            rows.append(
                [
                    s["seed"],
                    g["group"],
                    ", ".join(g["classes"]),
                    _num(g["actionvlm_mAP"]),
                    _num(g["gain"]),
                    _num(g["mean_advantage"], pct=False),
                    _num(g["mean_lambda"], pct=False),
                ]
            )
    return table(cols, rows, caption="Groups by vision-only AP on the validation split.")


def _ambiguity_table(results: Mapping[str, Any]) -> Markup:
    cols = _numeric(
        "seed",
        "reversed-pair AP: vision",
        "ActionVLM",
        "other classes: vision",
        "ActionVLM",
        "mean λ pairs / others",
        "LAP",
    )
    rows = []
    for s in results["seeds"]:
        a = s["ambiguous"]
        lap = s["lap"]["lap"] if s["lap"] else None
        rows.append(
            [
                s["seed"],
                _num(a["vision_only"]),
                _num(a["actionvlm"]),
                _num(a["others_vision_only"]),
                _num(a["others_actionvlm"]),
                f"{_num(a['mean_lambda'], False)} / {_num(a['others_mean_lambda'], False)}",
                _num(lap),
            ]
        )
    return table(cols, rows, caption="AP in %, LAP in % (relative mAP drop, mismatched text).")


def _language_tables(results: Mapping[str, Any]) -> Markup:
    """Lambda's distribution and the advantage targets behind it, per seed."""
    parts: list[str] = []
    for s in results["seeds"]:
        diag = s.get("language_diagnostics")
        if not diag:
            continue
        edges = diag["lambda_histogram"]["edges"]
        labels = [f"λ < {edges[1]:g} (off)"]
        labels += [f"{a:g} ≤ λ < {b:g}" for a, b in itertools.pairwise(edges[1:])]
        counts = diag["lambda_histogram"]["counts"]
        cols = _numeric("seed", *labels, "max λ")
        parts.append(
            table(
                cols,
                [[s["seed"], *counts, _num(diag["lambda_max"], pct=False)]],
                caption="Frames of the test split's actions by the language weight λ applied.",
            )
        )
        epoch_cols = _numeric(
            "VL epoch", "target A mean", "target A std", "mean Â", "mean λ", "frames with λ > 0"
        )
        epoch_rows = [
            [
                e["epoch"],
                _num(e["target_mean"], False),
                _num(e["target_std"], False),
                _num(e["a_hat_mean"], False),
                _num(e["lambda_mean"], False),
                _num(e["lambda_positive_share"]),
            ]
            for e in diag["training_epochs"]
        ]
        if epoch_rows:
            parts.append(
                table(
                    epoch_cols,
                    epoch_rows,
                    caption=f"Seed {s['seed']}: training frames of each vision-language epoch "
                    "(A = class-wise vision-only loss − frame's vision-language loss; "
                    "share in %).",
                )
            )
        class_cols = [
            Column("class"),
            *_numeric(
                "vision loss (class mean)",
                "VL loss (class mean)",
                "target A mean ± std",
                "mean Â",
                "mean λ",
            ),
        ]
        class_rows = [
            [
                name,
                _num(c.get("vision_loss_mean"), False),
                _num(c.get("vl_loss_mean"), False),
                f"{_num(c['target_mean'], False)} ± {_num(c['target_std'], False)}",
                _num(c["a_hat_mean"], False),
                _num(c["lambda_mean"], False),
            ]
            for name, c in diag["last_epoch_per_class"].items()
        ]
        if class_rows:
            parts.append(
                table(
                    class_cols,
                    class_rows,
                    caption=f"Seed {s['seed']}: last vision-language epoch by class. Language "
                    "gets weight only where the target A is positive, i.e. where the class's "
                    "vision-language loss fell below its vision-only mean.",
                )
            )
    if not parts:
        return Markup(tag("p", "No language diagnostics in this run."))
    return Markup("".join(parts))


def build_tal_html(results: Mapping[str, Any], created: str | None = None) -> str:
    """The whole page as a string."""
    created = created or datetime.now(timezone.utc).isoformat(timespec="seconds")
    summ = results["summary"]
    data = results["data"]
    facts = tag(
        "ul",
        tag(
            "li",
            f"SynthAct preset {results['settings']['preset']}, untrimmed splits {data['splits']}",
        ),
        tag("li", f"classes: {', '.join(data['classes'])}"),
        tag("li", f"reversed pairs: {'; '.join(' / '.join(p) for p in results['reversed_pairs'])}"),
        tag("li", f"features: {results['features']}"),
        tag("li", f"seeds: {[s['seed'] for s in results['seeds']]}"),
        tag("li", f"timings (s): {results['timings_seconds']}"),
    )
    headline = tag(
        "p",
        f"Average mAP (test): vision-only {_pm(summ['vision_only_average_mAP'])}, "
        f"ActionVLM {_pm(summ['actionvlm_average_mAP'])}, gain {_pm(summ['gain_average_mAP'])} "
        f"points; LAP {_pm(summ['lap'])} %; gain on reversed-pair classes "
        f"{_pm(summ['ambiguous_gain'])} vs {_pm(summ['others_gain'])} on the others.",
    )
    sections = [
        ("Detection mAP", Markup(headline + _map_table(results) + _class_figure(results))),
        ("Language advantage by class group", _group_table(results)),
        ("Ambiguous classes and LAP", _ambiguity_table(results)),
        ("Language weight and advantage targets", _language_tables(results)),
        ("Setup", facts),
    ]
    body = [tag("section", tag("h2", title), content) for title, content in sections]
    title = "actionbias TAL demo: ActionVLM on SynthAct"
    header = tag("header", tag("h1", title), tag("p", f"actionbias {__version__} · {created}"))
    return html_document(title, header, *body)


def write_tal_report(results: Mapping[str, Any], path: str | Path) -> Path:
    out = Path(path)
    atomic_write_text(out, build_tal_html(results))
    return out
