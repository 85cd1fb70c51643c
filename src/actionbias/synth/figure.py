"""Turn a posed actor into depth-sorted 2-D shapes with exact part labels.

Limbs are capsules, the torso and pelvis convex hulls of 3-D boxes, the head a
hair disc under a face disc. Parts are painted far-to-near by the depth of their
centre after the clip's yaw, so an arm swinging in front of the chest covers it
and one swinging behind is hidden -- the only thing that tells "arm circles
forward" from "backward" in a frontal view.

Label ids: body parts use 128 + 2 * part index + k (k = 0/1 for a part's two
colours, e.g. hair and face), hand-held objects 64..127, scene elements 1..63.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from actionbias.synth.body import PART_NAMES, RGB, Build, Look, Skeleton, forward_kinematics
from actionbias.synth.raster import Shape

SCENE_LABEL_LIMIT = 64
OBJECT_LABEL0 = 64
BODY_LABEL0 = 128
#: Far-side limbs are drawn this much darker, a cheap depth cue that stays a flat colour.
FAR_SIDE_SHADE = 0.82


def body_label(part: str, k: int = 0) -> int:
    return BODY_LABEL0 + 2 * PART_NAMES.index(part) + k


@dataclass(frozen=True)
class ActorSpec:
    """Who performs and where: proportions, looks, size and placement in the frame.

    `height` is the standing body height as a fraction of the frame size, `x`
    the horizontal position of the pelvis and `ground` the floor line, both as
    fractions of the frame; `yaw` turns the actor (degrees, positive turns the
    actor's left shoulder away from the camera).
    """

    build: Build
    look: Look
    height: float
    x: float
    ground: float
    yaw: float

    @property
    def far_side(self) -> str:
        return "left" if self.yaw > 0 else "right"


def _shade(rgb: RGB, factor: float) -> RGB:
    return tuple(round(c * factor) for c in rgb)  # type: ignore[return-value]


def actor_palette(actor: ActorSpec) -> dict[int, RGB]:
    """Colour of every body label id for this actor (two tones per part)."""
    look = actor.look
    base: dict[str, tuple[RGB, RGB]] = {
        "head": (look.hair, look.skin),
        "neck": (look.skin, look.skin),
        "torso": (look.shirt, look.shirt),
        "pelvis": (look.trousers, look.trousers),
    }
    for side in ("left", "right"):
        fore = look.shirt if look.long_sleeves else look.skin
        shin = look.skin if look.shorts else look.trousers
        parts = {
            "upper arm": look.shirt,
            "forearm": fore,
            "hand": look.skin,
            "thigh": look.trousers,
            "shin": shin,
            "foot": look.shoes,
        }
        factor = FAR_SIDE_SHADE if side == actor.far_side else 1.0
        for name, rgb in parts.items():
            shaded = _shade(rgb, factor)
            base[f"{side} {name}"] = (shaded, shaded)
    palette: dict[int, RGB] = {}
    for part, (c0, c1) in base.items():
        palette[body_label(part, 0)] = c0
        palette[body_label(part, 1)] = c1
    return palette


def body_to_frame(actor: ActorSpec, size: int, camera: np.ndarray) -> np.ndarray:
    """2x3 affine from body units (x right, y up) to output pixels through `camera`."""
    h = actor.height * size
    place = np.array([[h, 0.0, actor.x * size], [0.0, -h, actor.ground * size], [0.0, 0.0, 1.0]])
    return (camera @ place)[:2]


@dataclass(frozen=True)
class PosedActor:
    """Shapes to paint (far to near) plus where the hands are, for hand-held objects."""

    shapes: list[Shape]
    centre: np.ndarray
    hands: dict[str, np.ndarray]
    forearms: dict[str, np.ndarray]
    pixels_per_unit: float


def _hull(points: np.ndarray) -> np.ndarray:
    hull = cv2.convexHull(points.astype(np.float32))
    return hull.reshape(-1, 2).astype(np.float64)


_BOX_SIGNS = np.array([[sx, sz] for sx in (-1.0, 1.0) for sz in (-1.0, 1.0)])
_LIMBS = (
    ("upper arm", "shoulder", "elbow", "upper_arm_width"),
    ("forearm", "elbow", "wrist", "forearm_width"),
    ("thigh", "hip", "knee", "thigh_width"),
    ("shin", "knee", "ankle", "shin_width"),
    ("foot", "ankle", "toe", "foot_width"),
)


def pose_actor(actor: ActorSpec, pose: np.ndarray, transform: np.ndarray) -> PosedActor:
    """Project one pose through `transform` (see `body_to_frame`) into labelled shapes.

    All 3-D points of the figure are gathered first and projected in one matrix
    product: this runs once per frame and per-point numpy calls would dominate.
    """
    build = actor.build
    skel: Skeleton = forward_kinematics(build, pose)
    yaw = math.radians(actor.yaw)
    c, s = math.cos(yaw), math.sin(yaw)
    rot = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    lin = transform[:, :2]
    off = transform[:, 2]
    ppu = float(math.sqrt(abs(np.linalg.det(lin))))
    j = skel.joints
    rt, rh = skel.torso_rotation, skel.head_rotation
    r = build.head_radius
    d2 = build.torso_depth / 2

    # Torso: a box between the shoulders and the waist, bent with the torso;
    # pelvis: a box around the hips in the (unrotated) pelvis frame.
    sw = build.shoulder_half_width + build.upper_arm_width * 0.25
    ww = build.hip_half_width + build.thigh_width * 0.35
    pw = build.hip_half_width + build.thigh_width * 0.5
    sx, sz = _BOX_SIGNS[:, 0], _BOX_SIGNS[:, 1] * d2
    zeros = np.zeros(4)
    shoulder_box = j["neck base"] + np.stack([sx * sw, zeros - 0.015, sz], 1) @ rt.T
    waist_box = j["pelvis"] + np.stack([sx * ww, zeros + 0.05, sz], 1) @ rt.T
    pelvis_box = np.concatenate(
        [
            j["pelvis"] + np.stack([sx * pw, zeros + 0.06, sz], 1),
            j["pelvis"] + np.stack([sx * pw * 0.92, zeros - 0.045, sz], 1),
        ]
    )
    named = {name: point for name, point in j.items() if not name.endswith("direction")}
    named["neck top"] = j["neck base"] + rh @ np.array([0.0, build.neck + 0.3 * r, 0.0])
    named["hair"] = j["head"] + rh @ np.array([0.0, 0.16 * r, -0.3 * r])
    named["face"] = j["head"] + rh @ np.array([0.0, -0.06 * r, 0.25 * r])
    keys = list(named)
    points = np.concatenate(
        [np.stack([named[k] for k in keys]), shoulder_box, waist_box, pelvis_box]
    )
    rotated = points @ rot.T
    xy = rotated[:, :2] @ lin.T + off
    z = rotated[:, 2]
    at = {k: i for i, k in enumerate(keys)}
    n = len(keys)

    items: list[tuple[float, int, Shape]] = []

    def add(depth: float, shape: Shape) -> None:
        items.append((depth, len(items), shape))

    add(
        float(z[n : n + 8].mean()) - 0.01,
        Shape("polygon", body_label("torso"), _hull(xy[n : n + 8])),
    )
    add(
        float(z[n + 8 : n + 16].mean()) - 0.008,
        Shape("polygon", body_label("pelvis"), _hull(xy[n + 8 : n + 16])),
    )
    a, b = at["neck base"], at["neck top"]
    add(
        float(z[a] + z[b]) / 2 - 0.004,
        Shape("capsule", body_label("neck"), xy[[a, b]], build.neck_width * ppu),
    )
    head_depth = float(z[at["hair"]]) + 0.02
    add(head_depth, Shape("disc", body_label("head", 0), xy[[at["hair"]]], r * ppu))
    add(head_depth, Shape("disc", body_label("head", 1), xy[[at["face"]]], 0.9 * r * ppu))

    hands: dict[str, np.ndarray] = {}
    forearms: dict[str, np.ndarray] = {}
    for side in ("left", "right"):
        for part, j0, j1, width in _LIMBS:
            a, b = at[f"{side} {j0}"], at[f"{side} {j1}"]
            shape = Shape(
                "capsule", body_label(f"{side} {part}"), xy[[a, b]], getattr(build, width) * ppu
            )
            add(float(z[a] + z[b]) / 2, shape)
        h = at[f"{side} hand"]
        add(
            float(z[h]) + 0.005,
            Shape("disc", body_label(f"{side} hand"), xy[[h]], build.hand_radius * ppu),
        )
        hands[side] = xy[h]
        fdir = rot @ j[f"{side} forearm direction"]
        forearms[side] = lin @ fdir[:2] / ppu

    items.sort(key=lambda item: (item[0], item[1]))
    return PosedActor(
        shapes=[shape for _, _, shape in items],
        centre=xy[at["pelvis"]],
        hands=hands,
        forearms=forearms,
        pixels_per_unit=ppu,
    )
