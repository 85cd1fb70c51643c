"""End to end on features that encode the actions: the detector must overfit them."""

from __future__ import annotations

import time

import numpy as np
import torch
from tal_testkit import tiny_detector

from actionbias.metrics.tal import evaluate_detection
from actionbias.tal.features import FeatureGrid, TALSample, collate_samples
from actionbias.tal.inference import detect, results_json
from actionbias.tal.train import (
    TALTrainConfig,
    load_detector,
    save_detector,
    train_detector,
    warmup_cosine,
)

GRID = FeatureGrid(feat_stride=4, num_frames=16, fps=30.0)


def _synthetic(n_videos: int, length: int, classes: int, seed: int) -> list[TALSample]:
    """Channel c is on inside actions of class c; the rest is small noise."""
    rng = np.random.default_rng(seed)
    samples = []
    for v in range(n_videos):
        feats = rng.normal(0, 0.1, size=(classes + 2, length)).astype(np.float32)
        segs, labels, t = [], [], int(rng.integers(2, 8))
        while t < length - 8:
            dur = int(rng.integers(3, 16))
            if t + dur >= length - 2:
                break
            c = int(rng.integers(classes))
            feats[c, t : t + dur] += 1.0
            segs.append([t, t + dur])
            labels.append(c)
            t += dur + int(rng.integers(4, 12))
        samples.append(
            TALSample(
                video_id=f"vid{v}",
                feats=torch.from_numpy(feats),
                # grid units: feature i's centre; the action spans features t..t+dur-1
                segments=torch.tensor(segs, dtype=torch.float32) - 0.5,
                labels=torch.tensor(labels),
                grid=GRID,
                duration=float(GRID.to_seconds(np.array(length))),
            )
        )
    return samples


def test_detector_overfits_synthetic_features(tmp_path) -> None:
    torch.manual_seed(0)
    samples = _synthetic(6, 64, 3, seed=0)
    model = tiny_detector(5, 3, width=32, window=9, heads=2, downsample_blocks=3, max_seq_len=64)
    cfg = TALTrainConfig(epochs=50, batch_size=6, lr=3e-3, warmup_epochs=3, ema_decay=0.9)
    t0 = time.perf_counter()
    result = train_detector(model, samples, cfg)
    elapsed = time.perf_counter() - t0
    assert result.history[-1]["total"] < result.history[0]["total"] * 0.5
    batch = collate_samples(samples, pad_to=model.max_stride)
    dets = detect(result.ema_model, batch)
    gt = [
        (s.video_id, a, b, f"c{int(c)}")
        for s in samples
        for (a, b), c in zip(GRID.to_seconds(s.segments.double()).tolist(), s.labels, strict=True)
    ]
    res = evaluate_detection(
        [g[0] for g in gt],
        np.array([[g[1], g[2]] for g in gt]),
        [g[3] for g in gt],
        [d.video_id for d in dets for _ in range(len(d.scores))],
        np.concatenate([d.segments.numpy() for d in dets]),
        [f"c{int(c)}" for d in dets for c in d.labels],
        np.concatenate([d.scores.numpy() for d in dets]),
        [0.5],
    )
    assert res.average_map > 0.9, (res.average_map, elapsed)
    payload = results_json(dets, ["c0", "c1", "c2"])
    assert set(payload["results"]) == {s.video_id for s in samples}

    # checkpoints round-trip the weights and the constructor options
    save_detector(tmp_path / "det.pt", result.ema_model, extra={"classes": ["c0", "c1", "c2"]})
    loaded, extra = load_detector(tmp_path / "det.pt")
    assert extra["classes"] == ["c0", "c1", "c2"]
    torch.testing.assert_close(
        loaded(batch["feats"], batch["mask"]).cls_logits[0],
        result.ema_model(batch["feats"], batch["mask"]).cls_logits[0],
    )


def test_warmup_cosine_schedule() -> None:
    assert warmup_cosine(0, 100, 10) == 0.1
    assert warmup_cosine(9, 100, 10) == 1.0
    assert warmup_cosine(10, 100, 10) == 1.0
    assert abs(warmup_cosine(55, 100, 10) - 0.5) < 1e-9
    assert warmup_cosine(100, 100, 10) == 0.0


def test_training_is_deterministic_under_a_seed() -> None:
    samples = _synthetic(2, 32, 2, seed=1)

    def run() -> list[float]:
        torch.manual_seed(123)  # same initial weights in both runs
        model = tiny_detector(4, 2)
        cfg = TALTrainConfig(epochs=2, batch_size=1, lr=1e-3, warmup_epochs=1, seed=5)
        return [row["total"] for row in train_detector(model, samples, cfg).history]

    assert run() == run()
