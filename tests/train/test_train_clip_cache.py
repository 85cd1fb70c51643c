"""The on-disk clip cache: a hit gives the same clips and skips, a change misses."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import actionbias.train.dataset as dataset_module
from actionbias.data import SkipLog, VideoRecord
from actionbias.synth import read_synthact
from actionbias.train import ClipSpec, MaskSource, train
from actionbias.train.clip_cache import cache_key
from actionbias.train.dataset import preload

SPEC = ClipSpec(num_frames=8, short_side=64, crop_size=48)


@pytest.fixture
def records(synthact_copy: Path, tmp_path: Path) -> list[VideoRecord]:
    good = list(read_synthact(synthact_copy)["train"].records[:5])
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42 not a video")
    # A broken video of a clip whose mask file is fine (SynthAct's layout).
    bad = VideoRecord("bad", str(broken), "waving", 0, extras=dict(good[0].extras))
    return [*good[:2], bad, *good[2:]]


def _no_decoding(*args, **kwargs):
    raise AssertionError("decoded although the cache holds these clips")


@pytest.mark.parametrize("with_masks", [False, True])
def test_a_hit_returns_the_same_clips_and_skips_without_decoding(
    records, tmp_path: Path, monkeypatch, with_masks: bool
):
    masks = MaskSource("oracle") if with_masks else None
    first_log = SkipLog()
    kept, clips = preload(records, SPEC, masks, first_log, 2, cache_dir=str(tmp_path / "c"))
    assert len(list((tmp_path / "c").iterdir())) == 1

    monkeypatch.setattr(dataset_module, "decode_record", _no_decoding)
    second_log = SkipLog()
    again, cached = preload(records, SPEC, masks, second_log, 2, cache_dir=str(tmp_path / "c"))
    assert [r.id for r in again] == [r.id for r in kept] and "bad" not in {r.id for r in again}
    for a, b in zip(clips, cached, strict=True):
        np.testing.assert_array_equal(a.frames, b.frames)
        if with_masks:
            assert a.mask is not None and b.mask is not None
            np.testing.assert_array_equal(a.mask, b.mask)
        else:
            assert b.mask is None
    assert [(i.id, i.reason) for i in second_log.items] == [
        (i.id, i.reason) for i in first_log.items
    ]
    assert second_log.count == 1


def test_a_changed_video_or_spec_misses(records, tmp_path: Path):
    key = cache_key(records, SPEC, None)
    assert key is not None
    assert cache_key(records, ClipSpec(num_frames=4, short_side=64, crop_size=48), None) != key
    assert cache_key(records, SPEC, MaskSource("oracle")) != key
    touched = Path(records[0].path)
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert cache_key(records, SPEC, None) != key


def test_only_provable_entries_are_cached(records, tmp_path: Path):
    # No crop: clips may differ in shape; HAT or segmenter masks: many files the key
    # cannot vouch for. Neither gets a key, so preload decodes as before.
    assert cache_key(records, ClipSpec(num_frames=8, short_side=64, crop_size=None), None) is None
    assert cache_key(records, SPEC, MaskSource("hat")) is None


def test_a_torn_entry_is_ignored(records, tmp_path: Path):
    cache = tmp_path / "c"
    preload(records, SPEC, None, SkipLog(), 1, cache_dir=str(cache))
    (entry,) = cache.iterdir()
    (entry / "frames.npy").write_bytes(b"truncated")
    kept, clips = preload(records, SPEC, None, SkipLog(), 1, cache_dir=str(cache))
    assert len(clips) == len(kept) == len(records) - 1


def test_a_training_from_the_cache_has_the_same_history(make_config, tmp_path: Path):
    keys = ("train_loss", "train_acc", "val_loss", "val_acc")
    cache = tmp_path / "clips"
    plain = train(make_config("model.name=segmented", run_dir=tmp_path / "plain"))
    first = train(
        make_config("model.name=segmented", f"data.clip_cache={cache}", run_dir=tmp_path / "a")
    )
    assert len(list(cache.iterdir())) == 2  # training and validation clips
    shutil.rmtree(tmp_path / "a")
    second = train(
        make_config("model.name=segmented", f"data.clip_cache={cache}", run_dir=tmp_path / "a")
    )
    rows = [[{k: r[k] for k in keys} for r in run.history] for run in (plain, first, second)]
    assert rows[0] == rows[1] == rows[2]
