"""Where a demo study's mimetic errors go: accuracy per class and predictions per scene.

Mimetic accuracy is one number; this script splits it the two ways that
explain it on SynthAct (README, "The regime targets"): per true class, which
separates the object classes and time-reversed pairs from the rest, and per
scene, which shows how strongly each unseen scene pulls the predictions to a
single class. Counts are summed over the training seeds of the model, so a
row reads "right in k of n clips over all seeds".

    python benchmarks/mimetic_breakdown.py RUN_DIR [--model baseline] [--data none]

RUN_DIR is an `actionbias demo --out` folder (it holds `synthact/` and
`audit/MODEL-DATA-seedN/`, audit run folders).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from actionbias.audit.predictions import PredictionTable
from actionbias.audit.rundir import load_table
from actionbias.metrics import class_accuracy


def _scenes(run: Path) -> dict[str, str]:
    path = run / "synthact" / "annotations" / "mimetic.csv"
    if not path.is_file():
        print(f"error: {path}: no mimetic annotations (not a demo run folder?)", file=sys.stderr)
        raise SystemExit(2)
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["youtube_id"]: row["scene"] for row in csv.DictReader(fh)}


def _mimetic(run: Path, model: str, data: str) -> list[PredictionTable]:
    """The mimetic rows of every training seed of the model, one table per seed."""
    dirs = sorted((run / "audit").glob(f"{model}-{data}-seed*"))
    if not dirs:
        print(f"error: {run / 'audit'}: no {model}-{data}-seed* run folder", file=sys.stderr)
        raise SystemExit(2)
    tables = [load_table(d) for d in dirs]
    return [t.subset(np.array([g == "mimetic" for g in t.datasets])) for t in tables]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--model", default="baseline")
    parser.add_argument("--data", default="none", help="training data variant (none, scene_swap)")
    args = parser.parse_args(argv)
    scenes = _scenes(args.run)
    tables = _mimetic(args.run, args.model, args.data)
    classes = tables[0].classes
    predictions = np.concatenate([t.predictions for t in tables])
    labels = np.concatenate([t.labels for t in tables])
    clips = [i.split("_")[0] for t in tables for i in t.ids]
    rows = class_accuracy(predictions, labels, classes, n_boot=500, clusters={"video": clips})
    right = int((predictions == labels).sum())
    print(f"{args.model} ({args.data}): mimetic accuracy {right} / {len(labels)}")
    print("\n| class | right | most frequent wrong answer |\n|---|---:|---|")
    for r in rows:
        wrong = f"{r.confused_with} {r.confused_n}" if r.confused_with else ""
        print(f"| {r.class_name} | {round(r.top1.value * r.n)} / {r.n} | {wrong} |")
    by_scene: dict[str, Counter[str]] = defaultdict(Counter)
    scene_right: Counter[str] = Counter()
    for clip, label, prediction in zip(clips, labels, predictions, strict=True):
        scene = scenes.get(clip, "?")
        by_scene[scene][classes[prediction] if prediction >= 0 else "(no answer)"] += 1
        scene_right[scene] += int(prediction == label)
    print("\n| scene | right | most frequent answers |\n|---|---:|---|")
    for scene, answers in sorted(by_scene.items()):
        top = ", ".join(f"{c} {k}" for c, k in answers.most_common(3))
        print(f"| {scene} | {scene_right[scene]} / {sum(answers.values())} | {top} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
