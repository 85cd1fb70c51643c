"""Helpers for the video tests: frames whose pixels spell out their frame number.

Each frame carries its index as 8 black/white bars in the top half (bit k of the
index = bar k), which survives H.264 and JPEG compression, so a test can check that it
got *which* frame it asked for, not just a frame. (A uniquely named module rather than
conftest, so that importing it can never pick up another directory's conftest.)
"""

from __future__ import annotations

import numpy as np

HEIGHT, WIDTH = 48, 64


def index_frame(i: int, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """RGB frame encoding `i` (0..255) as bars on top; the bottom is a flat grey."""
    img = np.zeros((height, width, 3), np.uint8)
    bar = width // 8
    for b in range(8):
        if (i >> b) & 1:
            img[: height // 2, b * bar : (b + 1) * bar] = 255
    img[height // 2 :] = (37 * i) % 256
    return img


def decode_index(img: np.ndarray) -> int:
    """Inverse of `index_frame` for a decoded (lossy) frame."""
    height, width = img.shape[:2]
    bar = width // 8
    bars = [img[2 : height // 2 - 2, b * bar + 2 : (b + 1) * bar - 2].mean() for b in range(8)]
    return sum(1 << b for b, level in enumerate(bars) if level > 128)


def decode_indices(frames: np.ndarray) -> list[int]:
    return [decode_index(f) for f in frames]
