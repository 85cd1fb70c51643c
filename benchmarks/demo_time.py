"""Where the time of `actionbias demo` goes, and what the full demo will take here.

Measures, on this machine and with the demo recipe: SynthAct generation, then for
every model and augment setting a short training (``--epochs``, default 2) and one
audit of its checkpoint. From the per-epoch times (the fastest epoch after the
first, so one-off start-up and noise from other processes count as little as
possible) it projects the full demo: generation + every run's start-up, epochs
and audit. The load average is printed with the figures because on a shared
2-core machine it changes them by 2x.

    python benchmarks/demo_time.py                      # default preset, 2 epochs each
    python benchmarks/demo_time.py --data runs/demo/synthact --epochs 3
    python benchmarks/demo_time.py --quick              # the --quick demo's settings
    python benchmarks/demo_time.py --from-run runs/demo # stages of a finished demo

The projection assumes the demo's two trainings side by side (``--parallel``);
``--from-run`` prints what a finished demo measured, stage by stage, from its
``demo.json`` (generation, training wall time and per-run seconds, audits,
report) next to the 10-minute target.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="an existing SynthAct folder (skips generation)")
    parser.add_argument("--quick", action="store_true", help="tiny preset, demo-quick recipe")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per measured training")
    parser.add_argument("--out", type=Path, help="write the JSON result here too")
    parser.add_argument("--parallel", type=int, default=2, help="trainings side by side (2)")
    parser.add_argument("--from-run", type=Path, help="a finished demo folder: print its stages")
    args = parser.parse_args()
    if args.from_run is not None:
        _from_run(args.from_run)
        return

    from actionbias.demo.pipeline import DATA, QUICK_DATA, QUICK_RECIPE, RECIPE, demo_runs
    from actionbias.synth import generate
    from actionbias.train import load_config

    recipe = QUICK_RECIPE if args.quick else RECIPE
    recipe_config = load_config(recipe)
    backbone = recipe_config.model.backbone or recipe_config.model.name
    full_epochs = recipe_config.trainer.max_epochs
    result: dict = {"recipe": recipe, "cpus": os.cpu_count(), "load_before": _load()}
    with tempfile.TemporaryDirectory(prefix="demo-time-") as tmp:
        data_dir = args.data
        if data_dir is None:
            spec = QUICK_DATA if args.quick else DATA
            data_dir = Path(tmp) / "synthact"
            started = time.perf_counter()
            generate(data_dir, preset=spec["preset"], progress=False, **spec["overrides"])
            result["generate_s"] = round(time.perf_counter() - started, 2)
        runs: list[dict] = []
        for run in demo_runs([0]):
            runs.append(_measure(run, backbone, data_dir, Path(tmp), args.epochs, recipe))
            print(json.dumps(runs[-1]), flush=True)
        result["runs"] = runs
        projected = result.get("generate_s", 0.0)
        for run_result, run in zip(runs, demo_runs([0]), strict=True):
            epochs = run.epochs(full_epochs, "same-steps")
            training = run_result["startup_s"] + epochs * run_result["epoch_s"]
            projected += training / max(1, args.parallel) + run_result["audit_s"]
        result["projected_demo_s"] = round(projected, 1)
        result["load_after"] = _load()
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


def _from_run(folder: Path) -> None:
    state = json.loads((folder / "demo.json").read_text(encoding="utf-8"))
    timings = state.get("timings", {})
    print(f"{folder}: status {state.get('status')}, seeds {state.get('seeds')}")
    keys = ("generate", "train_wall", "train_and_evaluate", "train", "evaluate", "tables")
    for key in (*keys, "report", "total"):
        if key in timings:
            print(f"  {key:<18} {timings[key]:8.1f} s")
    for slug, run in sorted(state.get("runs", {}).items()):
        print(
            f"  {slug:<40} train {run.get('train_seconds', 0):7.1f} s  audit "
            f"{run.get('eval_seconds', 0):5.1f} s"
        )
    total = timings.get("total")
    if total is not None:
        print(f"  demo alone {total / 60:.1f} min (target: 10 min including set-up)")


def _measure(run: Any, backbone: str, data: Path, tmp: Path, epochs: int, recipe: str) -> dict:
    """Train ``run`` for ``epochs`` epochs and audit it; seconds per part."""
    from actionbias.audit.runner import run_audit
    from actionbias.train import load_config, read_history, train

    run_dir = tmp / "train" / run.slug
    config = load_config(
        recipe,
        [
            f"data.train={data}",
            f"data.val={data}",
            f"run_dir={run_dir}",
            "trainer.progress=false",
            *run.overrides(backbone),
            f"trainer.max_epochs={epochs}",
        ],
    )
    started = time.perf_counter()
    result = train(config)
    total = time.perf_counter() - started
    history = read_history(run_dir / "history.jsonl")
    seconds = [row["seconds"] for row in history]
    epoch_s = min(seconds[1:]) if len(seconds) > 1 else seconds[0]
    started = time.perf_counter()
    run_audit(
        {"type": "classifier", "checkpoint": str(result.best_checkpoint)},
        data,
        tmp / "audit" / run.slug,
        splits=("test", "swap", "mimetic"),
        batch_size=32,
        progress=False,
        workers=0,
    )
    audit_s = time.perf_counter() - started
    return {
        "run": run.name,
        "epoch_s": round(epoch_s, 2),
        "epochs_s": [round(s, 2) for s in seconds],
        "startup_s": round(max(0.0, total - sum(seconds)), 2),
        "audit_s": round(audit_s, 2),
        "load": _load(),
    }


if __name__ == "__main__":
    main()
