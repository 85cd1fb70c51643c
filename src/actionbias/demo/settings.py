"""What decides the demo's numbers: the data preset, the recipe and `demo_settings`.

`demo_settings` is the identity a rerun must match (``OUT/demo.json``), so every
choice that changes a figure lives here, beside the constants it reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

RECIPE = "demo"
QUICK_RECIPE = "demo-quick"
#: SynthAct for the demo: the benchmark presets without the untrimmed videos, which
#: only temporal localisation uses (they are a quarter of the default preset's
#: rendering), and with HAT PNG folders for the test split only (the swap pairs point
#: there; trainings and audits read the videos and the exact mask files).
DATA = {"preset": "default", "overrides": {"untrimmed": 0, "hat_splits": "test"}}
QUICK_DATA = {"preset": "tiny", "overrides": {"untrimmed": 0}}
SCENE_SWAP_EPOCHS = ("same-steps", "same-epochs")


def demo_data(quick: bool) -> dict[str, Any]:
    """The SynthAct preset and overrides of a full or quick demo."""
    return QUICK_DATA if quick else DATA


def demo_settings(
    quick: bool,
    data_seed: int,
    recipe: str | Path | None = None,
    overrides: Sequence[str] = (),
    scene_swap_epochs: str = "same-steps",
) -> dict[str, Any]:
    """Everything that decides the demo's numbers except the training seeds.

    The resolved training config (minus the per-run fields) and the resolved
    SynthAct config are part of it, so a changed recipe file or a changed preset
    (a new version's calibration) is noticed, not only a changed name: a folder
    trained on the old data is then refused instead of mixed with the new.
    """
    from actionbias.synth import config_digest
    from actionbias.train import load_config

    name = recipe if recipe is not None else (QUICK_RECIPE if quick else RECIPE)
    config = load_config(name, list(overrides) or None).to_dict()
    for key in ("run_dir", "seed", "resume"):
        config.pop(key, None)
    for key in ("train", "val", "scene_swap"):
        config["data"].pop(key, None)
    config["trainer"].pop("progress", None)
    config["model"].pop("name", None)
    data = demo_data(quick)
    return {
        "quick": bool(quick),
        "data": {
            "preset": data["preset"],
            "overrides": dict(data["overrides"]),
            "seed": data_seed,
            # A digest, not the whole config: one line in a refusal, not thirty.
            "resolved_sha256": config_digest(str(data["preset"]), dict(data["overrides"])),
        },
        "recipe": str(name),
        "overrides": list(overrides),
        "scene_swap_epochs": scene_swap_epochs,
        "train_config": config,
    }
