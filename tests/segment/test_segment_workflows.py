"""End to end: segment -> inpaint (HAT layout) -> swap / scene swap, with resume."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from actionbias.data import Manifest, VideoRecord, read_hat, read_slowfast_list, read_swap_csv
from actionbias.segment import MaskCache, load_hat_masks
from actionbias.segment.workflows import (
    hat_key,
    run_inpaint,
    run_scene_swap,
    run_segment,
    run_swap,
)
from actionbias.video import read_all_frames, write_video

CLASSES = ["clapping", "waving"]
SCENES = {"clapping": (40, 160, 60), "waving": (60, 90, 200)}  # flat scene colour per class


def _make_clip(tmp: Path, label: str, i: int, num: int, person_size: int) -> VideoRecord:
    """A flat class-coloured scene with a white 'person' block and its exact mask."""
    frames = np.empty((num, 48, 64, 3), np.uint8)
    frames[:] = SCENES[label]
    person = np.zeros((num, 48, 64), bool)
    for t in range(num):
        x = 8 + 2 * t + 6 * i
        person[t, 10 : 10 + person_size, x : x + person_size // 2] = True
    frames[person] = (250, 250, 250)
    clip_id = f"{label[:4]}{i}"
    video = write_video(tmp / "videos" / label / f"{clip_id}.mp4", frames, fps=10.0)
    masks = tmp / "masks" / f"{clip_id}.npz"
    masks.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(masks, person=person)
    return VideoRecord(
        clip_id, str(video), label, CLASSES.index(label), extras={"mask_path": str(masks)}
    )


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[VideoRecord]]:
    tmp = tmp_path_factory.mktemp("segment_workflows")
    records = [
        _make_clip(tmp, label, i, num=6 + i, person_size=16 if i < 2 else 44)
        for label in CLASSES
        for i in range(3)
    ]
    return tmp, records


def test_segment_inpaint_swap_pipeline(dataset: tuple[Path, list[VideoRecord]]) -> None:
    tmp, records = dataset
    masks_dir, hat_root, swaps = tmp / "cache", tmp / "hat", tmp / "swaps"

    halves = [
        run_segment(records, masks_dir, "oracle", shard=(i, 2), progress=False) for i in (0, 1)
    ]
    assert sum(s.computed for s in halves) == len(records)
    summary = json.loads((masks_dir / "segment-summary.shard1of2.json").read_text())
    assert summary["backend"] == "oracle" and summary["videos"] == 3
    assert run_segment(records, masks_dir, "oracle", progress=False).reused == len(records)

    manifest = Manifest(list(records), classes=CLASSES)
    stats = run_inpaint(manifest, hat_root, masks_dir, backend="oracle", progress=False)
    assert (stats.written, stats.failed) == (6, 0)
    again = run_inpaint(records, hat_root, masks_dir, backend="oracle", progress=False)
    assert (again.written, again.existing) == (0, 6)

    # The HAT layout reads back through actionbias.data (its classes.txt included);
    # seg holds the cached masks.
    hat = read_hat(hat_root)
    assert hat.classes == CLASSES
    assert sorted(r.id for r in hat) == sorted(hat_key(r) for r in records)
    record = records[0]
    cached = MaskCache(masks_dir).load(record.path, "oracle", {"key": "person"})
    assert cached is not None
    np.testing.assert_array_equal(load_hat_masks(hat_root / "seg" / hat_key(record)), cached.masks)
    # The inpainted background has lost the white person: it is close to the scene.
    inp = read_all_frames(hat_root / "inp" / hat_key(record)).frames.astype(int)
    person = cached.masks > 128
    assert np.abs(inp[person] - np.array(SCENES[record.label])).max() < 40

    swap = run_swap(hat_root, swaps, policy="hat", seed=0, progress=False, classes=CLASSES)
    # Clips 0, 1 of each class cover ~4 % of the frame (< 5 %): filtered like HAT did.
    assert (swap.items, swap.filtered, swap.written, swap.failed) == (6, 4, 2, 0)
    pairs = read_swap_csv(swaps / "swap_pairs.csv")
    assert len(pairs) == 2 and all(p.has_person for p in pairs)
    for pair in pairs:
        assert pair.human_label != pair.background_label
        video = read_all_frames(swaps / pair.extras["video"]).frames
        human_frames = len(read_all_frames(hat_root / "ori" / pair.human_clip).frames)
        assert video.shape == (human_frames, 48, 64, 3)
        coverage = float(pair.extras["coverage"])
        assert 0.05 <= coverage <= 0.5
        # Everything but the pasted (white) person is B's scene, up to H.264 noise.
        scene = np.abs(video.astype(int) - np.array(SCENES[pair.background_label])).max(-1) < 16
        white = video.min(-1) > 200
        assert scene.mean() > 1 - coverage - 0.06
        assert abs(white.mean() - coverage) < 0.06

    every = run_swap(hat_root, tmp / "swaps_all", policy="alpha", coverage=None, progress=False)
    assert (every.written, every.filtered) == (6, 0)
    rerun = run_swap(hat_root, tmp / "swaps_all", policy="alpha", coverage=None, progress=False)
    assert (rerun.written, rerun.existing) == (0, 6)
    assert len(read_swap_csv(tmp / "swaps_all" / "swap_pairs.csv")) == 6


def test_swap_from_a_pair_csv_and_a_broken_clip(dataset: tuple[Path, list[VideoRecord]]) -> None:
    tmp, records = dataset
    hat_root = tmp / "hat_csv"
    run_inpaint(records, hat_root, tmp / "cache2", backend="oracle", progress=False)
    pair_csv = tmp / "pairs.csv"
    pair_csv.write_text(
        "human_clip,human_label,background_clip,background_label\n"
        "clapping/clap2,clapping,waving/wavi2,waving\n"
        "clapping/gone,clapping,waving/wavi2,waving\n"
    )
    stats = run_swap(hat_root, tmp / "swaps_csv", pairs=pair_csv, coverage=None, progress=False)
    assert (stats.written, stats.failed) == (1, 1)
    assert "gone" in stats.failures[0][0]


def test_scene_swap_dataset(dataset: tuple[Path, list[VideoRecord]]) -> None:
    tmp, records = dataset
    scenes = tmp / "scenes"
    scenes.mkdir()
    for i, colour in enumerate([(0, 0, 255), (255, 0, 0)]):
        image = np.zeros((20, 20, 3), np.uint8)
        image[:] = colour
        cv2.imwrite(str(scenes / f"s{i}.png"), image)
    out = tmp / "aug"
    stats = run_scene_swap(records, out, scenes, tmp / "cache3", backend="oracle", progress=False)
    assert (stats.written, stats.failed) == (6, 0)
    listed = read_slowfast_list(out / "list.txt", classes=CLASSES)
    assert len(listed) == 6 and {r.label for r in listed} == set(CLASSES)
    chosen = json.loads((out / "scene-swap-summary.json").read_text())["chosen"]
    for record in records:
        video = read_all_frames(out / "videos" / f"{hat_key(record)}.mp4").frames
        expected = (255, 0, 0) if chosen[hat_key(record)].endswith("s0.png") else (0, 0, 255)
        assert np.abs(video[:, 0, 0].astype(int) - np.array(expected)).max() < 12
    again = run_scene_swap(records, out, scenes, tmp / "cache3", backend="oracle", progress=False)
    assert (again.written, again.existing) == (0, 6)
