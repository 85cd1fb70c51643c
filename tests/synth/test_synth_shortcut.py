"""The scene shortcut is real: the background alone predicts the label in distribution.

A scene-only predictor -- nearest class mean of the colour histogram of the
pixels outside the person and object masks, fitted on the training split --
reads the decoded H.264 videos through `actionbias.video` and the exact masks,
exactly as a downstream model would. By construction it can only be right on
clips rendered on their class's home scene, so its in-distribution accuracy
should sit near the home-scene fraction; on the swap split every background is
another class's home scene, so it should follow the background's class and be
no better than chance at the human's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from actionbias.synth import ACTIONS, load_masks, read_synthact
from actionbias.video import read_clip

BINS = 4


def _scene_features(manifest) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    features, labels = [], []
    for record in manifest.records:
        clip = read_clip(record.path, num_frames=8, sampling="uniform")
        masks = load_masks(record.extras["mask_path"])
        obj = record.extras.get("object") or None
        foreground = masks["person"] | masks[obj] if obj else masks["person"]
        keep = ~foreground[clip.indices]
        pixels = clip.frames[keep]  # scene pixels only, N x 3
        codes = (pixels // (256 // BINS)).astype(np.int64)
        index = (codes[:, 0] * BINS + codes[:, 1]) * BINS + codes[:, 2]
        hist = np.bincount(index, minlength=BINS**3).astype(np.float64)
        features.append(np.sqrt(hist / hist.sum()))
        labels.append(record.label_id)
    return np.stack(features), np.asarray(labels), [r.extras for r in manifest.records]


def test_scene_only_predictor_takes_the_shortcut(tiny_synthact: Path) -> None:
    manifests = read_synthact(tiny_synthact)
    classes = manifests["train"].classes
    x_train, y_train, _ = _scene_features(manifests["train"])
    means = np.stack([x_train[y_train == k].mean(0) for k in range(len(classes))])

    def predict(x: np.ndarray) -> np.ndarray:
        return ((x[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)

    # In distribution: right about as often as the clip is on its home scene.
    x_test, y_test, extras = _scene_features(manifests["test"])
    home = np.array(
        [e["scene"] == ACTIONS[classes[y]].home_scene for e, y in zip(extras, y_test, strict=True)]
    )
    accuracy = float((predict(x_test) == y_test).mean())
    assert accuracy > 0.8
    assert accuracy >= home.mean() - 0.1, (accuracy, home.mean())

    # Swap: it follows the background's class and misses the human's.
    x_swap, y_swap, swap_extras = _scene_features(manifests["swap"])
    y_background = np.array([classes.index(e["background_label"]) for e in swap_extras])
    predicted = predict(x_swap)
    human_accuracy = float((predicted == y_swap).mean())
    background_rate = float((predicted == y_background).mean())
    assert human_accuracy <= 1.0 / len(classes), human_accuracy
    assert background_rate >= 0.8, background_rate
