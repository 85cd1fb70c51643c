"""What `actionbias tal demo` runs with: its settings, quick and full, and the class texts.

Everything that decides the demo's numbers is one frozen `TALDemoSettings`,
stored in the run folder (``settings.json``) and compared on resume, so the
stages (`actionbias.tal.demo`), the detectors' training
(`actionbias.tal.demo_training`) and the evaluation
(`actionbias.tal.demo_evaluation`) all read the same values.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any

# every model of the demo is tiny (64 px slow_tiny, 64-channel detectors): one torch thread
# is as fast on idle cores and several times faster on busy ones (see `torch_threads`)
DEMO_THREADS = 1
SPLITS = {"training": 0.6, "validation": 0.2, "test": 0.2}
TIOU = (0.3, 0.4, 0.5, 0.6, 0.7)
VISION, ACTIONVLM = "vision-only", "actionvlm"


@dataclass(frozen=True)
class TALDemoSettings:
    """Everything that decides the demo's numbers; stored with the run and checked on resume."""

    preset: str
    synth: dict[str, Any]
    recogniser_epochs: int
    window: int = 16
    stride: int = 4
    clip_frames: int = 8
    size: int = 64
    width: int = 64
    downsample_blocks: int = 3
    attn_window: int = 9
    epochs: int = 30
    batch_size: int = 4
    lr: float = 1e-3
    weight_decay: float = 0.05
    lm_width: int = 64
    seeds: tuple[int, ...] = (0,)
    lap_permutations: int = 3
    data_seed: int = 0
    splits: dict[str, float] = field(default_factory=lambda: dict(SPLITS))

    def to_json(self) -> dict[str, Any]:
        from actionbias.synth import config_digest

        data = asdict(self)
        data["seeds"] = list(self.seeds)
        # the preset's name survives a recalibration; what it resolves to does not
        data["synth_sha256"] = config_digest(self.preset, self.synth)
        return data

    def detector_options(self) -> dict[str, Any]:
        """`build_detector` options of the demo's ActionFormer (both kinds share them)."""
        return {
            "embed_dim": self.width,
            "fpn_dim": self.width,
            "head_dim": self.width,
            "window": self.attn_window,
            "heads": 4,
            "downsample_blocks": self.downsample_blocks,
            "max_seq_len": 256,
        }


def demo_settings(quick: bool, seed: int = 0) -> TALDemoSettings:
    """Quick: tiny preset (6 classes, one reversed pair), one seed. Full: 10 classes, 3 seeds."""
    if quick:
        synth = {
            "untrimmed": 15,
            "untrimmed_seconds": [10.0, 14.0],
            "untrimmed_instances": [2, 4],
            "hat_splits": "test",
        }
        return TALDemoSettings(
            "tiny", synth, recogniser_epochs=1, epochs=8, seeds=(seed,), lap_permutations=2,
            data_seed=seed,
        )  # fmt: skip
    synth = {
        "size": 64,
        "untrimmed": 60,
        "untrimmed_seconds": [20.0, 32.0],
        "untrimmed_instances": [3, 6],
        "hat_splits": "test",
    }
    return TALDemoSettings(
        "default", synth, recogniser_epochs=10, epochs=30, seeds=(seed, seed + 1, seed + 2),
        data_seed=seed,
    )  # fmt: skip


def synthact_descriptions() -> dict[str, str]:
    """Short motion descriptions of SynthAct's classes (data file next to this module)."""
    text = resources.files(__package__).joinpath("synthact_descriptions.json").read_text("utf-8")
    return dict(json.loads(text)["descriptions"])
