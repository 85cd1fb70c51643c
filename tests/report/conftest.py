"""Shared report fixtures: one small mitigation study with seeds, plus a frame sweep."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_testkit import SEEDS, STUDY_MODELS, SWEEP_FRAMES, make_run


@pytest.fixture(scope="module")
def study_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 tagged runs (2 models x 2 augment x 2 seeds) and a 3-point frame sweep."""
    root = tmp_path_factory.mktemp("study")
    for seed in SEEDS:
        for model, accuracy, human, scene in STUDY_MODELS:
            for augment in ("none", "scene-swap"):
                name = model if augment == "none" else f"{model} + scene-swap"
                make_run(
                    root / "demo",
                    f"seed{seed}/{model}-{augment}",
                    name,
                    tags={"model": model, "augment": augment, "seed": seed},
                    accuracy=accuracy - (0.05 if augment != "none" else 0.0),
                    human=human,
                    scene=scene * (0.6 if augment != "none" else 1.0),
                    seed=100 * seed + len(model) + len(augment),
                    skipped=[("broken-1", "/data/broken-1.mp4", "moov atom not found")]
                    if model == "segmented"
                    else [],
                )
    for frames in SWEEP_FRAMES:
        make_run(
            root / "sweep",
            f"vlm-f{frames}",
            "OpenGVLab/InternVL3-1B",
            protocol="mcq",
            frames=frames,
            sweep={"axis": "frames", "value": frames},
            human=0.25 + 0.02 * frames,
            scene=0.5 - 0.02 * frames,
            seed=frames,
            no_answer=3,
        )
    return root
