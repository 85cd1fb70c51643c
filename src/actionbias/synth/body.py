"""The SynthAct actor: proportions, looks, the pose vector and forward kinematics.

The figure is a 3-D skeleton seen by an orthographic camera. A flat 2-D stick
figure cannot bow, punch towards the camera or circle its arms forwards rather
than backwards; in 3-D those motions differ by foreshortening and by which limb
passes in front of the torso, exactly the cues a video model has to pick up.

Units are body heights: a standing actor measures about 1.0 from sole to crown.
Body axes: +x is the actor's left, +y up, +z towards the camera (the actor faces
the camera before the clip's yaw is applied).

A pose is one flat float vector (`POSE_SIZE`): eight limb-segment directions,
each a unit 3-vector in a *side-normalised* frame whose +x points away from the
body's midline (so one action formula serves both sides), followed by six
scalars. Keeping poses as plain vectors makes them easy to blend, to reverse in
time and to compare in tests.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass

import numpy as np

SEGMENTS: tuple[str, ...] = (
    "left upper arm",
    "left forearm",
    "right upper arm",
    "right forearm",
    "left thigh",
    "left shin",
    "right thigh",
    "right shin",
)
SCALARS: tuple[str, ...] = (
    "torso pitch",
    "torso roll",
    "torso twist",
    "head pitch",
    "shift",
    "lift",
)
POSE_SIZE = 3 * len(SEGMENTS) + len(SCALARS)
_SCALAR0 = 3 * len(SEGMENTS)
#: Index of each scalar inside a pose vector.
SCALAR_INDEX = {name: _SCALAR0 + i for i, name in enumerate(SCALARS)}

#: Every body part, in the plain-English spelling used as mask names.
PART_NAMES: tuple[str, ...] = (
    "head",
    "neck",
    "torso",
    "pelvis",
    "left upper arm",
    "left forearm",
    "left hand",
    "right upper arm",
    "right forearm",
    "right hand",
    "left thigh",
    "left shin",
    "left foot",
    "right thigh",
    "right shin",
    "right foot",
)

_SIDES = {"left": 1.0, "right": -1.0}


def sph(elevation: float, azimuth: float) -> np.ndarray:
    """Unit direction from two angles in degrees, in the side-normalised frame.

    `elevation` is measured from straight down (0 = hanging, 90 = horizontal,
    180 = straight up; negative values swing backwards), `azimuth` around the
    vertical (0 = outwards, 90 = forwards, 180 = across the body). Angles chosen
    this way read like a coach's description of a limb, which keeps the action
    definitions short.
    """
    e = math.radians(elevation)
    a = math.radians(azimuth)
    return np.array([math.sin(e) * math.cos(a), -math.cos(e), math.sin(e) * math.sin(a)])


def unit(x: float, y: float, z: float) -> np.ndarray:
    v = np.array([x, y, z], dtype=float)
    return v / np.linalg.norm(v)


def make_pose(
    left_upper_arm: np.ndarray,
    left_forearm: np.ndarray,
    right_upper_arm: np.ndarray,
    right_forearm: np.ndarray,
    left_thigh: np.ndarray,
    left_shin: np.ndarray,
    right_thigh: np.ndarray,
    right_shin: np.ndarray,
    pitch: float = 0.0,
    roll: float = 0.0,
    twist: float = 0.0,
    head: float = 0.0,
    shift: float = 0.0,
    lift: float = 0.0,
) -> np.ndarray:
    """Assemble a pose vector. Angles (`pitch`, `roll`, `twist`, `head`) in degrees.

    `pitch` bows the torso towards the camera-facing side, `roll` leans it to the
    actor's right, `twist` turns the shoulders (positive brings the right shoulder
    forward), `head` nods. `shift` moves the actor sideways (body units), `lift`
    raises it off the ground (jumps); feet are otherwise kept on the floor.
    """
    segments = [
        left_upper_arm,
        left_forearm,
        right_upper_arm,
        right_forearm,
        left_thigh,
        left_shin,
        right_thigh,
        right_shin,
    ]
    out = np.empty(POSE_SIZE)
    for i, seg in enumerate(segments):
        v = np.asarray(seg, dtype=float)
        out[3 * i : 3 * i + 3] = v / np.linalg.norm(v)
    out[_SCALAR0:] = [
        math.radians(pitch),
        math.radians(roll),
        math.radians(twist),
        math.radians(head),
        shift,
        lift,
    ]
    return out


def symmetric_pose(
    upper_arm: np.ndarray,
    forearm: np.ndarray,
    thigh: np.ndarray,
    shin: np.ndarray,
    **scalars: float,
) -> np.ndarray:
    """A pose whose two sides mirror each other (jumping jacks, arm raises)."""
    return make_pose(upper_arm, forearm, upper_arm, forearm, thigh, shin, thigh, shin, **scalars)


def _slerp(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Spherical interpolation of rows of unit vectors `a` -> `b` by weights `w`.

    Plain linear blending collapses when a limb swings between opposite
    directions (an arm from down to up); slerp keeps the limb length and turns it
    along the shorter arc. Exact opposites are nudged so the arc passes in front
    of the body rather than through an undefined plane.
    """
    dot = np.sum(a * b, axis=-1)
    opposite = dot < -0.999
    if np.any(opposite):
        forward = np.array([0.0, 0.0, 1.0])
        perp = forward - a[opposite] * (a[opposite] @ forward)[:, None]
        norm = np.linalg.norm(perp, axis=-1, keepdims=True)
        perp = np.where(norm > 1e-6, perp / np.maximum(norm, 1e-12), np.array([1.0, 0.0, 0.0]))
        b = b.copy()
        nudged = b[opposite] + 0.05 * perp
        b[opposite] = nudged / np.linalg.norm(nudged, axis=-1, keepdims=True)
        dot = np.sum(a * b, axis=-1)
    omega = np.arccos(np.clip(dot, -1.0, 1.0))
    sin_om = np.sin(omega)
    small = sin_om < 1e-6
    denom = np.where(small, 1.0, sin_om)
    coef_a = np.where(small, 1.0 - w, np.sin((1.0 - w) * omega) / denom)
    coef_b = np.where(small, w, np.sin(w * omega) / denom)
    out = coef_a[:, None] * a + coef_b[:, None] * b
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


def slerp_direction(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    """Turn unit direction `a` towards `b` by fraction `w` along the shorter arc."""
    return _slerp(np.asarray(a, float)[None], np.asarray(b, float)[None], np.array([float(w)]))[0]


def blend_poses(a: np.ndarray, b: np.ndarray, w: float | np.ndarray) -> np.ndarray:
    """Blend pose(s) `a` towards `b` by `w` in [0, 1] (directions slerped, scalars lerped).

    Works on single poses or on stacks of shape (N, POSE_SIZE) with per-row weights.
    """
    a2 = np.atleast_2d(a)
    b2 = np.atleast_2d(b)
    n = max(len(a2), len(b2))
    a2 = np.broadcast_to(a2, (n, POSE_SIZE))
    b2 = np.broadcast_to(b2, (n, POSE_SIZE))
    w_arr = np.broadcast_to(np.asarray(w, dtype=float), (n,)).copy()
    out = np.empty((n, POSE_SIZE))
    dirs_a = a2[:, :_SCALAR0].reshape(n, len(SEGMENTS), 3).reshape(-1, 3)
    dirs_b = b2[:, :_SCALAR0].reshape(n, len(SEGMENTS), 3).reshape(-1, 3)
    w_dirs = np.repeat(w_arr, len(SEGMENTS))
    out[:, :_SCALAR0] = _slerp(dirs_a, dirs_b, w_dirs).reshape(n, _SCALAR0)
    out[:, _SCALAR0:] = a2[:, _SCALAR0:] + (b2[:, _SCALAR0:] - a2[:, _SCALAR0:]) * w_arr[:, None]
    return out[0] if np.ndim(a) == 1 and np.ndim(b) == 1 and np.ndim(w) == 0 else out


@dataclass(frozen=True)
class Build:
    """Body proportions in body-height units (lengths) and widths of each segment."""

    head_radius: float = 0.066
    neck: float = 0.045
    torso: float = 0.29
    shoulder_half_width: float = 0.105
    hip_half_width: float = 0.062
    torso_depth: float = 0.11
    upper_arm: float = 0.17
    forearm: float = 0.15
    hand_radius: float = 0.026
    thigh: float = 0.235
    shin: float = 0.225
    ankle_height: float = 0.045
    foot_length: float = 0.085
    neck_width: float = 0.045
    upper_arm_width: float = 0.052
    forearm_width: float = 0.043
    thigh_width: float = 0.072
    shin_width: float = 0.056
    foot_width: float = 0.034

    @staticmethod
    def sample(rng: np.random.Generator) -> Build:
        """Random proportions: limb lengths +-7 %, girth -15..+20 %, head +-9 %."""
        arm = rng.uniform(0.93, 1.07)
        leg = rng.uniform(0.93, 1.07)
        girth = rng.uniform(0.85, 1.2)
        head = rng.uniform(0.91, 1.09)
        torso = rng.uniform(0.94, 1.06)
        base = Build()
        return Build(
            head_radius=base.head_radius * head,
            neck=base.neck,
            torso=base.torso * torso,
            shoulder_half_width=base.shoulder_half_width * (0.5 + 0.5 * girth),
            hip_half_width=base.hip_half_width * (0.5 + 0.5 * girth),
            torso_depth=base.torso_depth * girth,
            upper_arm=base.upper_arm * arm,
            forearm=base.forearm * arm,
            hand_radius=base.hand_radius,
            thigh=base.thigh * leg,
            shin=base.shin * leg,
            ankle_height=base.ankle_height,
            foot_length=base.foot_length,
            neck_width=base.neck_width * girth,
            upper_arm_width=base.upper_arm_width * girth,
            forearm_width=base.forearm_width * girth,
            thigh_width=base.thigh_width * girth,
            shin_width=base.shin_width * girth,
            foot_width=base.foot_width,
        )


RGB = tuple[int, int, int]

_SKIN_TONES: tuple[RGB, ...] = (
    (255, 224, 196),
    (241, 194, 150),
    (224, 172, 120),
    (198, 134, 90),
    (141, 85, 50),
    (92, 58, 38),
)
_HAIR: tuple[RGB, ...] = (
    (30, 22, 18),
    (70, 45, 25),
    (120, 80, 40),
    (200, 160, 90),
    (150, 60, 30),
    (150, 150, 150),
)
_TROUSERS: tuple[RGB, ...] = (
    (40, 60, 110),  # denim
    (30, 30, 35),  # black
    (170, 150, 110),  # khaki
    (90, 90, 95),  # grey
    (60, 80, 50),  # olive
    (110, 40, 40),  # burgundy
)
_SHOES: tuple[RGB, ...] = ((25, 25, 25), (235, 235, 235), (120, 70, 40), (200, 40, 40))


def _jitter(rgb: RGB, rng: np.random.Generator, amount: float) -> RGB:
    values = np.asarray(rgb, dtype=float) * rng.uniform(1.0 - amount, 1.0 + amount)
    values += rng.uniform(-8.0, 8.0, size=3)
    return tuple(int(v) for v in np.clip(np.round(values), 0, 255))  # type: ignore[return-value]


@dataclass(frozen=True)
class Look:
    """Clothing and skin colours (RGB) of one actor.

    Long sleeves colour the forearms like the shirt; shorts leave the shins bare.
    The colours are independent of the action class, so appearance carries no
    label information.
    """

    skin: RGB
    hair: RGB
    shirt: RGB
    trousers: RGB
    shoes: RGB
    long_sleeves: bool
    shorts: bool

    @staticmethod
    def sample(rng: np.random.Generator) -> Look:
        i = rng.uniform(0, len(_SKIN_TONES) - 1)
        lo = math.floor(i)
        hi = min(lo + 1, len(_SKIN_TONES) - 1)
        t = i - lo
        skin = tuple(
            round((1 - t) * a + t * b)
            for a, b in zip(_SKIN_TONES[lo], _SKIN_TONES[hi], strict=True)
        )
        hue = rng.uniform(0.0, 1.0)
        shirt_rgb = colorsys.hsv_to_rgb(hue, rng.uniform(0.45, 0.9), rng.uniform(0.45, 0.95))
        shirt = tuple(round(255 * c) for c in shirt_rgb)
        return Look(
            skin=_jitter(skin, rng, 0.04),  # type: ignore[arg-type]
            hair=_jitter(_HAIR[rng.integers(len(_HAIR))], rng, 0.1),
            shirt=shirt,  # type: ignore[arg-type]
            trousers=_jitter(_TROUSERS[rng.integers(len(_TROUSERS))], rng, 0.12),
            shoes=_jitter(_SHOES[rng.integers(len(_SHOES))], rng, 0.08),
            long_sleeves=bool(rng.random() < 0.5),
            shorts=bool(rng.random() < 0.3),
        )


def _rot_x(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _rot_y(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rot_z(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def pose_direction(pose: np.ndarray, segment: str, side_normalised: bool = False) -> np.ndarray:
    """Direction of `segment` in the body frame (or the side-normalised frame)."""
    i = SEGMENTS.index(segment)
    d = np.array(pose[3 * i : 3 * i + 3], dtype=float)
    if not side_normalised:
        d[0] *= _SIDES[segment.split()[0]]
    return d


@dataclass(frozen=True)
class Skeleton:
    """3-D joint positions of one posed actor (body units, feet on y=0 unless lifted)."""

    joints: dict[str, np.ndarray]
    torso_rotation: np.ndarray
    head_rotation: np.ndarray


def forward_kinematics(build: Build, pose: np.ndarray) -> Skeleton:
    """Joint positions for `pose`, with the lowest foot point resting on the floor.

    Ground contact is solved here rather than in the actions: a squat only says
    "bend the knees" and the pelvis drops by itself; a jump adds `lift` on top.
    """
    pitch, roll, twist, head_pitch, shift, lift = pose[_SCALAR0:]
    torso_rot = _rot_y(twist) @ _rot_x(pitch) @ _rot_z(roll)
    head_rot = torso_rot @ _rot_x(head_pitch)
    pelvis = np.array([shift, 0.0, 0.0])
    j: dict[str, np.ndarray] = {"pelvis": pelvis}
    neck_base = pelvis + torso_rot @ np.array([0.0, build.torso, 0.0])
    j["neck base"] = neck_base
    j["head"] = neck_base + head_rot @ np.array([0.0, build.neck + build.head_radius, 0.0])
    for side, sign in _SIDES.items():
        d_upper = pose_direction(pose, f"{side} upper arm")
        d_fore = pose_direction(pose, f"{side} forearm")
        shoulder = neck_base + torso_rot @ np.array([sign * build.shoulder_half_width, -0.025, 0.0])
        elbow = shoulder + torso_rot @ (d_upper * build.upper_arm)
        wrist = elbow + torso_rot @ (d_fore * build.forearm)
        j[f"{side} shoulder"] = shoulder
        j[f"{side} elbow"] = elbow
        j[f"{side} wrist"] = wrist
        j[f"{side} hand"] = wrist + torso_rot @ (d_fore * build.hand_radius * 0.9)
        j[f"{side} forearm direction"] = torso_rot @ d_fore

        d_thigh = pose_direction(pose, f"{side} thigh")
        d_shin = pose_direction(pose, f"{side} shin")
        hip = pelvis + np.array([sign * build.hip_half_width, 0.0, 0.0])
        knee = hip + d_thigh * build.thigh
        ankle = knee + d_shin * build.shin
        # The foot points forwards, perpendicular to the shin, tipped slightly down.
        foot_dir = np.array([0.15 * d_shin[0], d_shin[2] - 0.25, -d_shin[1]])
        foot_dir /= np.linalg.norm(foot_dir)
        j[f"{side} hip"] = hip
        j[f"{side} knee"] = knee
        j[f"{side} ankle"] = ankle
        j[f"{side} toe"] = ankle + foot_dir * build.foot_length
    floor = min(
        min(j["left ankle"][1], j["right ankle"][1]) - build.ankle_height,
        min(j["left toe"][1], j["right toe"][1]) - build.foot_width / 2,
    )
    offset = np.array([0.0, lift - floor, 0.0])
    joints = {name: (p + offset if not name.endswith("direction") else p) for name, p in j.items()}
    return Skeleton(joints=joints, torso_rotation=torso_rot, head_rotation=head_rot)
