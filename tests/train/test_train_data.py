"""The data module: exactly the inputs each model reads, masks from every source, skips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from actionbias.data import Manifest, SkipLog, VideoRecord
from actionbias.errors import BadInputError
from actionbias.models import list_models, model_entry
from actionbias.segment import MaskCache, PersonSegmenter, load_oracle_masks, register_segmenter
from actionbias.synth import read_synthact
from actionbias.train import (
    ClipDataset,
    ClipSpec,
    EpochSampler,
    MaskSource,
    VideoDataModule,
    collate,
    decode_record,
    load_config,
    scene_backgrounds,
)
from actionbias.train.datamodule import build_mask_source
from actionbias.train.dataset import preload
from actionbias.video import read_all_frames, read_clip

SPEC = ClipSpec(num_frames=8, short_side=64, crop_size=48)
MEAN = torch.tensor(SPEC.mean).view(3, 1, 1, 1)
STD = torch.tensor(SPEC.std).view(3, 1, 1, 1)


@pytest.fixture(scope="module")
def manifests(synthact: Path) -> dict[str, Manifest]:
    return read_synthact(synthact)


def _datamodule(synthact: Path, needs, *overrides: str) -> VideoDataModule:
    config = load_config(
        "synthact",
        [f"data.train={synthact}", f"data.val={synthact}", "data.batch_size=5", *overrides],
    )
    manifests = read_synthact(synthact)
    dm = VideoDataModule(config.data, needs, manifests["train"], manifests["val"], SkipLog())
    dm.setup("fit")
    return dm


# Detector maps ("maps", A2O) come from actionbias.a2o.data, not this data module.
TRAIN_INPUTS = {"video", "human", "mask"}


@pytest.mark.parametrize(
    "name", [n for n in list_models() if set(model_entry(n).required_inputs) <= TRAIN_INPUTS]
)
def test_batches_hold_exactly_the_models_inputs(synthact: Path, name: str):
    needs = model_entry(name).required_inputs
    dm = _datamodule(synthact, needs)
    batch = next(iter(dm.train_dataloader()))
    assert set(batch) == {*needs, "label", "index", "skipped"}
    assert batch["skipped"] == []
    for key in needs:
        expected = (5, 1 if key == "mask" else 3, 8, 64, 64)
        assert tuple(batch[key].shape) == expected, key
        assert batch[key].dtype == torch.float32
    if "mask" in needs:
        assert set(batch["mask"].unique().tolist()) <= {0.0, 1.0}  # exact oracle masks
    assert batch["label"].dtype == torch.long
    assert batch["label"].min() >= 0 and batch["label"].max() < 6


def test_video_is_the_decoded_clip_normalised_with_slowfast_statistics(manifests):
    record = manifests["train"][3]
    item = ClipDataset([record], SPEC, ("video",))[0]
    frames = read_clip(record.path, 8, short_side=64, size=48, crop="center").frames
    expected = (torch.from_numpy(frames).permute(3, 0, 1, 2).float() / 255 - MEAN) / STD
    torch.testing.assert_close(item["video"], expected)


def test_human_only_is_zero_outside_the_mask_and_the_video_inside(manifests):
    record = manifests["train"][0]
    masks = MaskSource("oracle")
    item = ClipDataset([record], SPEC, ("video", "human", "mask"), masks)[0]
    video, human, mask = item["video"], item["human"], item["mask"][0]
    outside, inside = mask == 0, mask == 1
    assert inside.any() and outside.any()
    black = (-MEAN / STD).expand_as(human)  # a 0 pixel after normalisation
    assert torch.equal(human[:, outside], black[:, outside])
    torch.testing.assert_close(human[:, inside], video[:, inside])


def test_mean_fill_uses_the_fill_colour(manifests):
    record = manifests["train"][0]
    spec = ClipSpec(num_frames=8, short_side=64, crop_size=48, human_fill="mean")
    item = ClipDataset([record], spec, ("human", "mask"), MaskSource("oracle"))[0]
    outside = item["mask"][0] == 0
    pixels = item["human"][:, outside] * STD[:, :, 0, 0] + MEAN[:, :, 0, 0]
    expected = torch.tensor([123.0, 116.0, 103.0]) / 255
    torch.testing.assert_close(pixels, expected[:, None].expand_as(pixels))


def test_masks_follow_the_sampled_frames_and_the_crop(manifests):
    record = manifests["train"][1]
    spec = ClipSpec(num_frames=4, short_side=64, crop_size=40)
    clip = decode_record(record, spec, MaskSource("oracle"))
    raw = read_clip(record.path, 4, short_side=64)
    full = load_oracle_masks(record.extras["mask_path"], raw.indices)
    assert clip.mask is not None and clip.mask.shape == (4, 40, 40)
    np.testing.assert_array_equal(clip.mask > 127, full[:, 12:52, 12:52] > 0.5)


def test_hat_seg_folders_give_the_same_masks_as_the_oracle(manifests):
    record = manifests["val"][2]
    oracle = decode_record(record, SPEC, MaskSource("oracle")).mask
    hat = decode_record(record, SPEC, MaskSource("hat")).mask
    np.testing.assert_array_equal(oracle, hat)


class _HalfSegmenter(PersonSegmenter):
    """A stand-in backend: the left half of every frame is "person"."""

    name = "test-half"

    def options(self):
        return {"side": "left"}

    def segment(self, frames, indices=None, record=None):
        masks = np.zeros(frames.shape[:3], np.float32)
        masks[:, :, : frames.shape[2] // 2] = 1.0
        return masks


def test_masks_from_the_segment_cache(manifests, tmp_path: Path):
    register_segmenter("test-half", _HalfSegmenter)
    record = manifests["train"][4]
    everything = read_all_frames(record.path)
    cache = MaskCache(tmp_path / "masks")
    backend = _HalfSegmenter()
    masks = backend.segment(everything.frames)
    cache.save(record.path, backend.name, backend.options(), masks, everything.indices)
    source = MaskSource("cache", tmp_path / "masks", "test-half")
    mask = decode_record(record, ClipSpec(num_frames=8, short_side=64, crop_size=64), source).mask
    assert mask is not None
    assert (mask[:, :, :32] == 255).all() and (mask[:, :, 32:] == 0).all()
    # A video the cache has not seen is a per-clip error (skipped), naming the command.
    with pytest.raises(BadInputError, match="actionbias segment"):
        decode_record(manifests["train"][5], SPEC, source)


def test_no_mask_source_for_a_model_that_needs_masks_fails_before_training(manifests):
    plain = Manifest(
        [VideoRecord(r.id, r.path, r.label, r.label_id) for r in manifests["train"].records[:3]],
        manifests["train"].classes,
    )
    config = load_config("synthact")
    with pytest.raises(BadInputError, match=r"field data\.masks"):
        build_mask_source(config.data, ("video", "human"), plain)
    # A video-only model does not need any.
    assert build_mask_source(config.data, ("video",), plain) is None


def test_broken_clips_are_skipped_and_counted_in_loaders_and_preloading(manifests, tmp_path: Path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42 definitely not a video")
    good = manifests["train"].records[:3]
    records = [*good[:1], VideoRecord("bad", str(broken), "waving", 0), *good[1:]]
    records.append(VideoRecord("gone", str(tmp_path / "missing.mp4"), "waving", 0))
    dataset = ClipDataset(records, SPEC, ("video",))
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=5,
        collate_fn=collate,
        num_workers=1,
        multiprocessing_context="forkserver",
    )
    (batch,) = list(loader)
    assert batch["video"].shape[0] == 3
    assert sorted(s[0] for s in batch["skipped"]) == ["bad", "gone"]
    assert all(s[2] for s in batch["skipped"])  # a reason for each

    log = SkipLog()
    kept, clips = preload(records, SPEC, None, log, workers=2)
    assert [r.id for r in kept] == [r.id for r in records if r.id not in ("bad", "gone")]
    assert len(clips) == 3
    assert log.count == 2 and {item.id for item in log.items} == {"bad", "gone"}


def test_scene_swap_doubles_the_set_and_keeps_the_person(synthact: Path):
    needs = ("video", "human", "mask")
    dm = _datamodule(synthact, needs, "data.scene_swap=true")
    plain = _datamodule(synthact, needs)
    assert dm.train_set is not None and plain.train_set is not None
    n = plain.train_set.num_records
    assert len(dm.train_set) == 2 * n and len(plain.train_set) == n
    original, swapped = dm.train_set[2], dm.train_set[n + 2]
    assert original["label"] == swapped["label"]
    torch.testing.assert_close(original["human"], swapped["human"])
    person = original["mask"][0] == 1
    assert torch.equal(original["video"][:, person], swapped["video"][:, person])
    assert not torch.equal(original["video"][:, ~person], swapped["video"][:, ~person])
    # Same background for that clip every time (a fixed augmented dataset).
    torch.testing.assert_close(dm.train_set[n + 2]["video"], swapped["video"])


def test_kept_items_equal_rebuilt_ones_with_scene_swap(synthact: Path):
    needs = ("video", "human", "mask")
    dm = _datamodule(synthact, needs, "data.scene_swap=true")
    kept = dm.train_set
    assert kept is not None and kept._items is not None  # the tiny set fits the limit
    rebuilt = ClipDataset(
        kept.records, kept.spec, needs, kept.masks, kept.clips, kept.augment, keep_items=False
    )
    for _ in range(2):  # the second pass is served from the kept items
        for index in range(len(kept)):
            a, b = kept[index], rebuilt[index]
            assert a.keys() == b.keys()
            for key in a:
                torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)
    assert len(kept._items) == len(kept)
    small = _datamodule(synthact, needs, "data.cache_clips=true", "data.cache_limit_mb=1")
    assert small.train_set is not None and small.train_set._items is None


def test_synthact_scenes_render_at_the_crop_size():
    home = scene_backgrounds("synthact:home", 48, variants=2)
    neutral = scene_backgrounds("synthact:neutral", 48, variants=3)
    assert len(home) == 14 * 2 and len(neutral) == 2 * 3
    assert all(image.shape == (48, 48, 3) and image.dtype == np.uint8 for image in home)
    assert not np.array_equal(neutral[0], neutral[1])  # seeds vary the painting
    with pytest.raises(BadInputError, match="scene"):
        scene_backgrounds("synthact:beach", 48)


def test_epoch_sampler_is_a_function_of_seed_and_epoch():
    sampler = EpochSampler(10, seed=3)
    first = list(sampler)
    assert sorted(first) == list(range(10))
    assert list(sampler) == first
    sampler.set_epoch(1)
    second = list(sampler)
    assert second != first
    again = EpochSampler(10, seed=3)
    again.set_epoch(1)
    assert list(again) == second
    assert list(EpochSampler(4, shuffle=False)) == [0, 1, 2, 3]
