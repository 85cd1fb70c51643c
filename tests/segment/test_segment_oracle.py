"""The oracle backend: SynthAct-style .npz masks, frame selection, resizing, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from actionbias.data import VideoRecord
from actionbias.errors import BadInputError
from actionbias.segment import (
    MaskCache,
    OracleSegmenter,
    build_segmenter,
    load_oracle_masks,
    segment_videos,
)
from actionbias.video import write_video


def _write_npz(path: Path, num: int = 6, height: int = 16, width: int = 24) -> np.ndarray:
    person = np.zeros((num, height, width), bool)
    for t in range(num):
        person[t, 4:12, t : t + 8] = True  # the person's position encodes the frame
    head = np.zeros_like(person)
    head[:, 4:6, 2:4] = True
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, person=person, head=head)
    return person


def test_load_oracle_masks_selects_frames_and_keys(tmp_path: Path) -> None:
    person = _write_npz(tmp_path / "masks" / "test" / "clip.npz")
    masks = load_oracle_masks(tmp_path / "masks" / "test" / "clip.npz")
    assert masks.dtype == np.float32 and masks.shape == (6, 16, 24)
    np.testing.assert_array_equal(masks, person.astype(np.float32))
    picked = load_oracle_masks(tmp_path / "masks" / "test" / "clip.npz", indices=[5, 0, 3])
    np.testing.assert_array_equal(picked, person[[5, 0, 3]])
    head = load_oracle_masks(tmp_path / "masks" / "test" / "clip.npz", key="head")
    assert head.sum() == 6 * 4


def test_load_oracle_masks_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "clip.npz"
    _write_npz(path)
    with pytest.raises(BadInputError, match=r"clip\.npz.*out of range"):
        load_oracle_masks(path, indices=[6])
    with pytest.raises(BadInputError, match="no mask named 'ball'"):
        load_oracle_masks(path, key="ball")
    with pytest.raises(BadInputError, match="not found"):
        load_oracle_masks(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_text("junk")
    with pytest.raises(BadInputError, match="not a readable"):
        load_oracle_masks(tmp_path / "junk.npz")


def test_oracle_segmenter_follows_record_indices_and_resizes(tmp_path: Path) -> None:
    path = tmp_path / "clip.npz"
    person = _write_npz(path)
    oracle = build_segmenter("oracle")
    assert isinstance(oracle, OracleSegmenter) and oracle.options() == {"key": "person"}
    record = VideoRecord("clip", "clip.mp4", "waving", 0, extras={"mask_path": str(path)})
    frames = np.zeros((2, 16, 24, 3), np.uint8)
    out = oracle.segment(frames, indices=np.array([1, 4]), record=record)
    np.testing.assert_array_equal(out, person[[1, 4]])
    # Read at half size (short_side=8): masks are area-resized to the frames.
    half = oracle.segment(np.zeros((2, 8, 12, 3), np.uint8), indices=[1, 4], record=record)
    assert half.shape == (2, 8, 12)
    assert half.sum() == pytest.approx(person[[1, 4]].sum() / 4)
    # A cropped read cannot be matched.
    with pytest.raises(BadInputError, match="crop"):
        oracle.segment(np.zeros((2, 16, 16, 3), np.uint8), indices=[1, 4], record=record)
    with pytest.raises(BadInputError, match="mask file"):
        oracle.segment(frames, record=VideoRecord("x", "x.mp4", "a", 0))


def test_oracle_run_over_real_videos_with_the_cache(tmp_path: Path) -> None:
    records = []
    for i in range(3):
        npz = tmp_path / "masks" / f"c{i}.npz"
        person = _write_npz(npz)
        if i == 2:
            person[:] = False
            np.savez_compressed(npz, person=person)
        video = write_video(tmp_path / "videos" / f"c{i}.mp4", np.zeros((6, 16, 24, 3), np.uint8))
        records.append(VideoRecord(f"c{i}", str(video), "waving", 0, extras={"masks": str(npz)}))
    records.append(VideoRecord("gone", str(tmp_path / "gone.mp4"), "waving", 0))
    cache = MaskCache(tmp_path / "cache")
    stats = segment_videos(records, build_segmenter("oracle"), cache)
    assert (stats.computed, stats.failed, stats.frames) == (3, 1, 18)
    assert stats.videos_without_person == 1 and stats.frames_without_person == 6
    entry = cache.load(records[0].path, "oracle", {"key": "person"})
    assert entry is not None and entry.masks.max() == 255 and entry.has_person.all()
