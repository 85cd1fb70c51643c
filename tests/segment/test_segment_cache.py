"""Mask cache (round trip, atomic writes, keys), sharding, and the resumable run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from actionbias.errors import BadInputError, VideoReadError
from actionbias.segment import (
    MaskCache,
    PersonSegmenter,
    parse_shard,
    segment_videos,
    shard_items,
)
from actionbias.segment import cache as cache_module


class CountingSegmenter(PersonSegmenter):
    """Masks derived from the frames (bright pixels = person); counts its calls."""

    name = "counting"

    def __init__(self, level: int = 128) -> None:
        self.level = level
        self.calls: list[Any] = []

    def options(self) -> dict[str, Any]:
        return {"level": self.level}

    def segment(self, frames, indices=None, record=None):  # type: ignore[no-untyped-def]
        self.calls.append(record)
        return (frames[..., 0] > self.level).astype(np.float32)


def _video(num: int, person_frames: list[int]) -> np.ndarray:
    frames = np.zeros((num, 20, 30, 3), np.uint8)
    for t in person_frames:
        frames[t, 5:15, 10:20] = 255
    return frames


def test_cache_round_trip_quantises_and_counts_person_frames(tmp_path: Path) -> None:
    cache = MaskCache(tmp_path / "cache")
    masks = np.zeros((3, 20, 30), np.float32)
    masks[1, 5:15, 10:20] = 0.7
    masks[2, 0, 0] = 1.0  # one pixel: below the default minimum area
    entry = cache.save("videos/a.mp4", "mediapipe", {"model": "selfie"}, masks, [4, 5, 6])
    loaded = cache.load("videos/a.mp4", "mediapipe", {"model": "selfie"})
    assert loaded is not None and loaded.path == entry.path
    assert loaded.masks.dtype == np.uint8
    np.testing.assert_array_equal(loaded.masks, np.rint(masks * 255).astype(np.uint8))
    np.testing.assert_allclose(loaded.unit, masks, atol=0.5 / 255)
    assert loaded.indices.tolist() == [4, 5, 6]
    assert loaded.has_person.tolist() == [False, True, False]
    assert loaded.frames_without_person == 2
    assert loaded.meta["key"]["options"] == {"model": "selfie"}
    assert entry.path.parent == tmp_path / "cache" / "mediapipe"
    assert entry.path.name.startswith("a-") and entry.path.suffix == ".npz"


def test_cache_key_separates_videos_backends_options_and_windows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cache = MaskCache(tmp_path)
    base = cache.path_for("v.mp4", "mediapipe", {"model": "selfie"})
    # The key uses the resolved path: spellings of the same file share an entry.
    same = str(tmp_path / "sub" / ".." / "v.mp4")
    assert base == cache.path_for(same, "mediapipe", {"model": "selfie"})
    others = {
        cache.path_for("w.mp4", "mediapipe", {"model": "selfie"}),
        cache.path_for("v.mp4", "oracle", {"model": "selfie"}),
        cache.path_for("v.mp4", "mediapipe", {"model": "pose"}),
        cache.path_for("v.mp4", "mediapipe", {"model": "selfie"}, start=1.0, end=3.0),
    }
    assert base not in others and len(others) == 4
    # Key order inside the options does not matter.
    assert cache.path_for("v", "b", {"x": 1, "y": 2}) == cache.path_for("v", "b", {"y": 2, "x": 1})


def test_cache_load_ignores_missing_corrupt_and_foreign_files(tmp_path: Path) -> None:
    cache = MaskCache(tmp_path)
    assert cache.load("a.mp4", "b", {}) is None
    path = cache.path_for("a.mp4", "b", {})
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a zip")
    assert cache.load("a.mp4", "b", {}) is None
    # A valid file written for another key but found under this name is not served.
    other = cache.save("other.mp4", "b", {}, np.zeros((1, 2, 2)))
    os.replace(other.path, path)
    assert cache.load("a.mp4", "b", {}) is None


def test_cache_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = MaskCache(tmp_path)
    first = cache.save("a.mp4", "b", {}, np.ones((2, 4, 4)))
    before = first.path.read_bytes()

    def crash(handle: Any, **arrays: Any) -> None:
        handle.write(b"partial")
        raise KeyboardInterrupt  # killed mid-write

    monkeypatch.setattr(cache_module.np, "savez_compressed", crash)
    with pytest.raises(KeyboardInterrupt):
        cache.save("a.mp4", "b", {}, np.zeros((2, 4, 4)))
    with pytest.raises(KeyboardInterrupt):
        cache.save("new.mp4", "b", {}, np.zeros((2, 4, 4)))
    assert first.path.read_bytes() == before  # the old entry is intact
    assert not cache.exists("new.mp4", "b", {})  # no half-written entry
    assert sorted(p.name for p in first.path.parent.iterdir()) == [first.path.name]  # no temp


def test_shards_cover_every_item_exactly_once() -> None:
    items = [f"v{i}" for i in range(11)]
    shards = [shard_items(items, i, 3) for i in range(3)]
    assert sorted(item for shard in shards for item in shard) == sorted(items)
    assert sum(len(s) for s in shards) == len(items)
    assert {len(s) for s in shards} == {3, 4}
    assert shard_items(items, 1, 3) == shard_items(items, 1, 3) == items[1::3]
    assert shard_items(items, 0, 1) == items
    assert parse_shard("2/8") == (2, 8)
    for bad in ("8/8", "a/b", "1/0", "-1/2"):
        with pytest.raises(BadInputError, match="shard"):
            parse_shard(bad)


def test_segment_videos_resumes_counts_and_survives_broken_videos(tmp_path: Path) -> None:
    videos = {
        "a.mp4": _video(4, [0, 1, 2, 3]),
        "b.mp4": _video(3, []),  # nobody on any frame
        "c.mp4": _video(5, [2]),
        "broken.mp4": None,
        "d.mp4": _video(2, [0]),
    }
    reads: list[str] = []

    def reader(item: str) -> tuple[np.ndarray, np.ndarray]:
        reads.append(item)
        frames = videos[item]
        if frames is None:
            raise VideoReadError(item, "truncated file")
        return frames, np.arange(len(frames))

    cache = MaskCache(tmp_path)
    segmenter = CountingSegmenter()
    items = list(videos)
    halves = [segment_videos(items, segmenter, cache, (i, 2), read_frames=reader) for i in (0, 1)]
    assert [s.videos for s in halves] == [3, 2]
    assert sum(s.computed for s in halves) == 4
    assert sum(s.failed for s in halves) == 1
    assert halves[1].failures == [("broken.mp4", "broken.mp4: truncated file")]

    reads.clear()
    statuses: list[str] = []
    again = segment_videos(
        items, segmenter, cache, read_frames=reader, progress=lambda i, s: statuses.append(s)
    )
    assert (again.computed, again.reused, again.failed) == (0, 4, 1)
    assert reads == ["broken.mp4"]  # cached videos are not decoded again
    assert statuses == ["reused", "reused", "reused", "failed", "reused"]
    assert again.frames == 4 + 3 + 5 + 2
    assert again.frames_without_person == 0 + 3 + 4 + 1
    assert again.videos_without_person == 1
    assert again.to_json()["failures"][0]["path"] == "broken.mp4"

    # Other options are another cache entry: recomputed, not reused.
    other = segment_videos(items, CountingSegmenter(level=10), cache, read_frames=reader)
    assert other.computed == 4


def test_segment_videos_passes_records_and_their_windows(tmp_path: Path) -> None:
    class Record:
        def __init__(self, path: str, start: float | None) -> None:
            self.path, self.start, self.end, self.extras = path, start, None, {}

    records = [Record("same.mp4", None), Record("same.mp4", 2.0)]
    segmenter = CountingSegmenter()
    stats = segment_videos(
        records, segmenter, MaskCache(tmp_path), read_frames=lambda r: (_video(1, [0]), [0])
    )
    assert stats.computed == 2  # one file, two windows: two entries
    assert segmenter.calls == records
