"""Hard-edged drawing of discs, capsules and polygons into label images.

Everything SynthAct draws goes into a *label* image (one uint8 id per pixel)
rather than straight into RGB: colours are looked up from the ids afterwards,
so each mask is an exact `labels == id` test and no pixel is ever a blend of
two layers. OpenCV's 8-connected rasteriser is used without anti-aliasing;
coordinates keep 4 fractional bits (`shift`) so that slow motion still moves
edges smoothly instead of in whole-pixel jumps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

_SHIFT = 4
_ONE = 1 << _SHIFT


def _fixed(points: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(points, dtype=np.float64) * _ONE).astype(np.int32)


def draw_disc(labels: np.ndarray, centre: np.ndarray, radius: float, value: int) -> None:
    # Plain floats: this runs ~30 times per frame and numpy overhead on 2-vectors dominates.
    cx = round(float(centre[0]) * _ONE)
    cy = round(float(centre[1]) * _ONE)
    r = max(round(radius * _ONE), _ONE // 2)
    cv2.circle(labels, (cx, cy), r, int(value), -1, cv2.LINE_8, _SHIFT)


def draw_polygon(labels: np.ndarray, points: np.ndarray, value: int) -> None:
    """Fill a polygon (convex or not) given as an (N, 2) array of x, y pixels."""
    pts = _fixed(points).reshape(-1, 1, 2)
    cv2.fillPoly(labels, [pts], int(value), cv2.LINE_8, _SHIFT)


def draw_capsule(
    labels: np.ndarray, a: np.ndarray, b: np.ndarray, width: float, value: int
) -> None:
    """A segment with round ends: the shape of a limb of diameter `width`."""
    ax, ay = float(a[0]), float(a[1])
    bx, by = float(b[0]), float(b[1])
    radius = max(width / 2.0, 0.5)
    dx, dy = bx - ax, by - ay
    length = math.hypot(dx, dy)
    if length > 1e-6:
        nx, ny = -dy / length * radius, dx / length * radius
        quad = [
            (ax + nx, ay + ny),
            (bx + nx, by + ny),
            (bx - nx, by - ny),
            (ax - nx, ay - ny),
        ]
        fixed = np.array([[round(x * _ONE), round(y * _ONE)] for x, y in quad], dtype=np.int32)
        cv2.fillConvexPoly(labels, fixed, int(value), cv2.LINE_8, _SHIFT)
    draw_disc(labels, (ax, ay), radius, value)
    draw_disc(labels, (bx, by), radius, value)


def ellipse_points(
    centre: np.ndarray, axis_u: np.ndarray, radius_u: float, radius_v: float, n: int = 24
) -> np.ndarray:
    """Polygon approximating an ellipse with semi-axis `radius_u` along unit `axis_u`."""
    u = np.asarray(axis_u, dtype=np.float64)
    v = np.array([-u[1], u[0]])
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    return centre + np.outer(np.cos(t) * radius_u, u) + np.outer(np.sin(t) * radius_v, v)


@dataclass(frozen=True)
class Shape:
    """One primitive to draw with label `value`: kind is disc, capsule or polygon."""

    kind: str
    value: int
    points: np.ndarray
    size: float = 0.0

    def draw(self, labels: np.ndarray) -> None:
        if self.kind == "disc":
            draw_disc(labels, self.points[0], self.size, self.value)
        elif self.kind == "capsule":
            draw_capsule(labels, self.points[0], self.points[1], self.size, self.value)
        elif self.kind == "polygon":
            draw_polygon(labels, self.points, self.value)
        else:
            raise ValueError(f"unknown shape kind {self.kind!r}")
