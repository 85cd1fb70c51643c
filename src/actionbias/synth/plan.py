"""From (config, seed) to the full list of clip specs: the benchmark's design.

* train/val/test: for each class, `round(correlation * N)` clips over the whole
  split are rendered on their class's home scene, the rest (spread evenly over
  classes) on another class's home scene, cycling through the other classes.
  val and test follow the same correlation as train (in-distribution).
* swap (HAT Action-Swap analogue): every test clip of class A lends its actor,
  motion and camera to one swap clip whose background is a test clip of class
  B != A rendered on B's home scene. B cycles through the other classes from a
  random offset, so (A, B) pairs are balanced as far as counts allow, and the
  least-used background clip of B is taken each time.
* mimetic (Mimetics analogue): fresh actors, no objects, on scenes no class of
  the configuration is filmed in (`mimetic_scene_names`).
* untrimmed: videos with 2-6 instances on one class's home scene; about half
  the instances are that class, the rest random other classes; the actor
  holds that class's object (if any) for the whole video. 70 % of the videos
  are "training", the rest "validation".

Clip ids are Kinetics clip names `sa-{split}-{index:05d}_000000_{end:06d}`;
the same name keys the video file, the HAT folders and the mask file.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace

import numpy as np

from actionbias.synth.actions import ACTIONS, sample_motion
from actionbias.synth.camera import sample_camera
from actionbias.synth.config import TRIMMED_SPLITS, SynthConfig
from actionbias.synth.render import ClipSpec
from actionbias.synth.sampling import (
    clip_streams,
    plan_rng,
    sample_actor,
    sample_object,
    sample_seed,
)
from actionbias.synth.scenes import NEUTRAL_SCENES, SceneSpec
from actionbias.synth.untrimmed import sample_timeline


@dataclass(frozen=True)
class PlannedClip:
    """A trimmed clip to render plus what its annotation rows say about it."""

    spec: ClipSpec
    youtube_id: str
    clip_name: str
    label_id: int
    time_end: int
    scene: str
    object: str | None
    extras: dict[str, str] = field(default_factory=dict)

    @property
    def hat_key(self) -> str:
        """HAT's "<class>/<clip>" key of this clip."""
        return f"{self.spec.label}/{self.clip_name}"


@dataclass(frozen=True)
class PlannedVideo:
    """An untrimmed video to render (its spec's motion is a `Timeline`)."""

    spec: ClipSpec
    video_id: str
    subset: str
    scene: str


@dataclass
class Plan:
    config: SynthConfig
    seed: int
    clips: dict[str, list[PlannedClip]]
    videos: list[PlannedVideo]


def home_scene(label: str) -> str:
    return ACTIONS[label].home_scene


def scene_sets(config: SynthConfig) -> dict[str, list[tuple[str, float]]]:
    """Each class's home set: (scene, probability) pairs, its own home scene first.

    With `scene_sets` = m > 1, class i is also filmed on the home scenes of classes
    i+1 .. i+m-1 (cyclically, in the configuration's class order), so every scene
    belongs to m classes and says "one of these m" rather than naming one class; its
    own home scene keeps `home_weight`, the shared ones split the rest evenly. This
    is the Kinetics situation: "playing basketball" spans many courts, and a court
    also hosts "dribbling" and "shooting hoops".
    """
    classes = list(config.classes)
    m = config.scene_sets
    if m <= 1:
        return {c: [(home_scene(c), 1.0)] for c in classes}
    rest = (1.0 - config.home_weight) / (m - 1)
    return {
        c: [(home_scene(c), config.home_weight)]
        + [(home_scene(classes[(i + j) % len(classes)]), rest) for j in range(1, m)]
        for i, c in enumerate(classes)
    }


def clip_seconds(config: SynthConfig) -> int:
    """Whole seconds the Kinetics name claims for a clip of `frames` at `fps` (rounded up)."""
    return max(1, math.ceil(config.frames / config.fps - 1e-9))


def _new_clip(
    config: SynthConfig,
    seed: int,
    split: str,
    index: int,
    label: str,
    scene: str,
    with_object: bool,
) -> PlannedClip:
    streams = clip_streams(seed, split, index)
    youtube_id = f"sa-{split}-{index:05d}"
    end = clip_seconds(config)
    clip_name = f"{youtube_id}_{0:06d}_{end:06d}"
    camera = sample_camera(streams["camera"], config.camera_shake)
    obj_name = class_object(config, label) if with_object else None
    obj = sample_object(obj_name, streams["object"]) if obj_name else None
    spec = ClipSpec(
        clip_id=clip_name,
        split=split,
        label=label,
        frames=config.frames,
        size=config.size,
        fps=config.fps,
        actor=sample_actor(streams["actor"], config.actor_height),
        motion=sample_motion(label, streams["motion"]),
        actor_camera=camera,
        scene=scene_spec(config, scene, streams["scene"]),
        scene_camera=camera,
        object=obj,
    )
    return PlannedClip(
        spec=spec,
        youtube_id=youtube_id,
        clip_name=clip_name,
        label_id=config.classes.index(label),
        time_end=end,
        scene=scene,
        object=obj_name,
    )


def scene_spec(config: SynthConfig, name: str, rng: np.random.Generator) -> SceneSpec:
    """A clip's scene: the painter's seed first, then (if enabled) its prop count."""
    seed = sample_seed(rng)
    lo, hi = config.props
    props = int(rng.integers(lo, hi + 1)) if hi > 0 else 0
    return SceneSpec(
        name,
        seed,
        lighting=config.lighting,
        props=props,
        contrast=config.scene_contrast,
        blur=config.scene_blur,
    )


def _even_counts(total: int, bins: int, rng: np.random.Generator) -> list[int]:
    """`total` split over `bins` as evenly as possible, the remainder to random bins."""
    base, extra = divmod(total, bins)
    counts = [base] * bins
    for i in rng.permutation(bins)[:extra]:
        counts[int(i)] += 1
    return counts


def assign_scenes(config: SynthConfig, seed: int, split: str) -> list[tuple[str, str]]:
    """(label, scene) of every clip of a trimmed split, class-major order."""
    rng = plan_rng(seed, f"scenes:{split}")
    classes = list(config.classes)
    per_class = config.clips_per_class(split)
    total = per_class * len(classes)
    home_total = math.floor(config.correlation * total + 0.5)
    off_counts = _even_counts(total - home_total, len(classes), rng)
    sets = scene_sets(config)
    out: list[tuple[str, str]] = []
    for label, n_off in zip(classes, off_counts, strict=True):
        others = [home_scene(c) for c in classes if c != label]
        order = [others[int(i)] for i in rng.permutation(len(others))]
        off_positions = set(int(i) for i in rng.permutation(per_class)[: min(n_off, per_class)])
        home = _home_draws(sets[label], per_class - len(off_positions), rng)
        k = 0
        for position in range(per_class):
            if position in off_positions:
                out.append((label, order[k % len(order)]))
                k += 1
            else:
                out.append((label, home.pop()))
    return out


def _home_draws(options: list[tuple[str, float]], n: int, rng: np.random.Generator) -> list[str]:
    """`n` scenes of a home set in proportion to their weights (largest remainder), shuffled.

    Counts rather than independent draws keep a 30-clip class close to its stated
    mix; a single-scene set draws nothing from `rng` (the first presets' plans).
    """
    if len(options) == 1:
        return [options[0][0]] * n
    weights = np.array([w for _, w in options], np.float64)
    exact = weights / weights.sum() * n
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts), kind="stable")[: n - int(counts.sum())]:
        counts[i] += 1
    scenes = [name for (name, _), c in zip(options, counts, strict=True) for _ in range(c)]
    return [scenes[int(i)] for i in rng.permutation(len(scenes))]


def class_object(config: SynthConfig, label: str) -> str | None:
    """The object `label`'s actor holds: its own, or (`pair_objects`) its base class's."""
    action = ACTIONS[label]
    if action.object is None and config.pair_objects and action.reverse_of is not None:
        return ACTIONS[action.reverse_of].object
    return action.object


def _object_holders(config: SynthConfig, seed: int, split: str, labels: list[str]) -> list[bool]:
    """Which clips of a split hold their class's object: `round(object_rate * n)` of each class.

    Counts per class rather than independent draws (as for scenes), picked by a
    split-level generator; at rate 1 nothing is drawn (the first presets' plans).
    """
    if config.object_rate >= 1.0:
        return [True] * len(labels)
    rng = plan_rng(seed, f"objects:{split}")
    holds = [False] * len(labels)
    for c in config.classes:
        indices = [i for i, label in enumerate(labels) if label == c]
        keep = round(config.object_rate * len(indices))
        for j in rng.permutation(len(indices))[:keep]:
            holds[indices[int(j)]] = True
    return holds


def plan_trimmed(config: SynthConfig, seed: int, split: str) -> list[PlannedClip]:
    assigned = assign_scenes(config, seed, split)
    holds = _object_holders(config, seed, split, [label for label, _ in assigned])
    return [
        _new_clip(config, seed, split, i, label, scene, with_object=held)
        for i, ((label, scene), held) in enumerate(zip(assigned, holds, strict=True))
    ]


def plan_swap(config: SynthConfig, seed: int, test: list[PlannedClip]) -> list[PlannedClip]:
    """Pair each test clip's human with another class's home-scene test background."""
    rng = plan_rng(seed, "swap")
    classes = list(config.classes)
    by_class: dict[str, list[PlannedClip]] = defaultdict(list)
    for clip in test:
        by_class[clip.spec.label].append(clip)  # type: ignore[index]
    backgrounds: dict[str, list[PlannedClip]] = {}
    sets = scene_sets(config)
    for label in classes:
        home = {name for name, _ in sets[label]}
        pool = [c for c in by_class[label] if c.scene in home] or by_class[label]
        backgrounds[label] = [pool[int(i)] for i in rng.permutation(len(pool))]
    usage: dict[str, int] = defaultdict(int)
    swaps: list[PlannedClip] = []
    end = clip_seconds(config)
    for a_index, label in enumerate(classes):
        others = [c for c in classes if c != label and backgrounds[c]]
        if not others:
            continue
        offset = int(rng.integers(len(others)))
        for r, human in enumerate(by_class[label]):
            bg_label = others[(r + offset + a_index) % len(others)]
            background = min(backgrounds[bg_label], key=lambda c: usage[c.clip_name])
            usage[background.clip_name] += 1
            index = len(swaps)
            youtube_id = f"sa-swap-{index:05d}"
            clip_name = f"{youtube_id}_{0:06d}_{end:06d}"
            # The human clip's actor, motion and camera in the background clip's scene.
            spec = replace(
                human.spec,
                clip_id=clip_name,
                split="swap",
                scene=background.spec.scene,
                scene_camera=background.spec.scene_camera,
                object=None,
            )
            swaps.append(
                PlannedClip(
                    spec=spec,
                    youtube_id=youtube_id,
                    clip_name=clip_name,
                    label_id=human.label_id,
                    time_end=end,
                    scene=background.scene,
                    object=None,
                    extras={
                        "background_label": bg_label,
                        "human_clip": human.hat_key,
                        "background_clip": background.hat_key,
                    },
                )
            )
    return swaps


def mimetic_scene_names(config: SynthConfig) -> list[str]:
    """Scenes of the mimetic split: never seen with any class of the configuration.

    ``studios``: the two neutral studios only (the first presets). ``unused``: the
    library's home scenes that no class of this configuration is filmed in (real
    places, out of context, as Mimetics' clips are), then the studios.
    """
    if config.mimetic_scenes == "studios":
        return list(NEUTRAL_SCENES)
    used = {name for options in scene_sets(config).values() for name, _ in options}
    unused = [ACTIONS[c].home_scene for c in ACTIONS if ACTIONS[c].home_scene not in used]
    return list(dict.fromkeys(unused)) + list(NEUTRAL_SCENES)


def plan_mimetic(config: SynthConfig, seed: int) -> list[PlannedClip]:
    """Actors on neutral studios (never a home scene) and without objects."""
    rng = plan_rng(seed, "scenes:mimetic")
    studios = mimetic_scene_names(config)
    start = int(rng.integers(len(studios)))
    clips = []
    for label in config.classes:
        for _ in range(config.mimetic):
            i = len(clips)
            scene = studios[(start + i) % len(studios)]
            clips.append(_new_clip(config, seed, "mimetic", i, label, scene, with_object=False))
    return clips


def plan_untrimmed(config: SynthConfig, seed: int) -> list[PlannedVideo]:
    n = config.untrimmed
    if n == 0:
        return []
    rng = plan_rng(seed, "untrimmed")
    classes = list(config.classes)
    themes = [
        classes[int(i)]
        for i in np.concatenate(
            [rng.permutation(len(classes)) for _ in range(n // len(classes) + 1)]
        )
    ]
    n_train = n if n == 1 else max(1, min(n - 1, math.floor(0.7 * n + 0.5)))
    training = set(int(i) for i in rng.permutation(n)[:n_train])
    videos = []
    for v in range(n):
        streams = clip_streams(seed, "untrimmed", v)
        extra = streams["extra"]
        frames = round(extra.uniform(*config.untrimmed_seconds) * config.fps)
        duration = frames / config.fps
        theme = themes[v]
        lo, hi = config.untrimmed_instances
        count = int(extra.integers(lo, hi + 1))
        others = [c for c in classes if c != theme]
        labels = [
            theme if extra.random() < 0.5 else others[int(extra.integers(len(others)))]
            for _ in range(count)
        ]
        camera = sample_camera(streams["camera"], config.camera_shake)
        obj_name = class_object(config, theme)
        scene = home_scene(theme)
        video_id = f"sa-untrimmed-{v:05d}"
        spec = ClipSpec(
            clip_id=video_id,
            split="untrimmed",
            label=None,
            frames=frames,
            size=config.size,
            fps=config.fps,
            actor=sample_actor(streams["actor"], config.actor_height),
            motion=sample_timeline(streams["motion"], duration, labels, config.fps),
            actor_camera=camera,
            scene=scene_spec(config, scene, streams["scene"]),
            scene_camera=camera,
            object=sample_object(obj_name, streams["object"]) if obj_name else None,
        )
        subset = "training" if v in training else "validation"
        videos.append(PlannedVideo(spec=spec, video_id=video_id, subset=subset, scene=scene))
    return videos


def make_plan(config: SynthConfig, seed: int) -> Plan:
    clips = {split: plan_trimmed(config, seed, split) for split in TRIMMED_SPLITS}
    clips["swap"] = plan_swap(config, seed, clips["test"])
    clips["mimetic"] = plan_mimetic(config, seed)
    return Plan(config=config, seed=seed, clips=clips, videos=plan_untrimmed(config, seed))
