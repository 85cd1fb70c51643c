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
    return tuple(int(round(c * factor)) for c in rgb)  # type: ignore[return-value]


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


def pose_actor(actor: ActorSpec, pose: np.ndarray, transform: np.ndarray) -> PosedActor:
    """Project one pose through `transform` (see `body_to_frame`) into labelled shapes."""
    build = actor.build
    skel: Skeleton = forward_kinematics(build, pose)
    yaw = math.radians(actor.yaw)
    c, s = math.cos(yaw), math.sin(yaw)
    rot = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    lin = transform[:, :2]
    off = transform[:, 2]
    ppu = float(math.sqrt(abs(np.linalg.det(lin))))

    def project(p: np.ndarray) -> tuple[np.ndarray, float]:
        q = rot @ p
        return lin @ q[:2] + off, float(q[2])

    def project_many(points: np.ndarray) -> tuple[np.ndarray, float]:
        q = points @ rot.T
        return q[:, :2] @ lin.T + off, float(q[:, 2].mean())

    j = skel.joints
    items: list[tuple[float, int, Shape]] = []
    order = 0

    def add(depth: float, shape: Shape) -> None:
        nonlocal order
        items.append((depth, order, shape))
        order += 1

    # Torso: hull of a box between the shoulders and the waist, bent with the torso.
    rt = skel.torso_rotation
    d2 = build.torso_depth / 2
    sw = build.shoulder_half_width + build.upper_arm_width * 0.25
    ww = build.hip_half_width + build.thigh_width * 0.35
    corners = []
    for sx in (-1.0, 1.0):
        for sz in (-d2, d2):
            corners.append(j["neck base"] + rt @ np.array([sx * sw, -0.015, sz]))
            corners.append(j["pelvis"] + rt @ np.array([sx * ww, 0.05, sz]))
    pts, depth = project_many(np.array(corners))
    add(depth - 0.01, Shape("polygon", body_label("torso"), _hull(pts)))

    pel = []
    pw = build.hip_half_width + build.thigh_width * 0.5
    for sx in (-1.0, 1.0):
        for sz in (-d2, d2):
            pel.append(j["pelvis"] + np.array([sx * pw, 0.06, sz]))
            pel.append(j["pelvis"] + np.array([sx * pw * 0.92, -0.045, sz]))
    pts, depth = project_many(np.array(pel))
    add(depth - 0.008, Shape("polygon", body_label("pelvis"), _hull(pts)))

    # Neck and head (hair disc behind a face disc, offsets follow the head's rotation).
    rh = skel.head_rotation
    r = build.head_radius
    neck_top = j["neck base"] + rh @ np.array([0.0, build.neck + 0.3 * r, 0.0])
    a, za = project(j["neck base"])
    b, zb = project(neck_top)
    add((za + zb) / 2 - 0.004, Shape("capsule", body_label("neck"), np.stack([a, b]), build.neck_width * ppu))
    hair_c, zh = project(j["head"] + rh @ np.array([0.0, 0.16 * r, -0.3 * r]))
    face_c, _ = project(j["head"] + rh @ np.array([0.0, -0.06 * r, 0.25 * r]))
    head_depth = zh + 0.02
    add(head_depth, Shape("disc", body_label("head", 0), hair_c[None], r * ppu))
    add(head_depth, Shape("disc", body_label("head", 1), face_c[None], 0.9 * r * ppu))

    hands: dict[str, np.ndarray] = {}
    forearms: dict[str, np.ndarray] = {}
    for side in ("left", "right"):
        limbs = (
            ("upper arm", "shoulder", "elbow", build.upper_arm_width),
            ("forearm", "elbow", "wrist", build.forearm_width),
            ("thigh", "hip", "knee", build.thigh_width),
            ("shin", "knee", "ankle", build.shin_width),
            ("foot", "ankle", "toe", build.foot_width),
        )
        for part, j0, j1, width in limbs:
            a, za = project(j[f"{side} {j0}"])
            b, zb = project(j[f"{side} {j1}"])
            shape = Shape("capsule", body_label(f"{side} {part}"), np.stack([a, b]), width * ppu)
            add((za + zb) / 2, shape)
        hand, zh = project(j[f"{side} hand"])
        add(zh + 0.005, Shape("disc", body_label(f"{side} hand"), hand[None], build.hand_radius * ppu))
        hands[side] = hand
        fdir = rot @ j[f"{side} forearm direction"]
        forearms[side] = lin @ fdir[:2] / ppu

    items.sort(key=lambda item: (item[0], item[1]))
    return PosedActor(
        shapes=[shape for _, _, shape in items],
        centre=project(j["pelvis"])[0],
        hands=hands, forearms=forearms, pixels_per_unit=ppu
    )
