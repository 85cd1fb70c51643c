"""Hand-held camera: slow pan and zoom as one similarity transform per frame.

The same per-frame transform moves the scene (a nearest-neighbour warp of the
scene canvas, so scene labels stay exact) and the actor (whose joints are
mapped through it before rasterising). A clip normally uses one camera for
both; a swap clip keeps the human's camera for the human and the background
clip's camera for the background, exactly what pasting one video's person on
another video's inpainted background produces.

Each parameter follows offset + amplitude * sin(2 pi t / period + phase) with
periods of seconds, which reads as a drift over a 2 s clip and as a gentle
bounded wander over a minute-long untrimmed video.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

Wave = tuple[float, float, float, float]  # offset, amplitude, period (s), phase (rad)


def _wave(w: Wave, t: np.ndarray) -> np.ndarray:
    offset, amplitude, period, phase = w
    return offset + amplitude * np.sin(2.0 * math.pi * t / period + phase)


@dataclass(frozen=True)
class CameraSpec:
    """Pan (fractions of the frame) and zoom (scale about the frame centre) over time."""

    pan_x: Wave = (0.0, 0.0, 1.0, 0.0)
    pan_y: Wave = (0.0, 0.0, 1.0, 0.0)
    zoom: Wave = (1.0, 0.0, 1.0, 0.0)

    def transforms(self, n_frames: int, fps: float, size: int) -> np.ndarray:
        """(n_frames, 3, 3) homogeneous maps from frame pixels to output pixels."""
        t = np.arange(n_frames) / float(fps)
        z = _wave(self.zoom, t)
        px = _wave(self.pan_x, t) * size
        py = _wave(self.pan_y, t) * size
        c = size / 2.0
        out = np.zeros((n_frames, 3, 3))
        out[:, 0, 0] = z
        out[:, 1, 1] = z
        out[:, 0, 2] = (1.0 - z) * c + px
        out[:, 1, 2] = (1.0 - z) * c + py
        out[:, 2, 2] = 1.0
        return out


def sample_camera(rng: np.random.Generator, shake: float = 1.0) -> CameraSpec:
    """A small random camera path; `shake` scales every excursion (0 = static)."""

    def wave(offset: float, amp: float, lo: float, hi: float) -> Wave:
        return (
            offset,
            amp * shake,
            float(rng.uniform(lo, hi)),
            float(rng.uniform(0.0, 2.0 * math.pi)),
        )

    return CameraSpec(
        pan_x=wave(
            float(rng.uniform(-0.02, 0.02)) * shake, float(rng.uniform(0.01, 0.035)), 3.0, 10.0
        ),
        pan_y=wave(
            float(rng.uniform(-0.015, 0.015)) * shake, float(rng.uniform(0.005, 0.02)), 3.0, 10.0
        ),
        zoom=wave(
            1.0 + float(rng.uniform(-0.02, 0.05)) * shake, float(rng.uniform(0.0, 0.03)), 4.0, 12.0
        ),
    )


def warp_canvas(canvas: np.ndarray, transform: np.ndarray, margin: float, size: int) -> np.ndarray:
    """The output view of a scene canvas (any channels, incl. labels) under `transform`.

    Nearest-neighbour sampling never invents in-between colours or label ids, so
    the warped label image still says exactly which element owns each pixel.
    """
    shift = np.array([[1.0, 0.0, -margin], [0.0, 1.0, -margin], [0.0, 0.0, 1.0]])
    m = (transform @ shift)[:2]
    return cv2.warpAffine(
        canvas, m, (size, size), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE
    )
