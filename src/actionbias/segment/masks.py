"""Person-mask conventions shared by every backend, the cache and the compositing code.

Two representations circulate, and everything here converts between them exactly:

* unit masks: float32 ``T x H x W`` in [0, 1] — what backends return and what soft
  compositing multiplies with;
* byte masks: uint8 ``T x H x W`` in 0..255 — what the cache stores and what HAT's
  ``seg/`` PNGs hold (HAT wrote ``sem_seg * 255`` as uint8).

A pixel counts as *human* when its byte value is > 128. That is the rule HAT applies
before pasting a human (Action-Swap), before building human-only frames and before
dilating the inpainting hole, so using one rule everywhere keeps our human-only,
background-only, swap and coverage numbers consistent with each other and with HAT.
For a unit mask ``m`` the byte value is ``rint(255 * m)``, so the cut is m >= 0.5039.
"""

from __future__ import annotations

import numpy as np

HUMAN_BYTE_THRESHOLD = 128
"""A pixel is human when its 0-255 mask value is strictly greater than this (HAT's rule)."""

DEFAULT_MIN_PERSON_AREA = 0.002
"""Default fraction of the frame that human pixels must reach for `has_person`.

0.2 % of a 604x340 frame is ~410 pixels (a ~20x20 px figure): smaller blobs are
almost always segmentation noise, and a swap built on them has no visible actor.
"""


def _check_masks(masks: np.ndarray) -> np.ndarray:
    masks = np.asarray(masks)
    if masks.ndim == 4 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    if masks.ndim != 3:
        raise ValueError(f"masks must be T x H x W, got shape {masks.shape}")
    return masks


def as_unit_masks(masks: np.ndarray) -> np.ndarray:
    """Return float32 masks in [0, 1] from bool, uint8 (0-255) or float input.

    Float input outside [0, 1] (beyond rounding noise) is refused rather than clipped:
    it usually means someone passed logits or 0-255 floats, and clipping would hide it.
    """
    masks = _check_masks(masks)
    if masks.dtype == np.bool_:
        return masks.astype(np.float32)
    if masks.dtype == np.uint8:
        return masks.astype(np.float32) / np.float32(255.0)
    if np.issubdtype(masks.dtype, np.floating):
        if masks.size and (float(masks.min()) < -1e-6 or float(masks.max()) > 1 + 1e-6):
            raise ValueError(
                f"float masks must lie in [0, 1]; got [{masks.min():.3g}, {masks.max():.3g}]"
            )
        return np.clip(masks, 0.0, 1.0).astype(np.float32, copy=False)
    raise ValueError(f"unsupported mask dtype {masks.dtype}; use bool, uint8 or float")


def as_byte_masks(masks: np.ndarray) -> np.ndarray:
    """Return uint8 0-255 masks; floats are quantised with round-to-nearest (rint).

    HAT truncated (``astype(uint8)``) when it wrote its PNGs; rounding halves the
    quantisation error and moves no value by more than one level.
    """
    masks = _check_masks(masks)
    if masks.dtype == np.uint8:
        return masks
    if masks.dtype == np.bool_:
        return masks.astype(np.uint8) * np.uint8(255)
    unit = as_unit_masks(masks)
    return np.rint(unit * 255.0).astype(np.uint8)


def binarize(masks: np.ndarray) -> np.ndarray:
    """Bool human masks by HAT's rule (byte value > 128)."""
    return as_byte_masks(masks) > HUMAN_BYTE_THRESHOLD


def person_area(masks: np.ndarray) -> np.ndarray:
    """Per-frame fraction of pixels that are human (float64, shape ``(T,)``)."""
    human = binarize(masks)
    if human.shape[1] * human.shape[2] == 0:
        return np.zeros(human.shape[0], dtype=np.float64)
    return human.reshape(human.shape[0], -1).mean(axis=1, dtype=np.float64)


def has_person(masks: np.ndarray, min_area: float = DEFAULT_MIN_PERSON_AREA) -> np.ndarray:
    """Per-frame bool: does the human area reach ``min_area`` (fraction of the frame)?"""
    return person_area(masks) >= min_area


def human_coverage(masks: np.ndarray) -> float:
    """Fraction of the frame covered by the human, averaged over frames.

    This is the quantity HAT's 5-50 % filter is stated on ("we only select frames
    that have 5%-50% of human coverage"); HAT does not publish the filtering code, so
    we take the mean over the clip's frames of the per-frame human fraction.
    """
    area = person_area(masks)
    return float(area.mean()) if area.size else 0.0
