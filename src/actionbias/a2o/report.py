"""The A2O demo's page: the audit report of its three recognisers plus the search itself.

The audit sections (accuracy with intervals, SHAcc/SBErr, per-class bars, paired
tests against the plain recogniser) come from `actionbias.report` unchanged, so
A2O models read exactly like every other audited model. What only A2O has goes
into one extra section: which object sets the policy tried, the reward of each,
the best-so-far curve (paper Fig. 2), the final sets side by side (Listing 1)
and the compute accounting (Table 9). Every string from the run is escaped by
the markup helpers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from actionbias.report.markup import Column, Section, figure, how, join, table, tag
from actionbias.report.plots import data_uri, png_bytes

ROW_TITLES = {
    "plain": "plain recogniser (no maps)",
    "pc3d++": "PC3D++ (mediapipe pose body-part maps)",
    "initial": "fixed vocabulary (Listing 1, before ICRL)",
    "icrl": "ICRL-chosen vocabulary",
}


def _pct(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{100 * value:.1f}"


def _interval(figure_: Mapping[str, float] | None) -> str:
    if not figure_:
        return "–"
    return f"{_pct(figure_['value'])} [{_pct(figure_['low'])}, {_pct(figure_['high'])}]"


def _reward_text(results: Mapping[str, Any]) -> str:
    split = results.get("reward_split") or {"name": "val", "clips": None}
    if split["name"] == "swap-half":
        text = "a seeded half of the swap videos (the swap figures below are the other half)"
    else:
        text = "the in-distribution validation split"
    return f"{text}, {split['clips']} clips" if split.get("clips") else text


def _trajectory_png(trials: Sequence[Mapping[str, Any]]) -> bytes:
    from matplotlib.figure import Figure

    ok = [t for t in trials if t.get("status", "ok") == "ok" and t.get("source", "run") == "run"]
    fig = Figure(figsize=(5.6, 3.0), dpi=110)
    ax = fig.add_subplot(1, 1, 1)
    xs = [t["iteration"] for t in ok]
    ys = [100 * t["accuracy"] for t in ok]
    best, running = [], float("-inf")
    for y in ys:
        running = max(running, y)
        best.append(running)
    ax.plot(xs, ys, "o-", color="#4c72b0", label="trial reward")
    ax.step(xs, best, where="post", color="#dd8452", label="best so far")
    ax.set_xlabel("ICRL iteration")
    ax.set_ylabel("reward: accuracy (%)")
    ax.set_xticks(xs)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return png_bytes(fig)


def icrl_section(results: Mapping[str, Any]) -> Section:
    """The search: trials, best-so-far curve, final sets, compute."""
    icrl = results["icrl"]
    trials = icrl["trials"]
    rows = []
    for t in trials:
        edit = (t.get("extra") or {}).get("policy", {}).get("edit", "")
        rows.append(
            [
                str(t["iteration"]),
                _pct(t["accuracy"])
                if t.get("status", "ok") == "ok"
                else f"failed: {t.get('error')}",
                ", ".join(t["objects"]),
                str(edit or t.get("policy_note", "")),
                f"{t.get('seconds', 0.0):.0f}",
            ]
        )
    trial_table = table(
        [
            Column("iteration"),
            Column("reward (%)", numeric=True),
            Column("objects"),
            Column("policy step"),
            Column("seconds", numeric=True),
        ],
        rows,
        caption=f"Best: iteration {icrl['best_iteration']} (ties go to the earlier trial).",
    )
    settings = results["settings"]
    final_rows = []
    for name in [n for n in ROW_TITLES if n in results["rows"]]:
        row = results["rows"][name]
        f = row["figures"]
        final_rows.append(
            [
                ROW_TITLES[name],
                str(len(row["objects"])),
                _interval(f.get("test")),
                _interval(f.get("shacc")),
                _interval(f.get("sberr")),
                _interval(f.get("mimetic")),
                "–"
                if row.get("inference_ms_per_clip") is None
                else f"{row['inference_ms_per_clip']:.1f}",
            ]
        )
    final_table = table(
        [
            Column("recogniser"),
            Column("objects", numeric=True),
            Column("test top-1", numeric=True),
            Column("swap SHAcc", numeric=True),
            Column("swap SBErr", numeric=True),
            Column("mimetic top-1", numeric=True),
            Column("infer ms/clip", numeric=True),
        ],
        final_rows,
        caption=(
            f"Each trained {settings['final_epochs']} epochs, seed {settings['seed']}; "
            "% with 95 % bootstrap intervals over videos."
        ),
    )
    sets = tag(
        "dl",
        *(
            join(
                [
                    tag("dt", ROW_TITLES[name]),
                    tag("dd", ", ".join(results["rows"][name]["objects"]) or "(none)"),
                ]
            )
            for name in ("initial", "icrl")
        ),
        cls="study facts",
    )
    compute = (
        f"Search: {len([t for t in trials if t.get('source', 'run') == 'run'])} trials of "
        f"{settings['search_epochs']} epoch(s), {icrl['search_seconds']:.0f} s of training and "
        f"evaluation; final training with the best set {icrl['final']['seconds']:.0f} s."
    )
    body = join(
        [
            how(
                "The policy proposes an object set, the recogniser is trained with those objects' "
                "maps and its accuracy on the reward split is the reward (Algorithm 1); reward "
                f"split: {_reward_text(results)}. The policy here is "
                f"{results['policy']} ({settings['strategy']} edits over a fixed vocabulary of "
                f"{len(settings['vocabulary'])} words): it stands in for the LLM agent where no "
                "endpoint is configured. Maps: "
                f"{settings['backend']} {settings['backend_options']}."
            ),
            final_table,
            figure(
                data_uri(_trajectory_png(trials)),
                "reward per ICRL iteration",
                "Reward per iteration and the best so far (cf. the paper's Fig. 2).",
            ),
            trial_table,
            sets,
            tag("p", compute),
        ]
    )
    return Section("a2o", "A2O: object vocabulary search", body)


def write_a2o_report(
    results: Mapping[str, Any], audit_dirs: Sequence[str | Path], out_html: str | Path
) -> Path:
    """The demo page: audit sections of the three recognisers + the ICRL section."""
    from actionbias.report.page import write_report

    timings = results.get("timings", {})
    study = {
        "data": f"SynthAct ({results['settings']['data_preset']} preset)",
        "policy": results["policy"],
        "maps": results["settings"]["backend"],
        "wall time": f"{timings.get('total', 0.0):.0f} s",
    }
    return write_report(
        list(audit_dirs),
        out_html,
        title="A2O on SynthAct: object-centric features from a searched vocabulary",
        baseline="plain",
        study=study,
        extra_sections=[icrl_section(results)],
    )
