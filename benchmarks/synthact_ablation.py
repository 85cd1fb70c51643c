"""Why does (or doesn't) a model learn SynthAct's action? The benchmark-card probes, swept.

Each row is a SynthAct configuration (a preset plus overrides) and the card
measurements to take on it (`actionbias.synth.card`): the same slow_tiny probe as
the demo recipe, trained on rendered views at a fixed budget. Nothing is written
to disk; rows print as they finish (one JSON line each with --json) and a
Markdown table at the end.

    python benchmarks/synthact_ablation.py --list
    python benchmarks/synthact_ablation.py --rows legacy-noshortcut,legacy-tall --seed 0
    python benchmarks/synthact_ablation.py --group calibration --seeds 0,1,2
    python benchmarks/synthact_ablation.py --adhoc 'default::baseline:14:48' \
        --seeds 9,10,11 --probe-seeds 0,1,2 --json     # 3 trainings per data seed

The README's ablation table ("Why the first SynthAct could not tell methods apart")
comes from the `why` group; the calibrated preset's check on unseen data seeds from
the `calibration` group.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

NO_SHORTCUT = ("rgb_no_shortcut",)
ALL = ("scene_only", "human_only", "rgb_no_shortcut", "baseline")


@dataclass(frozen=True)
class Row:
    name: str
    preset: str
    overrides: dict[str, Any] = field(default_factory=dict)
    measurements: tuple[str, ...] = NO_SHORTCUT
    epochs: int = 20
    probe_size: int = 64
    note: str = ""


ROWS = [
    # --- why: the first default preset, one knob at a time (RGB, scenes shuffled)
    Row("legacy-noshortcut", "legacy", note="first default preset"),
    Row("legacy-human", "legacy", measurements=("human_only",), note="person on black"),
    Row("legacy-tall", "legacy", {"actor_height": (0.75, 0.85)}, note="actor 75-85 % of frame"),
    Row("legacy-static", "legacy", {"camera_shake": 0.0}, note="no camera motion"),
    Row("legacy-60clips", "legacy", {"train": 60}, note="60 train clips / class"),
    Row("legacy-40ep", "legacy", epochs=40, note="40 epochs"),
    Row("legacy-96px", "legacy", probe_size=96, note="probe at 96 px"),
    Row(
        "legacy-tall-60clips",
        "legacy",
        {"actor_height": (0.75, 0.85), "train": 60},
        note="tall actor + 60 clips",
    ),
    # --- calibration: the calibrated preset, every card measurement
    Row("default", "default", measurements=ALL, note="calibrated default preset"),
    Row("default-noshortcut", "default", note="calibrated, scenes shuffled"),
    Row(
        "dof-0.4",
        "default",
        {"scene_contrast": 0.4, "scene_blur": 0.012},
        measurements=("rgb_no_shortcut", "human_only"),
        note="contrast 0.4, blur 0.012",
    ),
    Row(
        "dof-0.25",
        "default",
        {"scene_contrast": 0.25, "scene_blur": 0.02},
        note="contrast 0.25, blur 0.02",
    ),
]
GROUPS = {
    "why": [r.name for r in ROWS if r.name.startswith("legacy")],
    "calibration": ["default"],
}


def run_row(
    row: Row, seed: int, workers: int, probe_seeds: list[int] | None = None
) -> dict[str, Any]:
    from actionbias.synth.card import ProbeInput, card_for_config
    from actionbias.synth.config import resolve_config
    from actionbias.synth.quickfit import FitBudget

    config = resolve_config(row.preset, {"untrimmed": 0, **row.overrides})
    started = time.perf_counter()
    card = card_for_config(
        config,
        seed,
        budget=FitBudget(epochs=row.epochs),
        probe=ProbeInput(size=row.probe_size),
        measurements=row.measurements,
        workers=workers,
        seeds=probe_seeds,
    )
    figures: dict[str, Any] = {}
    for name, entry in card["measurements"].items():
        figures[name] = entry["test_accuracy"]["value"]
        if "by_seed" in entry:
            figures[f"{name}_by_seed"] = per_seed_figures(entry)
        figures[f"{name}_train"] = round(entry["train_accuracy"], 3)
        if name == "baseline":
            figures["swap_shacc"] = entry["swap_shacc"]["value"]
            figures["swap_sberr"] = entry["swap_sberr"]["value"]
            figures["mimetic"] = entry["mimetic_accuracy"]["value"]
        figures[f"{name}_curve"] = [round(v, 3) for v in entry["val_curve"]]
    return {
        "row": row.name,
        "note": row.note,
        "seed": seed,
        "figures": figures,
        "seconds": round(time.perf_counter() - started, 1),
    }


def per_seed_figures(entry: dict[str, Any]) -> dict[str, list[float]]:
    """Every estimate of a several-seed entry, seed by seed (fractions)."""
    from actionbias.synth.card import ESTIMATES

    return {
        key: [round(run[key]["value"], 4) for run in entry["by_seed"]]
        for key in ESTIMATES
        if key in entry
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", help="comma-separated row names")
    parser.add_argument("--group", choices=sorted(GROUPS), help="a named group of rows")
    parser.add_argument("--seeds", default="0", help="data seeds, comma-separated (0)")
    parser.add_argument("--workers", type=int, default=1, help="render processes (1)")
    parser.add_argument(
        "--probe-seeds",
        help="probe (training) seeds, comma-separated: each row trains once per seed on the "
        "same clips and reports the mean over seeds (default: one probe, seed 0)",
    )
    parser.add_argument("--list", action="store_true", help="list the rows and exit")
    parser.add_argument("--json", action="store_true", help="one JSON line per result")
    parser.add_argument(
        "--adhoc",
        metavar="PRESET:KEY=VALUE;...:MEASUREMENTS",
        help="one extra row, e.g. 'default:correlation=0.7:baseline[:EPOCHS[:SIZE]]'",
    )
    args = parser.parse_args(argv)
    by_name = {r.name: r for r in ROWS}
    if args.adhoc:
        preset, sets, measured, *rest = args.adhoc.split(":")
        overrides = dict(kv.split("=", 1) for kv in sets.split(";") if kv)
        by_name["adhoc"] = Row(
            "adhoc",
            preset,
            overrides,
            tuple(measured.split(",")),
            epochs=int(rest[0]) if rest else 20,
            probe_size=int(rest[1]) if len(rest) > 1 else 64,
            note=sets,
        )
        args.rows = "adhoc"
    if args.list:
        for r in ROWS:
            print(f"{r.name:24s} {r.preset:8s} {r.overrides} {r.measurements} {r.note}")
        return 0
    names = GROUPS[args.group] if args.group else (args.rows or "").split(",")
    unknown = [n for n in names if n not in by_name]
    if unknown or not names:
        print(f"unknown rows: {unknown}; see --list", file=sys.stderr)
        return 2
    seeds = [int(s) for s in args.seeds.split(",")]
    probe_seeds = [int(s) for s in args.probe_seeds.split(",")] if args.probe_seeds else None
    results = []
    for name in names:
        for seed in seeds:
            result = run_row(by_name[name], seed, args.workers, probe_seeds)
            results.append(result)
            if args.json:
                print(json.dumps(result), flush=True)
    print("\n| row | seed | " + " | ".join(ALL[:3]) + " | baseline | SHAcc | SBErr | mimetic | s |")
    print("|---|---:|" + "---:|" * 8)
    for r in results:
        f = r["figures"]

        def cell(key: str, f: dict[str, Any] = f) -> str:
            return f"{100 * f[key]:.1f}" if key in f else ""

        cells = [cell(k) for k in (*ALL, "swap_shacc", "swap_sberr", "mimetic")]
        print(f"| {r['row']} | {r['seed']} | " + " | ".join(cells) + f" | {r['seconds']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
