"""Human-only and background-only videos from frames and person masks.

Human-only (the paper's "Segmented" input, HAT's "Human Only"): every non-human
pixel replaced by a fill colour.

* ``fill="zero"`` — black, as in the paper (A.2: "Non-human regions were set to 0").
* ``fill="mean"`` — a mean RGB colour, HAT's choice ("substituted with a dataset
  average color"). HAT's loader adds ``(1 - seg) * [123.675, 116.28, 103.53]`` (the
  ImageNet mean) and casts to uint8, so the colour it actually writes is
  ``(123, 116, 103)`` = `HAT_MEAN_RGB`, our default; `dataset_mean_rgb` computes a
  real dataset mean instead.

With ``binary=False`` (default) soft masks blend: ``out = rint(frame*m + fill*(1-m))``
computed in float32, so a 0.5-confidence edge pixel becomes half person, half fill.
With ``binary=True`` the mask is first cut by HAT's rule (0-255 value > 128), which
reproduces HAT's human-only frames exactly.

Background-only (HAT's ``inp/``): the person removed and the hole filled. HAT used a
learned video inpainter (E2FGVI, at 432x240); offline on CPU we use OpenCV's
single-image inpainting, Telea's fast-marching method by default (``method="ns"`` for
Navier-Stokes; both cost ~40 ms per 604x340 frame here). The hole is prepared the
way HAT prepares it for E2FGVI: the mask cut at > 128, then dilated 4 times with a
3x3 cross kernel, so the person's soft boundary and shadow fringe go too. Users with
properly inpainted videos (HAT's downloads, or any tool writing HAT's
``inp/<class>/<clip>/000001.jpg`` layout) load them with `load_inpainted_frames`
instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from actionbias.errors import BadInputError
from actionbias.segment.backend import check_frames
from actionbias.segment.masks import as_unit_masks, binarize

HAT_MEAN_RGB: tuple[int, int, int] = (123, 116, 103)
"""The fill colour HAT's human-only loader writes (ImageNet mean truncated to uint8)."""

IMAGENET_MEAN_RGB: tuple[float, float, float] = (123.675, 116.28, 103.53)

INPAINT_METHODS = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}
HAT_DILATE_ITERATIONS = 4


def _check_pair(frames: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    frames = check_frames(frames)
    masks = np.asarray(masks)
    if masks.ndim == 4 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    if masks.shape != frames.shape[:3]:
        raise ValueError(f"masks {masks.shape} do not match frames {frames.shape[:3]}")
    return frames, masks


def blend(frames: np.ndarray, masks: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """``rint(frames*m + fill*(1-m))`` as uint8; ``fill`` broadcasts to the frames."""
    m = as_unit_masks(masks)[..., None]
    out = frames.astype(np.float32) * m + np.asarray(fill, dtype=np.float32) * (1.0 - m)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def human_only(
    frames: np.ndarray,
    masks: np.ndarray,
    fill: Literal["zero", "mean"] = "zero",
    mean_rgb: Sequence[float] = HAT_MEAN_RGB,
    binary: bool = False,
) -> np.ndarray:
    """Frames with everything but the person replaced by black or a mean colour.

    ``masks`` may be float [0, 1], uint8 0-255 or bool, shape ``T x H x W``.
    """
    frames, masks = _check_pair(frames, masks)
    if fill == "zero":
        colour = np.zeros(3, dtype=np.float32)
    elif fill == "mean":
        colour = np.asarray(mean_rgb, dtype=np.float32)
        if colour.shape != (3,):
            raise ValueError(f"mean_rgb must have 3 values, got {mean_rgb!r}")
    else:
        raise ValueError(f"fill must be 'zero' or 'mean', got {fill!r}")
    if binary:
        masks = binarize(masks)
    return blend(frames, masks, colour)


def dataset_mean_rgb(videos: Iterable[np.ndarray]) -> tuple[float, float, float]:
    """Mean RGB over every pixel of every frame of ``videos`` (T x H x W x 3 arrays)."""
    total = np.zeros(3, dtype=np.float64)
    count = 0
    for frames in videos:
        frames = check_frames(frames)
        total += frames.reshape(-1, 3).sum(axis=0, dtype=np.float64)
        count += frames.shape[0] * frames.shape[1] * frames.shape[2]
    if count == 0:
        raise ValueError("no frames to average")
    mean = total / count
    return float(mean[0]), float(mean[1]), float(mean[2])


def inpaint_holes(masks: np.ndarray, dilate_iterations: int = HAT_DILATE_ITERATIONS) -> np.ndarray:
    """HAT's inpainting hole: mask > 128, dilated by a 3x3 cross (uint8 0/1, T x H x W)."""
    holes = binarize(masks).astype(np.uint8)
    if dilate_iterations > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
        for t in range(holes.shape[0]):
            holes[t] = cv2.dilate(holes[t], kernel, iterations=dilate_iterations)
    return holes


def background_only(
    frames: np.ndarray,
    masks: np.ndarray,
    method: Literal["telea", "ns"] = "telea",
    radius: int = 3,
    dilate_iterations: int = HAT_DILATE_ITERATIONS,
) -> np.ndarray:
    """Frames with the person removed and the hole inpainted by OpenCV, frame by frame.

    Frames without human pixels are returned unchanged. ``radius`` is
    ``cv2.inpaint``'s neighbourhood radius in pixels.
    """
    frames, masks = _check_pair(frames, masks)
    if method not in INPAINT_METHODS:
        raise ValueError(f"inpainting method must be one of {sorted(INPAINT_METHODS)}")
    holes = inpaint_holes(masks, dilate_iterations)
    out = frames.copy()
    for t in range(frames.shape[0]):
        if holes[t].any():
            out[t] = cv2.inpaint(frames[t], holes[t], float(radius), INPAINT_METHODS[method])
    return out


def select_frames(
    frames: np.ndarray,
    indices: np.ndarray | None,
    source: Path,
    what: str = "frames",
    where: str | None = None,
) -> np.ndarray:
    """``frames[indices]`` (all when None); an index outside them is a `BadInputError`
    naming ``source``, because it means the file holds fewer frames than its video."""
    if indices is None:
        return frames
    indices = np.asarray(indices, dtype=np.int64)
    bad = (indices < 0) | (indices >= frames.shape[0])
    if bad.any():
        raise BadInputError(
            f"frame index {int(indices[bad][0])} out of range for {frames.shape[0]} {what}",
            source=source,
            where=where,
        )
    return frames[indices]


def load_inpainted_frames(
    inp_dir: str | Path,
    indices: np.ndarray | None = None,
    like: np.ndarray | None = None,
) -> np.ndarray:
    """Externally inpainted background frames in HAT's ``inp/`` layout (or any video).

    ``inp_dir`` is a frame folder (``000001.jpg``, 1-based) or a video file; frames
    are read through `actionbias.video.read_all_frames`. ``indices`` (0-based) picks
    frames; ``like`` (the original frames) checks that the shapes agree, since an
    inpainted video at another resolution cannot be composited pixel for pixel.
    """
    from actionbias.video import read_all_frames

    source = Path(inp_dir)
    frames = select_frames(read_all_frames(source).frames, indices, source)
    if like is not None and np.asarray(like).shape != frames.shape:
        raise BadInputError(
            f"inpainted frames are {frames.shape} but the original frames are "
            f"{np.asarray(like).shape}",
            source=source,
        )
    return frames


def load_hat_masks(seg_dir: str | Path, indices: np.ndarray | None = None) -> np.ndarray:
    """HAT ``seg/`` person masks (grayscale PNGs, 0-255) as uint8 ``T x H x W``."""
    from actionbias.video import read_all_frames

    source = Path(seg_dir)
    frames = read_all_frames(source).frames
    # Grayscale PNGs decode as three equal channels; keep one.
    return np.ascontiguousarray(select_frames(frames, indices, source)[..., 0])
