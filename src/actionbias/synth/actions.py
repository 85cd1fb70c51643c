"""The action library: each class is a joint-angle trajectory, its home scene and object.

An action is either *periodic* (a cycle evaluated at phase `phase + rate * t`,
rate in cycles per second, so speed is real time and does not change with the
frame rate) or *one-shot* (a single transition, e.g. standing -> squatting, run
with eased progress inside a window of the clip with holds before and after).

Three pairs of classes are exact time reversals of each other ("arm circles
forward"/"arm circles backward", "squatting down"/"standing up", "raising
arms"/"lowering arms"): the reversed class samples its motion parameters with
the base class's code and plays the resulting frames backwards. The two classes
of a pair therefore visit the same static poses with the same per-frame
distribution, and only the order of frames tells them apart -- the temporal
cue that scene shortcuts let a model skip.

`style` is four numbers in [0, 1) drawn per clip; each action maps them onto its
own amplitudes so that no two clips move identically.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from actionbias.synth.body import (
    POSE_SIZE,
    blend_poses,
    make_pose,
    slerp_direction,
    sph,
    symmetric_pose,
    unit,
)

Style = Sequence[float]
PoseFn = Callable[[float, Style], np.ndarray]


def smoothstep(x: np.ndarray | float) -> np.ndarray | float:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _rest_arm(s: float) -> tuple[np.ndarray, np.ndarray]:
    return sph(7.0 + 5.0 * s, 15.0), sph(13.0 + 8.0 * s, 55.0)


def _rest_leg(s: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    return sph(3.0 + 2.0 * s, 0.0), sph(2.0 + 1.0 * s, 0.0)


def rest_pose(style: Style) -> np.ndarray:
    """Standing relaxed; the pose idle stretches and transitions start from."""
    upper, fore = _rest_arm(style[0])
    thigh, shin = _rest_leg(style[1])
    return symmetric_pose(upper, fore, thigh, shin)


def _keyframes(p: float, keys: Sequence[tuple[float, np.ndarray]]) -> np.ndarray:
    """Eased interpolation between (time, pose) keys on a cycle of length 1."""
    times = [t for t, _ in keys]
    n = len(keys)
    for i in range(n):
        t0 = times[i]
        t1 = times[i + 1] if i + 1 < n else times[0] + 1.0
        q = p if p >= t0 else p + 1.0
        if t0 <= q < t1:
            w = float(smoothstep((q - t0) / (t1 - t0)))
            return blend_poses(keys[i][1], keys[(i + 1) % n][1], w)
    return keys[0][1]


# --- periodic actions -----------------------------------------------------------------


def _waving(p: float, s: Style) -> np.ndarray:
    swing = (24.0 + 12.0 * s[0]) * math.sin(2 * math.pi * p)
    up = sph(100.0 + 15.0 * s[1], 12.0)
    fore = sph(168.0 + swing, 8.0)
    rest_up, rest_fore = _rest_arm(s[2])
    thigh, shin = _rest_leg(s[3])
    sway = 3.0 * math.sin(2 * math.pi * p)
    return make_pose(rest_up, rest_fore, up, fore, thigh, shin, thigh, shin, roll=sway * 0.5)


def _guard(s: float) -> tuple[np.ndarray, np.ndarray]:
    return sph(38.0 + 6.0 * s, 70.0), sph(150.0 + 8.0 * s, 80.0)


def _punch_arm(ext: float, s: float) -> tuple[np.ndarray, np.ndarray]:
    g_up, g_fore = _guard(s)
    target = sph(84.0, 92.0)
    return slerp_direction(g_up, target, ext), slerp_direction(g_fore, target, ext)


def _punching(p: float, s: Style) -> np.ndarray:
    def extension(q: float) -> float:
        v = max(0.0, math.sin(2 * math.pi * q))
        return v**1.5

    ext_r = extension(p)
    ext_l = extension(p + 0.5)
    r_up, r_fore = _punch_arm(ext_r, s[0])
    l_up, l_fore = _punch_arm(ext_l, s[0])
    stance = sph(9.0 + 4.0 * s[1], 0.0)
    shin = sph(6.0 + 3.0 * s[1], 0.0)
    twist = (12.0 + 8.0 * s[2]) * (ext_r - ext_l)
    return make_pose(l_up, l_fore, r_up, r_fore, stance, shin, stance, shin, twist=twist, pitch=4.0)


def _jumping_jacks(p: float, s: Style) -> np.ndarray:
    o = 0.5 - 0.5 * math.cos(2 * math.pi * p)
    up = sph(12.0 + (148.0 + 12.0 * s[0]) * o, 6.0)
    fore = sph(16.0 + (160.0 + 8.0 * s[0]) * o, 6.0)
    thigh = sph(3.0 + (15.0 + 6.0 * s[1]) * o, 0.0)
    shin = sph(2.0 + (13.0 + 5.0 * s[1]) * o, 0.0)
    lift = (0.03 + 0.02 * s[2]) * abs(math.sin(2 * math.pi * p))
    return symmetric_pose(up, fore, thigh, shin, lift=lift)


def _running_in_place(p: float, s: Style) -> np.ndarray:
    knee = 65.0 + 15.0 * s[0]
    arm = 30.0 + 12.0 * s[1]

    def leg(q: float) -> tuple[np.ndarray, np.ndarray]:
        up = max(0.0, math.sin(2 * math.pi * q))
        return sph(4.0 + knee * up, 88.0), sph(3.0 - (knee * 0.3) * up, 88.0)

    def arm_of(q: float) -> tuple[np.ndarray, np.ndarray]:
        e = arm * math.sin(2 * math.pi * q)
        return sph(e, 88.0), sph(e + 80.0, 88.0)

    r_thigh, r_shin = leg(p)
    l_thigh, l_shin = leg(p + 0.5)
    r_up, r_fore = arm_of(p + 0.5)
    l_up, l_fore = arm_of(p)
    lift = 0.015 * abs(math.sin(2 * math.pi * p))
    return make_pose(
        l_up, l_fore, r_up, r_fore, l_thigh, l_shin, r_thigh, r_shin, pitch=5.0, lift=lift
    )


def _arm_circles_forward(p: float, s: Style) -> np.ndarray:
    a = 2 * math.pi * p
    out = 0.18 + 0.12 * s[0]
    arm = unit(out, -math.cos(a), math.sin(a))
    thigh, shin = _rest_leg(s[1])
    thigh = sph(6.0 + 3.0 * s[1], 0.0)
    return symmetric_pose(arm, arm, thigh, shin, pitch=3.0 * math.sin(a))


def _clapping(p: float, s: Style) -> np.ndarray:
    together = 0.5 - 0.5 * math.cos(2 * math.pi * p)
    up = sph(38.0 + 8.0 * s[0], 95.0)
    fore = sph(88.0 - 8.0 * s[1], 98.0 + (40.0 + 8.0 * s[2]) * together)
    thigh, shin = _rest_leg(s[3])
    return symmetric_pose(up, fore, thigh, shin)


def _kicking(p: float, s: Style) -> np.ndarray:
    height = 70.0 + 20.0 * s[0]
    g_up, g_fore = _guard(s[1])
    rest_thigh, rest_shin = _rest_leg(s[2])
    u = min(p / 0.6, 1.0)
    raise_ = math.sin(math.pi * u) ** 0.8 if p < 0.6 else 0.0
    extend = math.sin(math.pi * u) ** 4 if p < 0.6 else 0.0
    thigh_e = 4.0 + height * raise_
    shin_e = thigh_e - 95.0 * raise_ * (1.0 - extend)
    r_thigh = sph(thigh_e, 88.0)
    r_shin = sph(shin_e, 88.0)
    return make_pose(
        g_up, g_fore, g_up, g_fore, rest_thigh, rest_shin, r_thigh, r_shin, pitch=-10.0 * raise_
    )


def _bowing(p: float, s: Style) -> np.ndarray:
    b = float(smoothstep(min(1.0, 1.6 * (0.5 - 0.5 * math.cos(2 * math.pi * p)))))
    depth = 55.0 + 20.0 * s[0]
    up = sph(6.0, 40.0 + 30.0 * s[1])
    fore = sph(10.0, 70.0)
    thigh, shin = _rest_leg(s[2])
    return symmetric_pose(up, fore, thigh, shin, pitch=depth * b, head=12.0 * b)


def _jumping(p: float, s: Style) -> np.ndarray:
    height = 0.13 + 0.07 * s[0]
    deep = 0.8 + 0.2 * s[1]
    stand = rest_pose(s)
    crouch = symmetric_pose(
        sph(-35.0, 88.0),
        sph(-20.0, 88.0),
        sph(60.0 * deep, 85.0),
        sph(-35.0 * deep, 88.0),
        pitch=25.0 * deep,
    )
    flight = symmetric_pose(
        sph(155.0, 70.0), sph(165.0, 70.0), sph(12.0, 88.0), sph(-8.0, 88.0), lift=height
    )
    land = symmetric_pose(
        sph(70.0, 88.0),
        sph(85.0, 88.0),
        sph(45.0 * deep, 85.0),
        sph(-25.0 * deep, 88.0),
        pitch=15.0,
    )
    return _keyframes(p, [(0.0, stand), (0.3, crouch), (0.5, flight), (0.68, land), (0.85, stand)])


# --- one-shot actions (p = eased progress 0 -> 1) --------------------------------------


def _squatting_down(p: float, s: Style) -> np.ndarray:
    depth = 0.85 + 0.15 * s[0]
    rest_up, rest_fore = _rest_arm(s[1])
    thigh0, shin0 = _rest_leg(s[2])
    start = symmetric_pose(rest_up, rest_fore, thigh0, shin0)
    end = symmetric_pose(
        sph(78.0, 88.0),
        sph(84.0, 90.0),
        sph(82.0 * depth, 70.0),
        sph(-30.0 * depth, 85.0),
        pitch=28.0 * depth,
    )
    return blend_poses(start, end, p)


def _raising_arms(p: float, s: Style) -> np.ndarray:
    rest_up, rest_fore = _rest_arm(s[0])
    thigh, shin = _rest_leg(s[1])
    start = symmetric_pose(rest_up, rest_fore, thigh, shin)
    mid = symmetric_pose(sph(92.0, 12.0), sph(98.0, 12.0), thigh, shin)
    end = symmetric_pose(sph(168.0 + 6.0 * s[2], 15.0), sph(174.0, 15.0), thigh, shin)
    if p < 0.5:
        return blend_poses(start, mid, 2.0 * p)
    return blend_poses(mid, end, 2.0 * p - 1.0)


@dataclass(frozen=True)
class Action:
    """One class of the library.

    `rate` is the range of cycles per second (periodic) or, for one-shot
    actions, the range of the fraction of the window the transition takes.
    `reverse_of` names the class whose motion this one plays backwards.
    """

    name: str
    kind: str  # "periodic" or "oneshot"
    pose_fn: PoseFn
    rate: tuple[float, float]
    home_scene: str
    object: str | None = None
    reverse_of: str | None = None


def _reverse(action: Action, name: str, home_scene: str) -> Action:
    return Action(
        name=name,
        kind=action.kind,
        pose_fn=action.pose_fn,
        rate=action.rate,
        home_scene=home_scene,
        object=None,
        reverse_of=action.name,
    )


_ARM_CIRCLES = Action(
    "arm circles forward", "periodic", _arm_circles_forward, (0.5, 0.8), "swimming pool"
)
_SQUAT = Action(
    "squatting down", "oneshot", _squatting_down, (0.55, 0.85), "weight room", "dumbbell"
)
_RAISE = Action("raising arms", "oneshot", _raising_arms, (0.55, 0.85), "tennis court", "racket")

#: Every action class in library order; presets take a prefix or a named subset.
ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("waving", "periodic", _waving, (0.8, 1.3), "beach", "flag"),
        Action("punching", "periodic", _punching, (0.5, 0.8), "boxing ring"),
        Action("jumping jacks", "periodic", _jumping_jacks, (0.45, 0.7), "aerobics studio"),
        Action(
            "running in place", "periodic", _running_in_place, (0.9, 1.3), "running track", "baton"
        ),
        _ARM_CIRCLES,
        _reverse(_ARM_CIRCLES, "arm circles backward", "ski slope"),
        _SQUAT,
        _reverse(_SQUAT, "standing up", "city park"),
        _RAISE,
        _reverse(_RAISE, "lowering arms", "city street"),
        Action("clapping", "periodic", _clapping, (0.9, 1.4), "theatre stage"),
        Action("kicking", "periodic", _kicking, (0.35, 0.55), "football pitch"),
        Action("bowing", "periodic", _bowing, (0.25, 0.4), "dojo"),
        Action("jumping", "periodic", _jumping, (0.4, 0.6), "basketball court", "ball"),
    )
}

#: (base, reversed) class pairs that share their static poses.
REVERSED_PAIRS: tuple[tuple[str, str], ...] = tuple(
    (a.reverse_of, a.name) for a in ACTIONS.values() if a.reverse_of is not None
)


@dataclass(frozen=True)
class MotionSpec:
    """Everything that fixes one performance of an action.

    Periodic: `rate` cycles/s starting at `phase`. One-shot: the transition
    starts at fraction `start` of the window and lasts fraction `rate` of it.
    """

    action: str
    style: tuple[float, float, float, float]
    rate: float
    phase: float = 0.0
    start: float = 0.0

    @property
    def definition(self) -> Action:
        return ACTIONS[self.action]

    @property
    def reversed(self) -> bool:
        return self.definition.reverse_of is not None

    def poses(self, n_frames: int, fps: float) -> np.ndarray:
        """(n_frames, POSE_SIZE) poses of this performance sampled at `fps`."""
        act = self.definition
        out = np.empty((n_frames, POSE_SIZE))
        if act.kind == "periodic":
            t = np.arange(n_frames) / fps
            phases = np.mod(self.phase + self.rate * t, 1.0)
        else:
            u = np.arange(n_frames) / max(n_frames - 1, 1)
            phases = smoothstep((u - self.start) / self.rate)
        for i, q in enumerate(np.asarray(phases, dtype=float)):
            out[i] = act.pose_fn(float(q), self.style)
        return out[::-1].copy() if self.reversed else out


def sample_motion(action: str, rng: np.random.Generator) -> MotionSpec:
    """Draw a performance of `action`; a reversed class draws exactly as its base does."""
    if action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
    act = ACTIONS[action]
    base = ACTIONS[act.reverse_of] if act.reverse_of else act
    style = tuple(float(v) for v in rng.random(4))
    rate = float(rng.uniform(*base.rate))
    if base.kind == "periodic":
        return MotionSpec(action, style, rate, phase=float(rng.random()))  # type: ignore[arg-type]
    start = float(rng.uniform(0.0, 1.0 - rate))
    return MotionSpec(action, style, rate, start=start)  # type: ignore[arg-type]
