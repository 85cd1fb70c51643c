"""Hand-held objects: shapes that follow the hands and the forearms' direction.

Some classes carry an object (a flag when waving, a racket when raising arms...),
the co-occurring-object cue of real datasets. Objects are painted behind the
body, so the person mask of a clip is the same with or without its object: a
HAT-style swap (person pasted on another background) then reproduces the exact
render of the swap split, in which the object stays behind like any
unsegmented object does in HAT.

Sizes are in body units (multiplied by the actor's pixels per unit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from actionbias.synth.figure import OBJECT_LABEL0, PosedActor
from actionbias.synth.raster import Shape, ellipse_points

RGB = tuple[int, int, int]
_UP = np.array([0.0, -1.0])


def _grip_direction(forearm: np.ndarray) -> np.ndarray:
    """Image direction an object held in a hand points along.

    It continues the projected forearm; when the forearm points at the camera
    (projected length ~0) it leans towards image-up so the object stays visible
    and its orientation changes smoothly.
    """
    length = float(np.hypot(*forearm))
    u = forearm + max(0.0, 0.6 - length) * _UP
    n = float(np.hypot(*u))
    return u / n if n > 1e-6 else _UP.copy()


def _perp(u: np.ndarray) -> np.ndarray:
    return np.array([-u[1], u[0]])


def _outward(v: np.ndarray, hand: np.ndarray, centre: np.ndarray) -> np.ndarray:
    return v if float(np.dot(v, hand - centre)) >= 0 else -v


DrawFn = Callable[[PosedActor, np.ndarray, int], list[Shape]]


def _ball(actor: PosedActor, centre: np.ndarray, label0: int) -> list[Shape]:
    ppu = actor.pixels_per_unit
    hand = actor.hands["right"]
    u = _grip_direction(actor.forearms["right"])
    r = 0.07 * ppu
    c = hand + u * r * 0.8
    v = _perp(u)
    seam = max(1.0, 0.01 * ppu)
    return [
        Shape("disc", label0, c[None], r),
        Shape("capsule", label0 + 1, np.stack([c - v * r * 0.78, c + v * r * 0.78]), seam),
        Shape("capsule", label0 + 1, np.stack([c - u * r * 0.78, c + u * r * 0.78]), seam),
    ]


def _flag(actor: PosedActor, centre: np.ndarray, label0: int) -> list[Shape]:
    ppu = actor.pixels_per_unit
    hand = actor.hands["right"]
    u = _grip_direction(actor.forearms["right"])
    v = _outward(_perp(u), hand, centre)
    top = hand + u * 0.42 * ppu
    w, h = 0.24 * ppu, 0.16 * ppu
    cloth = np.stack([top, top + v * w, top + v * w - u * h, top - u * h])
    stripe = np.stack(
        [top - u * h / 3, top + v * w - u * h / 3, top + v * w - u * 2 * h / 3, top - u * 2 * h / 3]
    )
    pole = np.stack([hand - u * 0.04 * ppu, top])
    return [
        Shape("capsule", label0, pole, max(1.0, 0.016 * ppu)),
        Shape("polygon", label0 + 1, cloth),
        Shape("polygon", label0 + 2, stripe),
    ]


def _baton(actor: PosedActor, centre: np.ndarray, label0: int) -> list[Shape]:
    ppu = actor.pixels_per_unit
    hand = actor.hands["right"]
    u = _grip_direction(actor.forearms["right"])
    ends = np.stack([hand - u * 0.05 * ppu, hand + u * 0.15 * ppu])
    return [Shape("capsule", label0, ends, max(1.5, 0.032 * ppu))]


def _dumbbell(actor: PosedActor, centre: np.ndarray, label0: int) -> list[Shape]:
    ppu = actor.pixels_per_unit
    shapes = []
    for side in ("left", "right"):
        hand = actor.hands[side]
        v = _perp(_grip_direction(actor.forearms[side]))
        bar = np.stack([hand - v * 0.075 * ppu, hand + v * 0.075 * ppu])
        shapes.append(Shape("capsule", label0, bar, max(1.0, 0.02 * ppu)))
        for sign in (-1.0, 1.0):
            p = hand + sign * v * 0.06 * ppu
            plate = np.stack([p - v * 0.012 * ppu, p + v * 0.012 * ppu])
            shapes.append(Shape("capsule", label0 + 1, plate, 0.075 * ppu))
    return shapes


def _racket(actor: PosedActor, centre: np.ndarray, label0: int) -> list[Shape]:
    ppu = actor.pixels_per_unit
    hand = actor.hands["right"]
    u = _grip_direction(actor.forearms["right"])
    handle = np.stack([hand - u * 0.02 * ppu, hand + u * 0.11 * ppu])
    head_c = hand + u * 0.21 * ppu
    frame = ellipse_points(head_c, u, 0.105 * ppu, 0.08 * ppu)
    strings = ellipse_points(head_c, u, 0.085 * ppu, 0.06 * ppu)
    return [
        Shape("capsule", label0, handle, max(1.0, 0.022 * ppu)),
        Shape("polygon", label0 + 1, frame),
        Shape("polygon", label0 + 2, strings),
    ]


@dataclass(frozen=True)
class HeldObject:
    """An object type: how to draw it and the colour of each of its label ids."""

    name: str
    draw: DrawFn
    colours: tuple[RGB, ...]


#: Every object, keyed by its plain-English mask name.
OBJECTS: dict[str, HeldObject] = {
    o.name: o
    for o in (
        HeldObject("ball", _ball, ((232, 110, 30), (40, 25, 20))),
        HeldObject("flag", _flag, ((150, 120, 90), (230, 30, 40), (250, 220, 40))),
        HeldObject("baton", _baton, ((240, 200, 20),)),
        HeldObject("dumbbell", _dumbbell, ((150, 150, 160), (25, 25, 30))),
        HeldObject("racket", _racket, ((20, 20, 20), (200, 30, 60), (235, 235, 200))),
    )
}
_SLOTS = 8


def object_label0(name: str) -> int:
    """First label id of `name`; each object owns 8 consecutive ids."""
    return OBJECT_LABEL0 + _SLOTS * list(OBJECTS).index(name)


def object_label_ids(name: str) -> list[int]:
    return [object_label0(name) + k for k in range(len(OBJECTS[name].colours))]


@dataclass(frozen=True)
class ObjectSpec:
    """A held object of one clip; `tint` scales its colours slightly per clip."""

    name: str
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def palette(self) -> dict[int, RGB]:
        obj = OBJECTS[self.name]
        base = object_label0(self.name)
        out: dict[int, RGB] = {}
        for k, rgb in enumerate(obj.colours):
            out[base + k] = tuple(  # type: ignore[assignment]
                int(np.clip(round(c * t), 0, 255)) for c, t in zip(rgb, self.tint, strict=True)
            )
        return out

    def shapes(self, actor: PosedActor) -> list[Shape]:
        return OBJECTS[self.name].draw(actor, actor.centre, object_label0(self.name))
