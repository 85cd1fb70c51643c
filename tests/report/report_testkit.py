"""Audit run directories for the report tests, written through the real `RunDir`.

A simulated model: on test and mimetic videos it is right with probability
`accuracy`; on swap videos it answers the background's class with
probability `scene`, the human's class with probability `human`, else another
class. Seeded, so the same arguments give the same run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from actionbias.audit.rundir import RunDir

CLASSES = ["jumping", "waving", "spinning", "clapping", "kicking", "bowing"]

# The shared study fixture (conftest.py): (model, accuracy, human, scene) of a
# scene-biased baseline and a human-focused model, two seeds, a 3-point sweep.
STUDY_MODELS = (("baseline", 0.85, 0.2, 0.6), ("segmented", 0.6, 0.55, 0.1))
SEEDS = (0, 1)
SWEEP_FRAMES = (1, 4, 16)


def simulate_rows(
    classes: list[str],
    accuracy: float = 0.8,
    human: float = 0.3,
    scene: float = 0.5,
    per_group: int = 60,
    seed: int = 0,
    no_answer: int = 0,
    groups: tuple[str, ...] = ("test", "swap", "mimetic"),
) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    k = len(classes)
    rows: list[dict[str, Any]] = []
    for group in groups:
        for i in range(per_group):
            label = int(i % k)
            row: dict[str, Any] = {"id": f"{group}-{i:04d}", "dataset": group}
            if group == "swap":
                bg = (label + 1 + i // k % (k - 1)) % k
                u = rng.random()
                if u < scene:
                    pred = bg
                elif u < scene + human:
                    pred = label
                else:
                    pred = next(c for c in rng.permutation(k) if c not in (label, bg))
                row["background_label"] = classes[bg]
            else:
                right = rng.random() < accuracy
                pred = label if right else int((label + 1 + rng.integers(k - 1)) % k)
            row["label"] = classes[label]
            row["prediction"] = classes[pred]
            rows.append(row)
    for row in rows[:no_answer]:
        row["prediction"] = ""
        row["answer_source"] = "none"
    return rows


def make_run(
    root: Path,
    folder: str,
    name: str,
    classes: list[str] | None = None,
    protocol: str = "all",
    frames: int = 8,
    tags: dict[str, Any] | None = None,
    sweep: dict[str, Any] | None = None,
    skipped: list[tuple[str, str, str]] = (),
    n_boot: int = 200,
    **simulate: Any,
) -> Path:
    """One finalized run dir `root/folder` (config + predictions + skips + metrics)."""
    classes = list(classes or CLASSES)
    config: dict[str, Any] = {
        "kind": "audit",
        "name": name,
        "model": {"type": "callable", "id": name},
        "protocol": protocol,
        "frames": frames,
        "data": {"path": "synthact", "splits": ["test", "swap", "mimetic"]},
        "seed": 0,
        "questions": None,
        "classes": classes,
        "created": "2025-01-01T00:00:00+00:00",
        "actionbias_version": "0.1.0",
    }
    if tags is not None:
        config["tags"] = tags
    if sweep is not None:
        config["sweep"] = sweep
    run = RunDir.open(root / folder, config)
    run.append(simulate_rows(classes, **simulate))
    for vid, path, reason in skipped:
        run.skip(vid, path, reason)
    run.finalize(n_boot=n_boot, seed=0)
    return root / folder
