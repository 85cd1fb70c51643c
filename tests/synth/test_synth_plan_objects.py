"""Objects in the plan: which class holds what (`pair_objects`) and how often (`object_rate`)."""

from __future__ import annotations

from collections import Counter

import pytest

from actionbias.errors import BadInputError
from actionbias.synth import ACTIONS, REVERSED_PAIRS, make_plan, resolve_config
from actionbias.synth.plan import class_object


def _objects(plan, split: str) -> Counter:
    return Counter((c.spec.label, c.object) for c in plan.clips[split])


def test_reversed_classes_hold_nothing_unless_pair_objects() -> None:
    plain = resolve_config("default", {"untrimmed": 0})
    paired = resolve_config("default", {"untrimmed": 0, "pair_objects": "true"})
    checked = 0
    for base, rev in REVERSED_PAIRS:
        if base not in plain.classes or ACTIONS[base].object is None:
            continue
        assert class_object(plain, rev) is None
        assert class_object(paired, rev) == ACTIONS[base].object == class_object(paired, base)
        checked += 1
    assert checked >= 2  # squatting/standing (dumbbell), raising/lowering (racket)
    # a class with no reversed base keeps its own object either way
    assert class_object(paired, "waving") == "flag" and class_object(paired, "punching") is None


@pytest.mark.parametrize("seed", [0, 4, 913])
def test_paired_plan_gives_both_members_the_object_and_mimetic_none(seed: int) -> None:
    config = resolve_config("default", {"untrimmed": 10, "pair_objects": True})
    plan = make_plan(config, seed)
    train = _objects(plan, "train")
    assert train[("standing up", "dumbbell")] == config.train
    assert train[("lowering arms", "racket")] == config.train
    assert all(obj is None for _, obj in _objects(plan, "mimetic"))
    # an untrimmed video's actor holds its theme class's object (the class of its scene)
    theme_of = {ACTIONS[c].home_scene: c for c in config.classes}
    for video in plan.videos:
        held = video.spec.object.name if video.spec.object else None
        assert held == class_object(config, theme_of[video.scene]), video.video_id


@pytest.mark.parametrize(("rate", "seed"), [(0.5, 0), (0.3, 7), (0.0, 913)])
def test_object_rate_is_a_count_per_class_and_split(rate: float, seed: int) -> None:
    config = resolve_config("default", {"untrimmed": 0, "object_rate": rate})
    plan = make_plan(config, seed)
    for split in ("train", "val", "test"):
        per_class = Counter(c.spec.label for c in plan.clips[split])
        held = Counter(c.spec.label for c in plan.clips[split] if c.object is not None)
        for label in config.classes:
            want = round(rate * per_class[label]) if ACTIONS[label].object else 0
            assert held[label] == want, (split, label)
    # the clips without their object are spread over scenes, not picked by scene
    bare = {c.scene for c in plan.clips["train"] if c.spec.label == "waving" and not c.object}
    assert rate == 0.0 or len(bare) > 1


def test_at_the_knobs_defaults_every_class_holds_its_own_object_in_every_clip() -> None:
    """The first presets' rule (and so their bytes): train/val/test clips all hold their
    class's own object, reversed classes none, and the object stream is drawn only then."""
    for preset in ("default", "legacy", "tiny"):
        config = resolve_config(preset, {"untrimmed": 1})
        assert config.object_rate == 1.0 and config.pair_objects is False
        plan = make_plan(config, 5)
        for split in ("train", "val", "test"):
            for clip in plan.clips[split]:
                own = ACTIONS[clip.spec.label].object
                assert clip.object == own, (preset, split, clip.clip_name)
                assert (clip.spec.object is None) == (own is None)
        theme_of = {ACTIONS[c].home_scene: c for c in config.classes}
        for video in plan.videos:
            held = video.spec.object.name if video.spec.object else None
            assert held == ACTIONS[theme_of[video.scene]].object


@pytest.mark.parametrize(
    ("key", "value"), [("object_rate", 1.5), ("object_rate", "x"), ("pair_objects", "maybe")]
)
def test_bad_object_knobs_name_the_field(key: str, value: object) -> None:
    with pytest.raises(BadInputError) as err:
        resolve_config("default", {key: value})
    assert key in str(err.value)


def test_description_names_the_objects_each_class_holds() -> None:
    from actionbias.synth.generation import _description

    config = resolve_config("tiny", {"classes": 10, "pair_objects": True, "untrimmed": 0})
    described = _description(make_plan(config, 0), "tiny")
    assert described["objects"]["standing up"] == "dumbbell"
    assert described["objects"]["punching"] is None
    assert described["masks"]["objects"] == ["baton", "dumbbell", "flag", "racket"]
    assert described["config"]["pair_objects"] is True
