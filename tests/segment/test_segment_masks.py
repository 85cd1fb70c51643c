"""Mask conventions (quantisation, the > 128 rule, person bookkeeping) and smoothing."""

from __future__ import annotations

import numpy as np
import pytest

from actionbias import segment


def test_unit_and_byte_conversions_round_trip() -> None:
    unit = np.array([[[0.0, 0.2, 0.5, 1.0]]], dtype=np.float32)
    byte = segment.as_byte_masks(unit)
    assert byte.dtype == np.uint8
    assert byte.tolist() == [[[0, 51, 128, 255]]]  # rint(255 * m); 127.5 rounds to even
    assert np.allclose(segment.as_unit_masks(byte), unit, atol=0.5 / 255)
    assert segment.as_byte_masks(np.array([[[True, False]]])).tolist() == [[[255, 0]]]
    assert segment.as_unit_masks(np.zeros((2, 3, 4, 1), np.uint8)).shape == (2, 3, 4)


def test_float_masks_outside_unit_range_are_refused() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        segment.as_unit_masks(np.full((1, 2, 2), 255.0))
    with pytest.raises(ValueError, match="T x H x W"):
        segment.as_unit_masks(np.zeros((4, 4)))


def test_human_rule_is_strictly_greater_than_128() -> None:
    byte = np.array([[[127, 128, 129, 255]]], dtype=np.uint8)
    assert segment.binarize(byte).tolist() == [[[False, False, True, True]]]
    # Float masks go through the same quantisation: 128.5/255 -> 128 (even), not human.
    unit = np.array([[[128.4 / 255, 128.6 / 255]]], dtype=np.float32)
    assert segment.binarize(unit).tolist() == [[[False, True]]]


def test_person_area_has_person_and_coverage() -> None:
    masks = np.zeros((3, 10, 10), np.float32)
    masks[1, :2, :5] = 1.0  # 10 % of frame 1
    masks[2, :5, :] = 0.9  # 50 % of frame 2
    masks[0, 0, 0] = 0.4  # below the > 128 cut: nobody
    assert segment.person_area(masks).tolist() == pytest.approx([0.0, 0.1, 0.5])
    assert segment.has_person(masks).tolist() == [False, True, True]
    assert segment.has_person(masks, min_area=0.2).tolist() == [False, False, True]
    assert segment.human_coverage(masks) == pytest.approx(0.2)


def _flicker_clip() -> np.ndarray:
    """A person present on all 7 frames except a one-frame dropout at t=3."""
    masks = np.zeros((7, 4, 4), np.float32)
    masks[:, 1:3, 1:3] = 1.0
    masks[3] = 0.0
    return masks


def test_median_smoothing_removes_a_single_frame_dropout_exactly() -> None:
    masks = _flicker_clip()
    out = segment.smooth_masks(masks, "median", window=3)
    expected = np.zeros_like(masks)
    expected[:, 1:3, 1:3] = 1.0
    np.testing.assert_array_equal(out, expected)


def test_median_keeps_a_step_sharp_and_edges_replicated() -> None:
    masks = np.zeros((6, 1, 1), np.float32)
    masks[3:] = 1.0
    out = segment.smooth_masks(masks, "median", window=3)
    np.testing.assert_array_equal(out[:, 0, 0], [0, 0, 0, 1, 1, 1])
    out5 = segment.smooth_masks(masks, "median", window=5)
    np.testing.assert_array_equal(out5[:, 0, 0], [0, 0, 0, 1, 1, 1])


def test_causal_ema_lags_and_bidirectional_ema_is_symmetric() -> None:
    step = np.zeros((8, 1, 1), np.float32)
    step[4:] = 1.0
    causal = segment.smooth_masks(step, "ema", alpha=0.5, bidirectional=False)[:, 0, 0]
    # s_t = 0.5*m_t + 0.5*s_{t-1}: 0.5, 0.75, 0.875, 0.9375 after the step.
    np.testing.assert_allclose(causal[4:], [0.5, 0.75, 0.875, 0.9375])
    assert causal[3] == 0.0  # causal: nothing before the step

    pulse = np.zeros((41, 1, 1), np.float32)
    pulse[20] = 1.0
    both = segment.smooth_masks(pulse, "ema", alpha=0.5, bidirectional=True)[:, 0, 0]
    # Forward-backward filtering: no lag, so away from the clip ends the response is
    # symmetric around the pulse ...
    np.testing.assert_allclose(both[14:20], both[21:27][::-1], atol=1e-4)
    assert np.argmax(both) == 20
    # ... and the dropout of the flicker clip is only attenuated, not removed.
    filled = segment.smooth_masks(_flicker_clip(), "ema", alpha=0.5)[3, 1, 1]
    assert 0.3 < filled < 1.0


def test_smoothing_restarts_at_gaps_in_the_source_indices() -> None:
    masks = np.zeros((4, 1, 1), np.float32)
    masks[2:] = 1.0
    # Frames 0,1 and 10,11 of the source: two separate runs, no blending across the gap.
    out = segment.smooth_masks(masks, "ema", alpha=0.5, bidirectional=False, indices=[0, 1, 10, 11])
    np.testing.assert_array_equal(out[:, 0, 0], [0, 0, 1, 1])
    blended = segment.smooth_masks(masks, "ema", alpha=0.5, bidirectional=False)
    assert blended[2, 0, 0] == 0.5


def test_none_is_identity_and_bad_options_fail_early() -> None:
    masks = np.random.default_rng(0).random((5, 3, 3), dtype=np.float32)
    np.testing.assert_array_equal(segment.smooth_masks(masks, "none"), masks)
    with pytest.raises(ValueError, match="odd"):
        segment.TemporalSmoothing("median", window=4)
    with pytest.raises(ValueError, match="alpha"):
        segment.TemporalSmoothing("ema", alpha=0.0)
    with pytest.raises(ValueError, match="unknown"):
        segment.TemporalSmoothing("gaussian")  # type: ignore[arg-type]


def test_smoothing_options_only_name_what_matters() -> None:
    assert segment.TemporalSmoothing("median", window=5).options() == {
        "method": "median",
        "window": 5,
    }
    assert segment.TemporalSmoothing("ema", alpha=0.3).options() == {
        "method": "ema",
        "alpha": 0.3,
        "bidirectional": True,
    }
    assert segment.TemporalSmoothing("none").options() == {"method": "none"}


@pytest.mark.parametrize("window", [3, 5])
def test_median_matches_a_reference_per_pixel_median(window: int) -> None:
    masks = np.random.default_rng(window).random((9, 5, 6), dtype=np.float32)
    half = window // 2
    expected = np.stack(
        [
            np.median(masks[np.clip(np.arange(t - half, t + half + 1), 0, 8)], axis=0)
            for t in range(9)
        ]
    )
    np.testing.assert_array_equal(segment.smooth_masks(masks, "median", window=window), expected)
