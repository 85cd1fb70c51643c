"""Where a demo study's mimetic errors go: accuracy per class and predictions per scene.

Mimetic accuracy is one number; this script splits it the two ways that
explain it on SynthAct (README, "The regime targets"): per true class, which
separates the object classes and time-reversed pairs from the rest, and per
scene, which shows how strongly each unseen scene pulls the predictions to a
single class. Counts are summed over the training seeds of the model, so a
row reads "right in k of n clips over all seeds".

    python benchmarks/mimetic_breakdown.py RUN_DIR [--model baseline] [--data none]

RUN_DIR is an `actionbias demo --out` folder (it holds `synthact/` and
`audit/MODEL-DATA-seedN/predictions.jsonl`).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path


def _scenes(run: Path) -> dict[str, str]:
    path = run / "synthact" / "annotations" / "mimetic.csv"
    if not path.is_file():
        print(f"error: {path}: no mimetic annotations (not a demo run folder?)", file=sys.stderr)
        raise SystemExit(2)
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["youtube_id"]: row["scene"] for row in csv.DictReader(fh)}


def _predictions(run: Path, model: str, data: str) -> list[tuple[str, str, str]]:
    """(clip id, label, prediction) of every mimetic row over the model's seeds."""
    files = sorted((run / "audit").glob(f"{model}-{data}-seed*/predictions.jsonl"))
    if not files:
        print(f"error: {run / 'audit'}: no {model}-{data}-seed*/predictions.jsonl", file=sys.stderr)
        raise SystemExit(2)
    rows = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("dataset") == "mimetic":
                rows.append((row["id"].split("_")[0], row["label"], row["prediction"]))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--model", default="baseline")
    parser.add_argument("--data", default="none", help="training data variant (none, scene_swap)")
    args = parser.parse_args(argv)
    scenes = _scenes(args.run)
    rows = _predictions(args.run, args.model, args.data)
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    confused: dict[str, Counter[str]] = defaultdict(Counter)
    by_scene: dict[str, Counter[str]] = defaultdict(Counter)
    scene_right: Counter[str] = Counter()
    for clip, label, prediction in rows:
        total[label] += 1
        right[label] += prediction == label
        if prediction != label:
            confused[label][prediction] += 1
        scene = scenes.get(clip, "?")
        by_scene[scene][prediction] += 1
        scene_right[scene] += prediction == label
    n = sum(total.values())
    print(f"{args.model} ({args.data}): mimetic accuracy {sum(right.values())} / {n}")
    print("\n| class | right | most frequent wrong answers |\n|---|---:|---|")
    for label in total:
        wrong = ", ".join(f"{c} {k}" for c, k in confused[label].most_common(2))
        print(f"| {label} | {right[label]} / {total[label]} | {wrong} |")
    print("\n| scene | right | most frequent answers |\n|---|---:|---|")
    for scene, answers in sorted(by_scene.items()):
        top = ", ".join(f"{c} {k}" for c, k in answers.most_common(3))
        print(f"| {scene} | {scene_right[scene]} / {sum(answers.values())} | {top} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
