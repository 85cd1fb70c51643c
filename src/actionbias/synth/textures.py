"""Procedural textures: smooth value noise, fractal noise and stripe patterns.

Flat colour fields would make the scene shortcut trivial *and* unlike real
backgrounds; a scene here keeps a strong colour/layout signature but every
clip gets its own noise field, so a model must learn "red track with white
lane lines", not one memorised image. All functions take an explicit
generator so scenes are reproducible from their seed.
"""

from __future__ import annotations

import cv2
import numpy as np


def value_noise(rng: np.random.Generator, height: int, width: int, cell: float) -> np.ndarray:
    """Smooth noise in [0, 1] with features about `cell` pixels across."""
    cell = max(float(cell), 1.0)
    gh = int(height / cell) + 3
    gw = int(width / cell) + 3
    grid = rng.random((gh, gw)).astype(np.float32)
    up = cv2.resize(grid, (round(gw * cell), round(gh * cell)), interpolation=cv2.INTER_CUBIC)
    oy = int(rng.integers(0, max(1, up.shape[0] - height)))
    ox = int(rng.integers(0, max(1, up.shape[1] - width)))
    return np.clip(up[oy : oy + height, ox : ox + width], 0.0, 1.0)


def fractal_noise(
    rng: np.random.Generator,
    height: int,
    width: int,
    cells: tuple[float, ...] = (24.0, 8.0, 3.0),
    weights: tuple[float, ...] = (0.55, 0.3, 0.15),
) -> np.ndarray:
    """Sum of value-noise octaves, rescaled to roughly [0, 1] with mean 0.5."""
    total = np.zeros((height, width), np.float32)
    for cell, weight in zip(cells, weights, strict=True):
        total += weight * value_noise(rng, height, width, cell)
    total /= sum(weights)
    return np.clip((total - 0.5) * 1.8 + 0.5, 0.0, 1.0)


def grain(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Per-pixel noise in [-1, 1], the fine texture of sand, asphalt or carpet."""
    return rng.uniform(-1.0, 1.0, size=(height, width)).astype(np.float32)


def stripes(coord: np.ndarray, period: float, duty: float = 0.5, phase: float = 0.0) -> np.ndarray:
    """Boolean square wave along `coord` (any array of positions)."""
    return np.mod(coord / period + phase, 1.0) < duty


def modulate(colour: np.ndarray, field: np.ndarray, amount: float) -> np.ndarray:
    """Colour image whose brightness follows `field` (in [0, 1]) by +-amount."""
    factor = 1.0 + amount * (field - 0.5) * 2.0
    return np.asarray(colour, np.float32)[None, None, :] * factor[..., None]
