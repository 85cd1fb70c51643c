"""Pixel-exact Action-Swap tests: every expected pixel is derived by hand from the rules."""

from __future__ import annotations

import numpy as np
import pytest

from actionbias.segment import alpha_swap, hat_background_indices, hat_swap
from actionbias.segment.swap import center_of_mass, short_side_size


def _human_clip(num: int, height: int, width: int) -> np.ndarray:
    """A's pixels encode (frame, row, col) so a misplaced paste cannot go unnoticed."""
    t, y, x = np.meshgrid(np.arange(num), np.arange(height), np.arange(width), indexing="ij")
    return np.stack([200 + t, 10 * y, 10 * x], axis=-1).astype(np.uint8)


def _flat_clip(num: int, height: int, width: int) -> np.ndarray:
    """B's frame j is one flat colour (5 + 40 j, 7, 9): resizing cannot change it."""
    frames = np.zeros((num, height, width, 3), np.uint8)
    for j in range(num):
        frames[j] = (5 + 40 * j, 7, 9)
    return frames


def test_time_map_is_proportional_rounded_half_to_even_and_clipped() -> None:
    assert hat_background_indices(np.arange(4), 4, 3).tolist() == [0, 1, 2, 2]  # 1.5 -> 2
    assert hat_background_indices(np.array([1]), 4, 2).tolist() == [0]  # 0.5 -> 0 (even)
    assert hat_background_indices(np.array([0, 10, 20, 29]), 30, 10).tolist() == [0, 3, 7, 9]


def test_short_side_size_follows_mmcv_rounding() -> None:
    assert short_side_size(3, 5, 6) == (6, 10)
    assert short_side_size(480, 640, 340) == (340, 453)  # 453.33 -> 453
    assert short_side_size(640, 480, 340) == (453, 340)
    assert short_side_size(100, 150, 33) == (33, 50)  # 49.5 -> int(50.0) = 50


def test_center_of_mass_is_value_weighted() -> None:
    mask = np.zeros((5, 5), np.uint8)
    mask[1, 1] = 255
    mask[1, 3] = 85  # a third of the weight
    assert center_of_mass(mask) == pytest.approx((1.0, 1.5))
    assert center_of_mass(np.zeros((4, 4))) is None


def test_hat_swap_without_resize_is_pixel_exact() -> None:
    human = _human_clip(4, 6, 8)
    masks = np.zeros((4, 6, 8), np.uint8)
    masks[0, 1:3, 1:4] = 255  # frame 0: centre of mass (1.5, 2.0)
    masks[1, 1:3, 1:3] = 255
    masks[1, 3, 0] = 128  # exactly 128: not human (> 128 rule)
    masks[1, 3, 1] = 129  # human
    masks[2, 5, 7] = 255  # lands off the canvas: dropped
    masks[3, 0, 4] = 255
    background = _flat_clip(3, 6, 10)  # short side 6 == A's: no resize
    bg_masks = np.zeros((3, 6, 10), np.uint8)
    bg_masks[0, 3:5, 6:8] = 255  # B's person on its first mapped frame: centre (3.5, 6.5)
    bg_masks[1:, 0, 0] = 255  # later frames must not influence the placement

    result = hat_swap(human, masks, background, bg_masks)

    # shift = (int(3.5 - 1.5), int(6.5 - 2.0)) = (2, int(4.5)) = (2, 4)
    assert result.shift == (2, 4)
    assert result.background_indices.tolist() == [0, 1, 2, 2]
    assert result.has_person
    assert result.frames.shape == (4, 6, 10, 3)
    expected = background[[0, 1, 2, 2]].copy()
    for t in range(4):
        for y, x in zip(*np.nonzero(masks[t] > 128), strict=True):
            if 0 <= y + 2 < 6 and 0 <= x + 4 < 10:
                expected[t, y + 2, x + 4] = human[t, y, x]
    np.testing.assert_array_equal(result.frames, expected)
    # Spot checks of the hand computation.
    assert result.frames[0, 3, 5].tolist() == [200, 10, 10]  # A(0, 1, 1) moved by (2, 4)
    assert result.frames[1, 5, 4].tolist() == [45, 7, 9]  # A(1, 3, 0) = 128: background
    assert result.frames[1, 5, 5].tolist() == [201, 30, 10]  # A(1, 3, 1) = 129: pasted
    assert result.frames[3, 2, 8].tolist() == [203, 0, 40]  # A(3, 0, 4)


def test_hat_shift_truncates_toward_zero_and_clips_at_the_top_left() -> None:
    human = _human_clip(1, 6, 6)
    masks = np.zeros((1, 6, 6), np.uint8)
    masks[0, 3:5, 3:6] = 255  # centre (3.5, 4.0)
    background = _flat_clip(1, 6, 6)
    bg_masks = np.zeros((1, 6, 6), np.uint8)
    bg_masks[0, 1, 1:3] = 255  # centre (1.0, 1.5)
    result = hat_swap(human, masks, background, bg_masks)
    # (int(1.0 - 3.5), int(1.5 - 4.0)) = (int(-2.5), int(-2.5)) = (-2, -2), not floor's -3.
    assert result.shift == (-2, -2)
    expected = background.copy()
    expected[0, 1:3, 1:4] = human[0, 3:5, 3:6]
    np.testing.assert_array_equal(result.frames, expected)


def test_hat_swap_resizes_background_by_short_side_and_uses_image_centre_for_empty_masks() -> None:
    human = _human_clip(2, 6, 8)  # short side 6
    masks = np.zeros((2, 6, 8), np.uint8)
    masks[:, 0:2, 0:2] = 255  # centre (0.5, 0.5)
    background = _flat_clip(5, 3, 5)  # 3x5 -> 6x10 (scale 2)
    bg_masks = np.zeros((5, 3, 5), np.uint8)  # B had nobody: use the canvas centre (3, 5)
    result = hat_swap(human, masks, background, bg_masks, human_indices=[0, 3], human_total=4)
    assert result.frames.shape == (2, 6, 10, 3)
    # rint(0/4*5)=0, rint(3/4*5)=rint(3.75)=4
    assert result.background_indices.tolist() == [0, 4]
    assert result.shift == (int(3 - 0.5), int(5 - 0.5))  # (2, 4)
    expected = np.stack([np.full((6, 10, 3), (5, 7, 9)), np.full((6, 10, 3), (165, 7, 9))])
    expected = expected.astype(np.uint8)
    expected[:, 2:4, 4:6] = human[:, 0:2, 0:2]
    np.testing.assert_array_equal(result.frames, expected)


def test_hat_canvas_human_crops_or_pads_background_to_the_human_size() -> None:
    human = _human_clip(1, 6, 8)
    masks = np.zeros((1, 6, 8), np.uint8)
    masks[0, 2:4, 2:4] = 255  # centre (2.5, 2.5)
    # Wider background (6x12): centre-cropped to columns 2..9.
    wide = np.zeros((1, 6, 12, 3), np.uint8)
    wide[0, :, :, 0] = np.arange(12) * 20
    wide_masks = np.zeros((1, 6, 12), np.uint8)
    wide_masks[0, 2:4, 6:8] = 255  # centre (2.5, 6.5) -> (2.5, 4.5) after the crop
    result = hat_swap(human, masks, wide, wide_masks, canvas="human")
    assert result.frames.shape == (1, 6, 8, 3)
    assert result.shift == (0, 2)
    expected = wide[:, :, 2:10].copy()
    expected[0, 2:4, 4:6] = human[0, 2:4, 2:4]
    np.testing.assert_array_equal(result.frames, expected)
    # Same inputs on HAT's own canvas keep the whole 12-column background.
    hat_canvas = hat_swap(human, masks, wide, wide_masks)
    assert hat_canvas.frames.shape == (1, 6, 12, 3)
    assert hat_canvas.shift == (0, 4)

    # Narrower background (6x6): padded by one reflected column on each side.
    narrow = np.zeros((1, 6, 6, 3), np.uint8)
    narrow[0, :, :, 1] = np.arange(6) * 30
    padded = hat_swap(
        human, np.zeros_like(masks), narrow, np.zeros((1, 6, 6), np.uint8), canvas="human"
    )
    row = padded.frames[0, 0, :, 1].tolist()
    assert row == [30, 0, 30, 60, 90, 120, 150, 120]  # reflect-101 padding
    assert not padded.has_person


def test_alpha_swap_cycles_background_and_blends_softly() -> None:
    human = np.zeros((5, 2, 3, 3), np.uint8)
    human[..., 0] = 200
    human[..., 1] = 100
    masks = np.zeros((5, 2, 3), np.float32)
    masks[:, 0, 0] = 1.0
    masks[:, 0, 1] = 0.25
    background = _flat_clip(2, 4, 6)  # resized to 2x3, flat colours survive exactly
    result = alpha_swap(human, masks, background)
    assert result.background_indices.tolist() == [0, 1, 0, 1, 0]  # B cycles
    assert result.shift is None and result.has_person
    assert result.frames.shape == (5, 2, 3, 3)
    for t in range(5):
        bg = np.array([5 + 40 * (t % 2), 7, 9], np.float64)
        assert result.frames[t, 0, 0].tolist() == [200, 100, 0]  # m = 1: A
        soft = np.rint(0.25 * np.array([200, 100, 0]) + 0.75 * bg).astype(int).tolist()
        assert result.frames[t, 0, 1].tolist() == soft  # m = 0.25
        assert result.frames[t, 1, 2].tolist() == bg.astype(int).tolist()  # m = 0: B
    # t=1: 0.25*200 + 0.75*45 = 83.75 -> 84; 0.25*100 + 0.75*7 = 30.25 -> 30
    assert result.frames[1, 0, 1].tolist() == [84, 30, 7]


def test_alpha_swap_with_sampled_indices_and_no_person() -> None:
    human = np.full((2, 2, 2, 3), 50, np.uint8)
    background = _flat_clip(3, 2, 2)
    result = alpha_swap(human, np.zeros((2, 2, 2)), background, human_indices=[4, 8])
    assert result.background_indices.tolist() == [1, 2]  # 4 % 3, 8 % 3
    assert not result.has_person
    np.testing.assert_array_equal(result.frames, background[[1, 2]])


def test_swap_input_errors() -> None:
    human = _human_clip(2, 4, 4)
    with pytest.raises(ValueError, match="do not match"):
        hat_swap(human, np.zeros((2, 3, 3)), human, np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="human_total"):
        hat_swap(human, np.zeros((2, 4, 4)), human, np.zeros((2, 4, 4)), human_indices=[0, 1])
    with pytest.raises(ValueError, match="at least one frame"):
        alpha_swap(human[:0], np.zeros((0, 4, 4)), human)
