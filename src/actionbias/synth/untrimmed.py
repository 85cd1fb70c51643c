"""Untrimmed videos: several action instances separated by idle motion.

A `Timeline` is a `Motion` (it yields one pose per frame) built from an idle
track -- standing with a slight sway, now and then a side step -- on which
action instances are cross-faded in and out. The annotated segment of an
instance runs between the midpoints of its fade-in and fade-out, so the label
boundary sits where the pose is half idle, half action. One-shot actions use
their whole instance for the transition (a squat takes the whole segment).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from actionbias.synth.actions import ACTIONS, MotionSpec, rest_pose, sample_motion, smoothstep
from actionbias.synth.body import SCALAR_INDEX, SEGMENTS, blend_poses, sph

STEP_SECONDS = 0.7
BLEND_SECONDS = 0.4
MIN_GAP_SECONDS = 1.0


@dataclass(frozen=True)
class Instance:
    """One annotated action: [start, end) in seconds and how it is performed."""

    label: str
    start: float
    end: float
    motion: MotionSpec


@dataclass(frozen=True)
class Timeline:
    """Idle track + instances; `steps` are (start second, sideways shift in body units)."""

    instances: tuple[Instance, ...]
    style: tuple[float, float, float, float]
    sway_period: float
    sway_phase: float
    steps: tuple[tuple[float, float], ...] = ()

    def idle_poses(self, n_frames: int, fps: float) -> np.ndarray:
        t = np.arange(n_frames) / fps
        base = rest_pose(self.style)
        out = np.repeat(base[None], n_frames, axis=0)
        out[:, SCALAR_INDEX["torso roll"]] = math.radians(1.5) * np.sin(
            2 * math.pi * t / self.sway_period + self.sway_phase
        )
        shift = np.zeros(n_frames)
        for start, delta in self.steps:
            u = np.clip((t - start) / STEP_SECONDS, 0.0, 1.0)
            shift += delta * smoothstep(u)
            active = (u > 0) & (u < 1)
            if not np.any(active):
                continue
            lead = "left" if delta > 0 else "right"  # +x is the actor's left
            bump = np.sin(math.pi * u[active])
            thigh = SEGMENTS.index(f"{lead} thigh")
            shin = SEGMENTS.index(f"{lead} shin")
            for i, b in zip(np.flatnonzero(active), bump, strict=True):
                out[i, 3 * thigh : 3 * thigh + 3] = sph(3.0 + 14.0 * b, 0.0)
                out[i, 3 * shin : 3 * shin + 3] = sph(2.0 + 10.0 * b, 0.0)
        out[:, SCALAR_INDEX["shift"]] = shift
        return out

    def poses(self, n_frames: int, fps: float) -> np.ndarray:
        t = np.arange(n_frames) / fps
        idle = self.idle_poses(n_frames, fps)
        out = idle.copy()
        half = BLEND_SECONDS / 2
        for inst in self.instances:
            f0 = math.ceil(inst.start * fps - 1e-9)
            f1 = math.ceil(inst.end * fps - 1e-9)
            action = inst.motion.poses(max(f1 - f0, 1), fps)
            frames = np.flatnonzero((t >= inst.start - half) & (t < inst.end + half))
            if frames.size == 0:
                continue
            local = np.clip(frames - f0, 0, len(action) - 1)
            rise = smoothstep((t[frames] - (inst.start - half)) / BLEND_SECONDS)
            fall = smoothstep(((inst.end + half) - t[frames]) / BLEND_SECONDS)
            w = np.minimum(rise, fall)
            out[frames] = blend_poses(idle[frames], action[local], w)
        # Sideways position always follows the idle track (actions are performed in place).
        out[:, SCALAR_INDEX["shift"]] = idle[:, SCALAR_INDEX["shift"]]
        return out


def sample_timeline(
    rng: np.random.Generator,
    duration: float,
    labels: Sequence[str],
    fps: float,
) -> Timeline:
    """Place `labels` (in order) as instances with idle gaps over `duration` seconds.

    Instance lengths: 2-4.5 s for periodic actions, 1.5-3 s for one-shot ones;
    gaps are at least 1 s and share the remaining time at random. Labels that
    do not fit are dropped from the end, never squeezed.
    """
    labels = list(labels)
    lengths = [
        float(rng.uniform(2.0, 4.5) if ACTIONS[a].kind == "periodic" else rng.uniform(1.5, 3.0))
        for a in labels
    ]
    while labels and sum(lengths) + MIN_GAP_SECONDS * (len(labels) + 1) > duration:
        labels.pop()
        lengths.pop()
    spare = duration - sum(lengths) - MIN_GAP_SECONDS * (len(labels) + 1)
    shares = rng.dirichlet(np.ones(len(labels) + 1)) * spare
    gaps = MIN_GAP_SECONDS + shares
    instances = []
    steps = []
    cursor = 0.0
    position = 0.0
    for i, (label, length) in enumerate(zip(labels, lengths, strict=True)):
        gap = float(gaps[i])
        _maybe_step(rng, cursor, gap, steps, position)
        position = sum(d for _, d in steps)
        start = cursor + gap
        end = start + length
        motion = sample_motion(label, rng)
        if ACTIONS[label].kind == "oneshot":
            motion = dataclasses.replace(motion, start=0.0, rate=1.0)
        instances.append(Instance(label, round(start, 3), round(end, 3), motion))
        cursor = end
    _maybe_step(rng, cursor, duration - cursor, steps, position)
    return Timeline(
        instances=tuple(instances),
        style=tuple(float(v) for v in rng.random(4)),  # type: ignore[arg-type]
        sway_period=float(rng.uniform(2.5, 4.5)),
        sway_phase=float(rng.uniform(0, 2 * math.pi)),
        steps=tuple(steps),
    )


def _maybe_step(
    rng: np.random.Generator,
    gap_start: float,
    gap: float,
    steps: list[tuple[float, float]],
    position: float,
) -> None:
    """Add a side step inside an idle gap long enough to hold one away from the fades."""
    room = gap - 2 * BLEND_SECONDS - STEP_SECONDS
    if room <= 0.2 or rng.random() > 0.6:
        return
    if abs(position) > 0.12:
        direction = -math.copysign(1.0, position)
    else:
        direction = 1.0 if rng.random() < 0.5 else -1.0
    start = gap_start + BLEND_SECONDS + float(rng.uniform(0.0, room))
    steps.append((round(start, 3), direction * float(rng.uniform(0.08, 0.14))))
