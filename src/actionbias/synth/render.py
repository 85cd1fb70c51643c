"""Render one clip: scene, hand-held object and actor, with exact masks.

`render_clip(spec)` is a pure function of its `ClipSpec`: the same spec gives
the same pixels in any process, which is what lets `generate` spread clips
over a worker pool and still write identical bytes.

Layering is scene < object < body. Every pixel has exactly one owner (a scene
element, an object or a body part), recorded in a label image; RGB is looked up
from the labels afterwards. Consequences the tests rely on:

* outside the person and object masks a frame equals its background-only
  frame exactly;
* inside the person mask every pixel has one of the actor's flat colours;
* masks partition the frame: scene elements + objects + person cover every
  pixel once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from actionbias.synth.body import PART_NAMES
from actionbias.synth.camera import CameraSpec, warp_canvas
from actionbias.synth.figure import (
    BODY_LABEL0,
    OBJECT_LABEL0,
    ActorSpec,
    actor_palette,
    body_label,
    body_to_frame,
    pose_actor,
)
from actionbias.synth.objects import ObjectSpec, object_label_ids
from actionbias.synth.scenes import SceneSpec, build_scene, canvas_size


class Motion(Protocol):
    def poses(self, n_frames: int, fps: float) -> np.ndarray: ...


@dataclass(frozen=True)
class ClipSpec:
    """Everything that determines one rendered clip.

    A swap clip takes `actor`, `motion` and `actor_camera` from one clip and
    `scene` and `scene_camera` from another; normal clips use one camera for
    both. `label` is the class of the actor's motion (None for untrimmed videos).
    """

    clip_id: str
    split: str
    label: str | None
    frames: int
    size: int
    fps: float
    actor: ActorSpec
    motion: Motion
    actor_camera: CameraSpec
    scene: SceneSpec
    scene_camera: CameraSpec
    object: ObjectSpec | None = None


@dataclass
class RenderedClip:
    """Pixels and masks of one clip.

    `frames` and `background` are (T, H, W, 3) uint8 RGB (background: the same
    scene and camera without actor and object). `masks` maps plain-text names
    ("person", body parts, the object, scene elements) to (T, H, W) bool arrays
    of the pixels each owns in `frames`; it is built on first use from `labels`,
    the per-pixel id image (`mask(name)` builds a single one, which is all a long
    untrimmed video needs). `poses` are the (T, POSE_SIZE) pose vectors.
    """

    spec: ClipSpec
    frames: np.ndarray
    background: np.ndarray
    labels: np.ndarray
    poses: np.ndarray
    mask_ids: dict[str, list[int]]
    _masks: dict[str, np.ndarray] | None = field(default=None, repr=False)

    def mask(self, name: str) -> np.ndarray:
        if self._masks is not None:
            return self._masks[name]
        return masks_from_labels(self.labels, {name: self.mask_ids[name]})[name]

    @property
    def masks(self) -> dict[str, np.ndarray]:
        if self._masks is None:
            self._masks = masks_from_labels(self.labels, self.mask_ids)
        return self._masks

    @property
    def person(self) -> np.ndarray:
        return self.mask("person")


def _mask_ids(spec: ClipSpec, elements: tuple[str, ...]) -> dict[str, list[int]]:
    names: dict[str, list[int]] = {
        "person": list(range(BODY_LABEL0, BODY_LABEL0 + 2 * len(PART_NAMES)))
    }
    for part in PART_NAMES:
        names[part] = [body_label(part, 0), body_label(part, 1)]
    if spec.object is not None:
        names[spec.object.name] = object_label_ids(spec.object.name)
    for i, element in enumerate(elements):
        names.setdefault(element, []).append(i + 1)
    return names


def masks_from_labels(labels: np.ndarray, names: dict[str, list[int]]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, ids in names.items():
        lo, hi = min(ids), max(ids)
        if hi - lo + 1 == len(set(ids)):  # contiguous ids: two compares beat a lookup
            out[name] = labels == lo if lo == hi else (labels >= lo) & (labels <= hi)
        else:
            lut = np.zeros(256, bool)
            lut[ids] = True
            out[name] = lut[labels]
    return out


def render_clip(spec: ClipSpec) -> RenderedClip:
    """Render `spec` into frames, background-only frames, labels and masks."""
    n, size = spec.frames, spec.size
    scene = build_scene(spec.scene, size, canvas_size(size))
    margin = (scene.image.shape[0] - size) / 2.0
    canvas = np.dstack([scene.image, scene.labels])
    bg_cam = spec.scene_camera.transforms(n, spec.fps, size)
    actor_cam = spec.actor_camera.transforms(n, spec.fps, size)
    poses = spec.motion.poses(n, spec.fps)

    lut = np.zeros((256, 3), np.uint8)
    for label, rgb in actor_palette(spec.actor).items():
        lut[label] = rgb
    if spec.object is not None:
        for label, rgb in spec.object.palette().items():
            lut[label] = rgb

    background = np.empty((n, size, size, 3), np.uint8)
    labels = np.empty((n, size, size), np.uint8)
    for t in range(n):
        view = warp_canvas(canvas, bg_cam[t], margin, size)
        background[t] = view[..., :3]
        lab = np.ascontiguousarray(view[..., 3])
        posed = pose_actor(spec.actor, poses[t], body_to_frame(spec.actor, size, actor_cam[t]))
        if spec.object is not None:
            for shape in spec.object.shapes(posed):
                shape.draw(lab)
        for shape in posed.shapes:
            shape.draw(lab)
        labels[t] = lab
    frames = background.copy()
    fg = labels >= OBJECT_LABEL0
    frames[fg] = lut[labels[fg]]
    return RenderedClip(
        spec=spec,
        frames=frames,
        background=background,
        labels=labels,
        poses=poses,
        mask_ids=_mask_ids(spec, scene.elements),
    )
