"""A2O data and TrainEnvironment on a tiny SynthAct set (8 frames of 32x32, 3 classes)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from a2o_testkit import tiny_synthact

from actionbias.a2o.config import A2OTrainConfig
from actionbias.a2o.data import (
    A2ODataModule,
    FrameCache,
    MapClipDataset,
    align_maps,
    decode_frames,
    few_shot,
    make_loader,
)
from actionbias.a2o.environment import TrainEnvironment, load_trial_model
from actionbias.data import Manifest, SkipLog, VideoRecord
from actionbias.errors import BadInputError
from actionbias.synth.files import load_masks
from actionbias.train.clips import ClipSpec, decode_record

MAP_SIZE = 16


class NamedMaskStore:
    """A map store with `MapStore.load`'s contract answering queries by SynthAct mask name.

    Maps come back at the store's own resolution (short side ``MAP_SIZE``), like the
    real store's, so the tests exercise the resize to the decoded frames.
    """

    def __init__(self, map_size: int = MAP_SIZE) -> None:
        self.map_size = map_size
        self.calls: list[tuple[str, tuple[int, ...], tuple[str, ...]]] = []

    def load(self, record, indices, queries):
        self.calls.append((record.id, tuple(indices), tuple(queries)))
        masks = load_masks(record.extras["mask_path"])
        size = self.map_size
        out = np.zeros((len(queries), len(indices), size, size), np.float32)
        for q, query in enumerate(queries):
            if query in masks:
                picked = masks[query][np.asarray(indices)].astype(np.float32)
                for t, frame in enumerate(picked):
                    out[q, t] = cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA)
        return out


@pytest.fixture(scope="module")
def synthact(tmp_path_factory) -> dict[str, Manifest]:
    out = tmp_path_factory.mktemp("a2o_synthact") / "tiny"
    return tiny_synthact(out, classes=3, size=32, untrimmed=0, hat_splits="test")


def config(**changes) -> A2OTrainConfig:
    base = {
        "epochs": 1,
        "batch_size": 6,
        "num_frames": 8,
        "crop_size": 32,
        "seed": 3,
        "backbone_options": {"width": 8},  # slow_tiny at a quarter width: a CPU test
    }
    return A2OTrainConfig(**{**base, **changes})


# ------------------------------------------------------------------------------ data
def test_maps_are_aligned_with_the_decoded_frames(synthact):
    record = synthact["train"].records[0]
    spec = ClipSpec(num_frames=4, short_side=32, crop_size=24)
    decoded = decode_frames(record, spec)
    reference = decode_record(record, spec)
    np.testing.assert_array_equal(decoded.frames, reference.frames)  # same pixels as training
    store = NamedMaskStore(map_size=32)  # the video's own size: alignment must be exact
    dataset = MapClipDataset([record], spec, ["person", "sky"], store)
    item = dataset[0]
    assert item["video"].shape == (3, 4, 24, 24) and item["maps"].shape == (2, 4, 24, 24)
    assert store.calls[0][1] == tuple(decoded.indices.tolist())
    masks = load_masks(record.extras["mask_path"])
    top, left = decoded.origin
    for q, name in enumerate(["person", "sky"]):
        expected = masks[name][decoded.indices][:, top : top + 24, left : left + 24]
        np.testing.assert_array_equal(item["maps"][q].numpy(), expected.astype(np.float32))
    # Maps at another resolution are resized onto the frames like person masks.
    coarse = MapClipDataset([record], spec, ["person"], NamedMaskStore(map_size=16))[0]["maps"]
    exact = item["maps"][:1]
    correlation = np.corrcoef(coarse.numpy().ravel(), exact.numpy().ravel())[0, 1]
    shifted = np.corrcoef(coarse.numpy().ravel(), exact.roll(5, dims=-1).numpy().ravel())[0, 1]
    assert correlation > 0.7 and correlation > shifted + 0.3
    assert float(coarse.min()) >= 0 and float(coarse.max()) <= 1


def test_maps_of_another_aspect_ratio_are_refused(synthact):
    record = synthact["train"].records[0]
    decoded = decode_frames(record, ClipSpec(num_frames=2, short_side=32, crop_size=None))
    with pytest.raises(BadInputError, match="aspect"):
        align_maps(np.zeros((1, 2, 16, 32), np.float32), decoded, record.path)
    with pytest.raises(BadInputError, match="frames"):
        align_maps(np.zeros((1, 3, 16, 16), np.float32), decoded, record.path)


def test_broken_clips_are_skipped_and_counted(synthact, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video")
    good = synthact["train"].records[:3]
    broken = VideoRecord("broken", str(bad), "waving", 0, extras=dict(good[0].extras))
    manifest = Manifest([*good, broken], synthact["train"].classes)
    spec = ClipSpec(num_frames=4, short_side=32, crop_size=32)
    skips = SkipLog()
    data = A2ODataModule(manifest, None, spec, ["person"], NamedMaskStore(), 2, skip_log=skips)
    assert len(data.dataset("train")) == 3 and "broken" in skips
    # Without preloading the loader forwards a skip marker instead.
    lazy = MapClipDataset([*good, broken], spec, ["person"], NamedMaskStore())
    batches = list(make_loader(lazy, batch_size=4, shuffle=False))
    assert batches[0]["skipped"][0][0] == "broken" and batches[0]["label"].shape == (3,)


def test_frame_cache_decodes_once_and_remembers_failures(synthact, tmp_path):
    cache = FrameCache(ClipSpec(num_frames=2, short_side=32, crop_size=32))
    record = synthact["val"].records[0]
    assert cache.get(record) is cache.get(record)
    broken = VideoRecord("x", str(tmp_path / "missing.mp4"), None, None)
    for _ in range(2):
        with pytest.raises(BadInputError):
            cache.get(broken)
    assert len(cache) == 2


def test_few_shot_is_seeded_and_names_short_classes(synthact):
    train = synthact["train"]
    first, again, other = few_shot(train, 2, 0), few_shot(train, 2, 0), few_shot(train, 2, 1)
    assert [r.id for r in first] == [r.id for r in again]
    assert [r.id for r in first] != [r.id for r in other]
    counts = np.bincount([r.label_id for r in first], minlength=3)
    assert counts.tolist() == [2, 2, 2] and first.classes == train.classes
    with pytest.raises(BadInputError, match="class 'waving' has 6 labelled clips"):
        few_shot(train, 7, 0)


# ---------------------------------------------------------------------- environment
def test_the_real_map_store_gives_the_same_maps(synthact, tmp_path):
    from actionbias.a2o.maps import MapStore

    store = MapStore("synth-oracle", tmp_path / "maps", map_size=MAP_SIZE)
    spec = ClipSpec(num_frames=4, short_side=32, crop_size=32)
    records = synthact["val"].records[:2]
    real = MapClipDataset(records, spec, ["person", "sky"], store)
    fake = MapClipDataset(records, spec, ["person", "sky"], NamedMaskStore())
    for i in range(2):
        difference = (real[i]["maps"] - fake[i]["maps"]).abs()
        assert float(difference.mean()) < 0.02 and float(real[i]["maps"].max()) == 1.0


def test_one_epoch_trial_returns_a_sane_reward_and_weights(synthact, tmp_path):
    from actionbias.a2o.maps import MapStore

    # The real store (oracle backend; exact mask names, so no text encoder is loaded).
    store = MapStore("synth-oracle", tmp_path / "maps", map_size=MAP_SIZE)
    env = TrainEnvironment(synthact["train"], synthact["val"], store, config())
    reward = env.evaluate(["person", "sky"], tmp_path / "trial")
    assert 0.0 <= reward.accuracy <= 1.0
    assert set(reward.classwise) == set(synthact["val"].classes)
    assert reward.accuracy == pytest.approx(np.mean(list(reward.classwise.values())))
    assert Path(reward.weights).is_file() and reward.seconds > 0
    assert reward.extra["train_clips"] == 18 and reward.extra["val_clips"] == 6
    assert reward.extra["adapter_contribution"] > 0  # the maps reached the backbone
    assert reward.extra["inference_ms_per_clip"] > 0
    saved = json.loads((tmp_path / "trial" / "reward.json").read_text())
    assert saved["accuracy"] == reward.accuracy
    model = load_trial_model(reward.weights, 2)
    assert model.num_maps == 2 and model.adapter is not None
    with pytest.raises(BadInputError, match="2 object maps"):
        load_trial_model(reward.weights, 3)


def test_same_seed_same_reward_and_plain_baseline(synthact, tmp_path):
    env = TrainEnvironment(synthact["train"], synthact["val"], NamedMaskStore(), config())
    first = env.evaluate(["person"], tmp_path / "a")
    second = env.evaluate(["person"], tmp_path / "b")
    assert first.accuracy == second.accuracy and first.classwise == second.classwise
    a, b = (torch.load(r.weights, weights_only=False)["state_dict"] for r in (first, second))
    assert all(torch.equal(a[k], b[k]) for k in a)
    # Decoding in the loader instead of in memory trains on the very same batches.
    lazy = TrainEnvironment(
        synthact["train"], synthact["val"], NamedMaskStore(), config(preload=False)
    )
    streamed = lazy.evaluate(["person"], tmp_path / "lazy")
    assert streamed.classwise == first.classwise and len(lazy.frames["train"]) == 0
    plain = TrainEnvironment(synthact["train"], synthact["val"], None, config())
    baseline = plain.evaluate([], tmp_path / "plain", epochs=2)  # the final-training override
    assert baseline.extra["epochs"] == 2 and plain.config.epochs == 1
    assert load_trial_model(baseline.weights).required_inputs == ("video",)
    with pytest.raises(BadInputError, match="epochs"):
        plain.evaluate([], tmp_path / "zero", epochs=0)
    with pytest.raises(BadInputError, match="no map store"):
        plain.evaluate(["person"], tmp_path / "nope")


def test_evaluate_checkpoint_writes_an_audit_run(synthact, tmp_path):
    store = NamedMaskStore()
    env = TrainEnvironment(synthact["train"], synthact["val"], store, config())
    reward = env.evaluate(["person"], tmp_path / "trial")
    direct = env.evaluate_checkpoint(reward.weights, synthact["val"], ["person"])
    assert direct.accuracy == pytest.approx(reward.accuracy) and direct.clips == 6
    audit = env.evaluate_checkpoint(
        reward.weights, synthact["swap"], ["person"], out_dir=tmp_path / "audit"
    )
    assert audit.clips == len(synthact["swap"]) and audit.skipped == 0
    assert {row["id"] for row in audit.predictions} == {r.id for r in synthact["swap"]}
    assert (tmp_path / "audit" / "metrics.json").is_file()
    assert (tmp_path / "audit" / "predictions.jsonl").is_file()
    assert audit.ms_per_clip > 0
