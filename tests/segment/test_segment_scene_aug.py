"""Scene-swap augmentation: on the fly and materialised."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from actionbias.errors import BadInputError, VideoReadError
from actionbias.segment import (
    SceneSwapAugment,
    list_scene_images,
    scene_swap,
    write_scene_swap_videos,
)
from actionbias.video import read_all_frames


def _clip() -> tuple[np.ndarray, np.ndarray]:
    frames = np.full((3, 12, 16, 3), 40, np.uint8)
    masks = np.zeros((3, 12, 16), np.float32)
    frames[:, 3:9, 5:11] = (250, 200, 10)
    masks[:, 3:9, 5:11] = 1.0
    return frames, masks


def _scenes(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "scenes" / "sub"
    folder.mkdir(parents=True)
    paths = []
    for i, colour in enumerate([(0, 0, 255), (0, 255, 0), (255, 0, 0)]):
        image = np.zeros((30, 50, 3), np.uint8)
        image[:] = colour  # flat BGR colour: resizing keeps it exactly
        path = folder / f"scene{i}.png"
        cv2.imwrite(str(path), image)
        paths.append(path)
    (folder / "notes.txt").write_text("not an image")
    return paths


def test_scene_swap_pastes_the_person_on_one_resized_background(tmp_path: Path) -> None:
    frames, masks = _clip()
    scene = _scenes(tmp_path)[0]  # red in RGB
    out = scene_swap(frames, masks, scene)
    person = masks.astype(bool)
    np.testing.assert_array_equal(out[person], frames[person])
    assert (out[~person] == (255, 0, 0)).all()  # same background on every frame
    gradient = np.tile(np.arange(16, dtype=np.uint8)[None, :, None], (12, 1, 3))
    exact = scene_swap(frames, masks, gradient)  # already the frame size: no resize
    for t in range(3):
        np.testing.assert_array_equal(exact[t][~person[t]], gradient[~person[t]])


def test_augment_probability_and_keyed_determinism(tmp_path: Path) -> None:
    frames, masks = _clip()
    _scenes(tmp_path)
    scenes = list_scene_images(tmp_path / "scenes")  # recursive, sorted, images only
    assert [p.name for p in scenes] == ["scene0.png", "scene1.png", "scene2.png"]
    never = SceneSwapAugment(scenes, p=0.0, seed=0)
    assert never(frames, masks) is frames
    always = SceneSwapAugment(tmp_path / "scenes", p=1.0, seed=0)
    assert not np.array_equal(always(frames, masks), frames)
    # Keyed draws depend only on (seed, key): a second instance (another worker) agrees.
    other_worker = SceneSwapAugment(scenes, p=0.5, seed=0)
    first = SceneSwapAugment(scenes, p=0.5, seed=0)
    keys = [f"clip{i}" for i in range(40)]
    draws = [first.draw(k) for k in keys]
    assert draws == [other_worker.draw(k) for k in reversed(keys)][::-1]
    applied = sum(d is not None for d in draws)
    assert 10 <= applied <= 30  # p = 0.5 over 40 clips
    assert len({d for d in draws if d is not None}) == 3


def test_augment_input_errors(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="at least one"):
        SceneSwapAugment([])
    with pytest.raises(BadInputError, match="not found"):
        list_scene_images(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match="no images"):
        list_scene_images(tmp_path / "empty")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    frames, masks = _clip()
    with pytest.raises(VideoReadError, match="cannot decode"):
        scene_swap(frames, masks, tmp_path / "bad.png")


def test_write_scene_swap_videos_materialises_one_copy_per_clip(tmp_path: Path) -> None:
    frames, masks = _clip()
    scenes = _scenes(tmp_path)
    clips = [("waving/c0", frames, masks), ("waving/c1", frames, masks)]
    written = write_scene_swap_videos(clips, scenes, tmp_path / "out", seed=1, fps=8.0)
    again = write_scene_swap_videos(clips, scenes, tmp_path / "out2", seed=1, fps=8.0)
    assert [w[2] for w in written] == [w[2] for w in again]  # same backgrounds on rerun
    for clip_id, path, index in written:
        assert path == tmp_path / "out" / f"{clip_id}.mp4"
        decoded = read_all_frames(path).frames
        assert decoded.shape == frames.shape
        expected = cv2.cvtColor(cv2.imread(str(scenes[index])), cv2.COLOR_BGR2RGB)[0, 0]
        assert np.abs(decoded[:, 0, 0].astype(int) - expected).max() <= 12  # lossy H.264
