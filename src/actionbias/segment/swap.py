"""Action-Swap: the person of clip A composited onto the scene of clip B.

Two policies, each exact to the construction it reproduces.

``hat`` — HAT's Action-Swap loader (princetonvisualai/HAT,
``mmaction2/mmaction/datasets/actionswap_dataset.py``), step by step:

1. Time: A's sampled frame ``i`` (0-based, of ``T_A``) uses background frame
   ``clip(rint(i / T_A * T_B), 0, T_B - 1)`` (numpy ``round``: halves to even).
2. Size: B's frames (its *inpainted* frames, HAT's ``inp/``) and B's original person
   mask are resized, bilinear, so that B's short side equals A's short side; the
   other side becomes ``int(side * scale + 0.5)`` (mmcv's ``rescale_size``).
   HAT keeps that canvas, so a 4:3 background under a 16:9 person clip gives a 4:3
   swap video: ``canvas="background"`` (default) does the same. ``canvas="human"``
   instead centre-crops the resized background (and its mask) where it is larger
   than A and pads it by reflection (mask: zeros) where it is smaller, so the swap has
   exactly A's size — what batching and side-by-side comparisons need.
3. Place: ONE shift for the whole clip, moving the centre of mass of A's mask on its
   first sampled frame onto the centre of mass of B's (resized) original mask on its
   first mapped frame, i.e. the person stands where B's person stood. The centre of
   mass is weighted by the 0-255 mask values (``scipy.ndimage.center_of_mass`` in
   HAT); an empty mask uses the image centre ``(H/2, W/2)``. The shift is
   ``(int(by - ay), int(bx - ax))``, truncated toward zero as Python's ``int`` does.
4. Paste: hard, where A's 0-255 mask > 128; A's pixels shifted off the canvas are
   dropped (PIL ``paste`` clips).

``alpha`` — the paper's own construction (the scene-swap augmentation of A.4 and
its HAT-style swaps): B's frames resized to A's size (bilinear, aspect not kept),
background frame ``i mod T_B`` for A's frame ``i`` (B cycles when shorter), and a
soft composite ``rint(A*m + B*(1-m))`` with A's unit mask ``m``.

Both return a `SwapResult` whose ``has_person`` is False when A's mask has no human
pixel on any frame: such swaps show no actor (the paper counts 404 of 2,485) and
should be reported separately rather than scored as if a person were there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from actionbias.segment.backend import check_frames
from actionbias.segment.composite import blend
from actionbias.segment.masks import HUMAN_BYTE_THRESHOLD, as_byte_masks

SwapPolicy = Literal["hat", "alpha"]
SWAP_POLICIES: tuple[str, ...] = ("hat", "alpha")


@dataclass
class SwapResult:
    """A composed swap clip and how it was composed."""

    frames: np.ndarray  # uint8 n x H x W x 3
    background_indices: np.ndarray  # int64 (n,): frame of B used for each output frame
    has_person: bool  # A's mask has a human pixel on at least one frame
    shift: tuple[int, int] | None = None  # (dy, dx) applied to A ("hat" only)
    policy: str = "hat"


def _indices(num: int, human_indices: np.ndarray | None, human_total: int | None) -> tuple:
    if human_indices is None:
        indices = np.arange(num, dtype=np.int64)
        total = num if human_total is None else int(human_total)
    else:
        indices = np.asarray(human_indices, dtype=np.int64)
        if indices.shape != (num,):
            raise ValueError(f"human_indices has shape {indices.shape}, expected ({num},)")
        if human_total is None:
            raise ValueError("human_total (frames in clip A) is required with human_indices")
        total = int(human_total)
    if total < 1 or (indices.size and (indices.min() < 0 or indices.max() >= total)):
        raise ValueError(f"human indices must lie in [0, {total - 1}]")
    return indices, total


def hat_background_indices(
    human_indices: np.ndarray, human_total: int, background_total: int
) -> np.ndarray:
    """HAT's proportional time map: ``clip(rint(i / T_A * T_B), 0, T_B - 1)``."""
    if human_total < 1 or background_total < 1:
        raise ValueError("clips must have at least one frame")
    scaled = np.asarray(human_indices, dtype=np.float64) / human_total * background_total
    return np.clip(np.rint(scaled).astype(np.int64), 0, background_total - 1)


def short_side_size(height: int, width: int, short_side: int) -> tuple[int, int]:
    """(h, w) with the short side scaled to ``short_side``; mmcv's rounding."""
    scale = short_side / min(height, width)
    return int(height * scale + 0.5), int(width * scale + 0.5)


def center_of_mass(mask: np.ndarray) -> tuple[float, float] | None:
    """Value-weighted centre (row, col) of a 2-D mask; None when it sums to zero."""
    weights = np.asarray(mask, dtype=np.float64)
    total = weights.sum()
    if total <= 0:
        return None
    rows = weights.sum(axis=1) @ np.arange(weights.shape[0], dtype=np.float64)
    cols = weights.sum(axis=0) @ np.arange(weights.shape[1], dtype=np.float64)
    return float(rows / total), float(cols / total)


def _resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    if image.shape[:2] == (height, width):
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)


def _fit(image: np.ndarray, height: int, width: int, reflect: bool) -> np.ndarray:
    """Centre-crop where larger, pad (reflect or zeros) where smaller."""
    h, w = image.shape[:2]
    top, left = max(0, (h - height) // 2), max(0, (w - width) // 2)
    image = image[top : top + min(h, height), left : left + min(w, width)]
    pad_h, pad_w = height - image.shape[0], width - image.shape[1]
    if pad_h or pad_w:
        border = cv2.BORDER_REFLECT_101 if reflect else cv2.BORDER_CONSTANT
        image = cv2.copyMakeBorder(
            image, pad_h // 2, pad_h - pad_h // 2, pad_w // 2, pad_w - pad_w // 2, border, value=0
        )
    return image


def _check_nonempty(a_frames: np.ndarray, b_frames: np.ndarray) -> None:
    if a_frames.shape[0] == 0 or b_frames.shape[0] == 0:
        raise ValueError("both clips need at least one frame")
    if 0 in a_frames.shape[1:3] or 0 in b_frames.shape[1:3]:
        raise ValueError("frames must have a non-zero height and width")


def _check_masks_for(frames: np.ndarray, masks: np.ndarray, what: str) -> np.ndarray:
    byte = as_byte_masks(masks)
    if byte.shape != frames.shape[:3]:
        raise ValueError(f"{what} masks {byte.shape} do not match frames {frames.shape[:3]}")
    return byte


def hat_swap(
    human_frames: np.ndarray,
    human_masks: np.ndarray,
    background_frames: np.ndarray,
    background_masks: np.ndarray,
    human_indices: np.ndarray | None = None,
    human_total: int | None = None,
    canvas: Literal["background", "human"] = "background",
) -> SwapResult:
    """HAT's hard-paste swap (see the module docstring for every rule).

    ``human_frames``/``human_masks``: A's sampled frames and their masks (float
    [0, 1], uint8 0-255 or bool); ``human_indices`` their 0-based positions among A's
    ``human_total`` frames (default: all frames, in order). ``background_frames``: all
    ``T_B`` frames of B's background-only (inpainted) video; ``background_masks``: B's
    original person masks, same shape, used only to place A.
    """
    a_frames = check_frames(human_frames)
    a_masks = _check_masks_for(a_frames, human_masks, "human")
    b_frames = check_frames(background_frames)
    b_masks = _check_masks_for(b_frames, background_masks, "background")
    if canvas not in ("background", "human"):
        raise ValueError(f"canvas must be 'background' or 'human', got {canvas!r}")
    _check_nonempty(a_frames, b_frames)
    num, a_h, a_w = a_frames.shape[:3]
    indices, total = _indices(num, human_indices, human_total)
    b_idx = hat_background_indices(indices, total, b_frames.shape[0])

    out_h, out_w = short_side_size(b_frames.shape[1], b_frames.shape[2], min(a_h, a_w))

    def prepare(image: np.ndarray, reflect: bool) -> np.ndarray:
        image = _resize(image, out_h, out_w)
        return _fit(image, a_h, a_w, reflect) if canvas == "human" else image

    canvases = np.stack([prepare(b_frames[j], reflect=True) for j in b_idx])
    b_mask0 = prepare(b_masks[b_idx[0]], reflect=False)
    can_h, can_w = canvases.shape[1:3]

    a_centre = center_of_mass(a_masks[0]) or (a_h / 2, a_w / 2)
    b_centre = center_of_mass(b_mask0) or (can_h / 2, can_w / 2)
    shift = (int(b_centre[0] - a_centre[0]), int(b_centre[1] - a_centre[1]))
    dy, dx = shift
    # Rows/cols of A that land on the canvas, and where they land.
    y0, y1 = max(0, -dy), min(a_h, can_h - dy)
    x0, x1 = max(0, -dx), min(a_w, can_w - dx)
    human = a_masks > HUMAN_BYTE_THRESHOLD
    if y1 > y0 and x1 > x0:
        for t in range(num):
            region = canvases[t, y0 + dy : y1 + dy, x0 + dx : x1 + dx]
            keep = human[t, y0:y1, x0:x1]
            region[keep] = a_frames[t, y0:y1, x0:x1][keep]
    return SwapResult(
        frames=canvases,
        background_indices=b_idx,
        has_person=bool(human.any()),
        shift=shift,
        policy="hat",
    )


def alpha_swap(
    human_frames: np.ndarray,
    human_masks: np.ndarray,
    background_frames: np.ndarray,
    human_indices: np.ndarray | None = None,
) -> SwapResult:
    """The paper's soft swap: ``rint(A*m + resize(B[i mod T_B])*(1-m))`` at A's size.

    ``background_frames`` are B's background-only frames (inpainted, or a scene
    image repeated); ``human_indices`` are A's source frame numbers (default 0..n-1).
    """
    a_frames = check_frames(human_frames)
    a_masks = _check_masks_for(a_frames, human_masks, "human")
    b_frames = check_frames(background_frames)
    _check_nonempty(a_frames, b_frames)
    num, a_h, a_w = a_frames.shape[:3]
    indices = np.arange(num, dtype=np.int64) if human_indices is None else human_indices
    indices = np.asarray(indices, dtype=np.int64)
    if indices.shape != (num,) or (indices.size and indices.min() < 0):
        raise ValueError(f"human_indices must be {num} non-negative frame numbers")
    b_idx = indices % b_frames.shape[0]
    backgrounds = np.stack([_resize(b_frames[j], a_h, a_w) for j in b_idx])
    frames = blend(a_frames, a_masks, backgrounds)
    return SwapResult(
        frames=frames,
        background_indices=b_idx,
        has_person=bool((a_masks > HUMAN_BYTE_THRESHOLD).any()),
        shift=None,
        policy="alpha",
    )
