"""Shared stand-ins of the audit tests: a scene-only scorer and VLM, a tiny checkpoint.

The scene-only models look only at the frame border (the scene, never the
central person), so on SynthAct's swap split they must show background bias.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from actionbias.audit.scorers import CallableScorer
from actionbias.synth import read_synthact
from actionbias.video import read_clip


def border_colour(clip: np.ndarray, width: int = 4) -> np.ndarray:
    """Mean RGB of a clip's frame border: the scene, never the (central) person."""
    parts = [clip[:, :width], clip[:, -width:], clip[:, :, :width], clip[:, :, -width:]]
    return np.concatenate([p.reshape(-1, 3) for p in parts]).mean(axis=0)


def scene_prototypes(root: Path) -> tuple[list[str], np.ndarray]:
    manifests = read_synthact(root)
    classes = manifests["train"].classes
    colours: dict[int, list[np.ndarray]] = {}
    for split in ("train", "val"):
        for record in manifests[split]:
            clip = read_clip(record.path, num_frames=4).frames
            colours.setdefault(record.label_id, []).append(border_colour(clip))
    return classes, np.stack([np.mean(colours[c], axis=0) for c in range(len(classes))])


def scene_cheat(root: Path, name: str = "scene-cheat") -> CallableScorer:
    """A scene-only baseline: the class whose home scene colour is nearest the border's."""
    classes, prototypes = scene_prototypes(root)

    def predict(clips: list[np.ndarray]) -> np.ndarray:
        borders = np.stack([border_colour(c) for c in clips])
        return -np.linalg.norm(borders[:, None, :] - prototypes[None], axis=2)

    return CallableScorer(predict, classes, name=name)


def prediction_rows(run: Path) -> list[dict]:
    """The rows of a run's predictions.jsonl."""
    lines = (run / "predictions.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


class FakeSceneVLM:
    """A local "VLM" for tests: picks the option whose scene colour is nearest the clip's.

    Speaks InternVLChat's interface (generate / option_logprobs) and reads the options
    from the prompt, as a real model would; every 4th reply is unusable text.
    """

    def __init__(self, root: Path) -> None:
        self.classes, self.prototypes = scene_prototypes(root)
        self.calls = 0

    def _options(self, prompt: str) -> list[tuple[str, str]]:
        lines = prompt.splitlines()[1:]
        return [(line[0], line[3:]) for line in lines if len(line) > 3 and line[1:3] == ". "]

    def _pick(self, frames: np.ndarray, prompt: str) -> tuple[str, str]:
        options = self._options(prompt)
        names = [c.replace("_", " ") for c in self.classes]
        border = border_colour(frames)
        distance = [np.linalg.norm(border - self.prototypes[names.index(t)]) for _, t in options]
        return options[int(np.argmin(distance))]

    def generate(self, frames: np.ndarray, prompt: str, max_new_tokens: int = 16) -> str:
        self.calls += 1
        if self.calls % 4 == 0:
            return "I cannot tell from these frames."
        letter, text = self._pick(frames, prompt)
        return f"The answer is {letter}) {text}"

    def option_logprobs(self, frames: np.ndarray, prompt: str, options: list[str]):
        letter, _ = self._pick(frames, prompt)
        return {o: (-0.1 if o == letter else -3.0) for o in options}


def tiny_checkpoint(path: Path, classes: list[str], model: str) -> Path:
    """An untrained classifier checkpoint as `actionbias train` writes it."""
    import lightning as L

    from actionbias.train.config import DataConfig
    from actionbias.train.module import ClassifierModule
    from actionbias.train.runner import PREPROCESSING

    data = dataclasses.asdict(DataConfig(short_side=64, crop_size=64, num_frames=4))
    preprocessing = {k: data[k] for k in PREPROCESSING}
    options = {} if model.startswith("slow_") else {"backbone": "slow_tiny"}
    module = ClassifierModule(model, classes, model_options=options, data=preprocessing)
    trainer = L.Trainer(
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    trainer.strategy.connect(module)
    trainer.save_checkpoint(path)
    return path
