"""Random draws of the per-clip factors: actor, object tint, seeds.

Each clip derives independent generators for its actor, motion, scene and
camera from one `SeedSequence` keyed by (seed, split, index), so what one
factor draws never shifts another (changing the scene assignment of a clip
leaves its actor and motion untouched), and nothing depends on the order in
which a worker pool renders clips.
"""

from __future__ import annotations

import zlib

import numpy as np

from actionbias.synth.body import Build, Look
from actionbias.synth.figure import ActorSpec
from actionbias.synth.objects import ObjectSpec

#: Names of the independent random streams of a clip, in spawn order.
STREAMS = ("actor", "motion", "scene", "camera", "object", "extra")


def stream_key(text: str) -> int:
    """A stable 32-bit key for a string (Python's hash() changes between runs)."""
    return zlib.crc32(text.encode("utf-8"))


def clip_streams(seed: int, split: str, index: int) -> dict[str, np.random.Generator]:
    """Independent generators for one clip, a pure function of (seed, split, index)."""
    root = np.random.SeedSequence([int(seed), stream_key(split), int(index)])
    return {
        name: np.random.default_rng(child)
        for name, child in zip(STREAMS, root.spawn(len(STREAMS)), strict=True)
    }


def plan_rng(seed: int, purpose: str) -> np.random.Generator:
    """A generator for split-level decisions (scene assignment, swap pairing)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), stream_key("plan:" + purpose)]))


def sample_actor(rng: np.random.Generator, height: tuple[float, float] = (0.5, 0.6)) -> ActorSpec:
    """Random proportions, clothes, size (`height`, a fraction of the frame), place, yaw."""
    yaw = float(rng.uniform(15.0, 50.0)) * (1.0 if rng.random() < 0.5 else -1.0)
    return ActorSpec(
        build=Build.sample(rng),
        look=Look.sample(rng),
        height=float(rng.uniform(height[0], height[1])),
        x=float(rng.uniform(0.38, 0.62)),
        ground=float(rng.uniform(0.86, 0.92)),
        yaw=yaw,
    )


def sample_object(name: str, rng: np.random.Generator) -> ObjectSpec:
    tint = tuple(float(v) for v in rng.uniform(0.9, 1.1, size=3))
    return ObjectSpec(name=name, tint=tint)  # type: ignore[arg-type]


def sample_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**63 - 1))
