"""Human-only fill modes, OpenCV background-only inpainting, HAT inp/seg loaders."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from actionbias import segment
from actionbias.errors import BadInputError

SKY = (90, 140, 60)
SHIRT = (230, 20, 20)


def _person_on_flat_scene(num: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A red 'person' rectangle on a flat green scene, with its exact mask."""
    frames = np.empty((num, 40, 48, 3), np.uint8)
    frames[:] = SKY
    masks = np.zeros((num, 40, 48), np.float32)
    for t in range(num):
        frames[t, 10:30, 15 + t : 27 + t] = SHIRT  # moves right one pixel per frame
        masks[t, 10:30, 15 + t : 27 + t] = 1.0
    return frames, masks


def test_human_only_zero_fill_keeps_person_and_blacks_out_the_rest() -> None:
    frames, masks = _person_on_flat_scene()
    out = segment.human_only(frames, masks, fill="zero")
    person = masks.astype(bool)
    np.testing.assert_array_equal(out[person], frames[person])
    assert not out[~person].any()


def test_human_only_mean_fill_uses_hats_colour_or_a_given_one() -> None:
    frames, masks = _person_on_flat_scene()
    out = segment.human_only(frames, masks, fill="mean")
    assert out[0, 0, 0].tolist() == list(segment.HAT_MEAN_RGB) == [123, 116, 103]
    custom = segment.human_only(frames, masks, fill="mean", mean_rgb=(1.4, 2.6, 3.0))
    assert custom[0, 0, 0].tolist() == [1, 3, 3]  # rounded to nearest
    np.testing.assert_array_equal(custom[masks > 0], frames[masks > 0])


def test_human_only_soft_masks_blend_and_binary_applies_the_128_rule() -> None:
    frames = np.full((1, 1, 3, 3), 200, np.uint8)
    byte_masks = np.array([[[128, 129, 64]]], np.uint8)
    soft = segment.human_only(frames, byte_masks, fill="zero")
    # 200 * m with m = 128/255, 129/255, 64/255 -> 100.39, 101.18, 50.2
    assert soft[0, 0, :, 0].tolist() == [100, 101, 50]
    hard = segment.human_only(frames, byte_masks, fill="mean", binary=True)
    mean = list(segment.HAT_MEAN_RGB)
    assert hard[0, 0].tolist() == [mean, [200, 200, 200], mean]


def test_human_only_rejects_bad_arguments() -> None:
    frames, masks = _person_on_flat_scene()
    with pytest.raises(ValueError, match="fill"):
        segment.human_only(frames, masks, fill="blur")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="do not match"):
        segment.human_only(frames, masks[:, :10])


def test_dataset_mean_rgb_averages_every_pixel() -> None:
    a = np.zeros((1, 2, 2, 3), np.uint8)
    b = np.full((3, 2, 2, 3), 100, np.uint8)
    assert segment.dataset_mean_rgb([a, b]) == pytest.approx((75.0, 75.0, 75.0))


def test_inpaint_hole_is_the_mask_dilated_by_four_cross_steps() -> None:
    masks = np.zeros((1, 21, 21), np.uint8)
    masks[0, 10, 10] = 255
    hole = segment.inpaint_holes(masks)[0]
    yy, xx = np.mgrid[:21, :21]
    diamond = (np.abs(yy - 10) + np.abs(xx - 10)) <= 4  # 4 cross dilations = L1 ball of 4
    np.testing.assert_array_equal(hole.astype(bool), diamond)
    assert not segment.inpaint_holes(np.full((1, 3, 3), 128, np.uint8)).any()  # 128 is not human


@pytest.mark.parametrize("method", ["telea", "ns"])
def test_background_only_removes_the_person_on_a_flat_scene(method: str) -> None:
    frames, masks = _person_on_flat_scene()
    # A realistic mask misses the person's 2-pixel rim; the dilation must still cover it.
    tight = np.zeros_like(masks)
    tight[:, 12:28] = masks[:, 12:28]
    for t in range(tight.shape[0]):
        tight[t, :, : 17 + t] = 0
        tight[t, :, 25 + t :] = 0
    out = segment.background_only(frames, tight, method=method)
    person = masks.astype(bool)
    filled = out[person].astype(int)
    assert np.abs(filled - np.array(SKY)).max() <= 3  # the surroundings' colour
    assert np.abs(filled - np.array(SHIRT)).sum(axis=1).min() > 250  # no shirt pixel left
    hole = segment.inpaint_holes(tight).astype(bool)
    assert hole[person].all()  # the dilation reached the rim the mask missed
    np.testing.assert_array_equal(out[~hole], frames[~hole])  # outside the hole: untouched
    assert np.abs(out[hole & ~person].astype(int) - np.array(SKY)).max() <= 3


def test_background_only_leaves_frames_without_a_person_unchanged() -> None:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    np.testing.assert_array_equal(segment.background_only(frames, np.zeros((2, 16, 16))), frames)


def _write_pngs(directory: Path, images: np.ndarray) -> None:
    directory.mkdir(parents=True)
    for i, image in enumerate(images, start=1):
        cv2.imwrite(str(directory / f"{i:06d}.png"), image)


def test_hat_loaders_read_inp_and_seg_folders(tmp_path: Path) -> None:
    frames, masks = _person_on_flat_scene(4)
    inp = tmp_path / "inp" / "class a" / "clip1"
    seg = tmp_path / "seg" / "class a" / "clip1"
    _write_pngs(inp, frames[..., ::-1])  # cv2 writes BGR
    _write_pngs(seg, (masks * 255).astype(np.uint8))
    np.testing.assert_array_equal(segment.load_inpainted_frames(inp, like=frames), frames)
    np.testing.assert_array_equal(
        segment.load_inpainted_frames(inp, indices=[3, 1]), frames[[3, 1]]
    )
    np.testing.assert_array_equal(segment.load_hat_masks(seg), (masks * 255).astype(np.uint8))
    with pytest.raises(BadInputError, match="out of range"):
        segment.load_inpainted_frames(inp, indices=[4])
    with pytest.raises(BadInputError, match="original frames"):
        segment.load_inpainted_frames(inp, like=frames[:, :20])
