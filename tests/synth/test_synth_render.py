"""Rendering: exact masks, layer order, camera consistency and the swap identity."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from actionbias.synth import (
    ACTIONS,
    HOME_SCENES,
    NEUTRAL_SCENES,
    OBJECTS,
    SCENES,
    render_clip,
    sample_motion,
)
from actionbias.synth.body import PART_NAMES
from actionbias.synth.camera import CameraSpec, sample_camera
from actionbias.synth.figure import actor_palette
from actionbias.synth.render import ClipSpec
from actionbias.synth.sampling import clip_streams, sample_actor, sample_object, sample_seed
from actionbias.synth.scenes import SceneSpec, build_scene, scene_elements


def _spec(
    action: str, index: int, size: int = 64, frames: int = 8, scene: str | None = None
) -> ClipSpec:
    streams = clip_streams(11, "render-test", index)
    camera = sample_camera(streams["camera"])
    obj = ACTIONS[action].object
    return ClipSpec(
        clip_id=f"clip-{index}",
        split="render-test",
        label=action,
        frames=frames,
        size=size,
        fps=8.0,
        actor=sample_actor(streams["actor"]),
        motion=sample_motion(action, streams["motion"]),
        actor_camera=camera,
        scene=SceneSpec(scene or ACTIONS[action].home_scene, sample_seed(streams["scene"])),
        scene_camera=camera,
        object=sample_object(obj, streams["object"]) if obj else None,
    )


ALL_ACTIONS = list(ACTIONS)


def test_render_is_a_pure_function_of_the_spec() -> None:
    spec = _spec("waving", 0)
    a, b = render_clip(spec), render_clip(spec)
    np.testing.assert_array_equal(a.frames, b.frames)
    np.testing.assert_array_equal(a.background, b.background)
    assert a.masks.keys() == b.masks.keys()
    for name in a.masks:
        np.testing.assert_array_equal(a.masks[name], b.masks[name])


@pytest.mark.parametrize("index", range(len(ALL_ACTIONS)))
def test_masks_are_exact(index: int) -> None:
    action = ALL_ACTIONS[index]
    clip = render_clip(_spec(action, index))
    person = clip.masks["person"]
    obj = ACTIONS[action].object
    foreground = person | clip.masks[obj] if obj else person
    assert person.any(axis=(1, 2)).all(), "the actor is visible in every frame"
    # Outside the person and object masks the frame IS the background-only render.
    np.testing.assert_array_equal(clip.frames[~foreground], clip.background[~foreground])
    # Inside the person mask every pixel has one of the actor's flat colours (no blending).
    palette = {tuple(c) for c in actor_palette(clip.spec.actor).values()}
    assert {tuple(c) for c in np.unique(clip.frames[person], axis=0)} <= palette
    # person = union of the parts; parts, object and scene elements partition the frame.
    parts = np.stack([clip.masks[p] for p in PART_NAMES])
    np.testing.assert_array_equal(parts.any(axis=0), person)
    owners = [n for n in clip.masks if n != "person"]
    coverage = np.sum([clip.masks[n] for n in owners], axis=0)
    assert (coverage == 1).all(), "every pixel has exactly one owner"
    # Hard edges: an object pixel also has one of the object's flat colours.
    if obj:
        colours = {tuple(c) for c in clip.spec.object.palette().values()}  # type: ignore[union-attr]
        assert {tuple(c) for c in np.unique(clip.frames[clip.masks[obj]], axis=0)} <= colours


def test_object_is_painted_behind_the_body() -> None:
    spec = _spec("waving", 3)
    with_obj = render_clip(spec)
    without = render_clip(dataclasses.replace(spec, object=None))
    np.testing.assert_array_equal(with_obj.masks["person"], without.masks["person"])
    flag = with_obj.masks["flag"]
    assert flag.any()
    np.testing.assert_array_equal(with_obj.frames[~flag], without.frames[~flag])


def test_camera_moves_scene_actor_and_masks_together() -> None:
    # A pure 3-pixel pan must shift every layer by exactly 3 pixels.
    spec = _spec("jumping jacks", 4)
    still = CameraSpec()
    panned = CameraSpec(pan_x=(3.0 / spec.size, 0.0, 1.0, 0.0))
    a = render_clip(dataclasses.replace(spec, actor_camera=still, scene_camera=still))
    b = render_clip(dataclasses.replace(spec, actor_camera=panned, scene_camera=panned))
    np.testing.assert_array_equal(b.frames[:, :, 3:], a.frames[:, :, :-3])
    np.testing.assert_array_equal(b.labels[:, :, 3:], a.labels[:, :, :-3])
    # With its own camera path the background moves over the clip.
    moving = render_clip(spec)
    assert not np.array_equal(moving.background[0], moving.background[-1])


def test_swap_render_equals_the_hat_composite() -> None:
    human = _spec("punching", 5)
    background = _spec("waving", 6)
    swap = dataclasses.replace(
        human, scene=background.scene, scene_camera=background.scene_camera, object=None
    )
    h, b, s = render_clip(human), render_clip(background), render_clip(swap)
    seg = h.masks["person"][..., None]
    composite = np.where(seg, h.frames, b.background)
    np.testing.assert_array_equal(s.frames, composite)
    np.testing.assert_array_equal(s.masks["person"], h.masks["person"])
    np.testing.assert_array_equal(s.background, b.background)


def test_mask_vocabularies_are_disjoint_plain_names() -> None:
    parts = set(PART_NAMES)
    objects = set(OBJECTS)
    elements = {e for name in SCENES for e in scene_elements(name)}
    assert not parts & objects and not parts & elements and not objects & elements
    assert "person" not in parts | objects | elements
    home = {e for name in HOME_SCENES for e in scene_elements(name)}
    neutral = {e for name in NEUTRAL_SCENES for e in scene_elements(name)}
    assert not home & neutral, "mimetic studios must share nothing with home scenes"


@pytest.mark.parametrize("name", list(SCENES))
def test_scenes_are_fully_painted_and_vary_per_seed(name: str) -> None:
    a = build_scene(SceneSpec(name, 1), 64)
    b = build_scene(SceneSpec(name, 2), 64)
    assert (a.labels > 0).all()
    assert a.elements == b.elements == scene_elements(name)
    assert not np.array_equal(a.image, b.image)
    big = build_scene(SceneSpec(name, 1), 112)
    assert big.elements == a.elements


def test_actors_stay_inside_the_frame() -> None:
    touching = 0
    total = 0
    for index, action in enumerate(ALL_ACTIONS * 3):
        person = render_clip(_spec(action, 100 + index)).masks["person"]
        edge = person[:, 0, :].any(1) | person[:, :, 0].any(1) | person[:, :, -1].any(1)
        touching += int(edge.sum())
        total += len(person)
    assert touching / total < 0.05
