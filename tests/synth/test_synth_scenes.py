"""Scene painters for any seed and size; scene sets, lighting and props; every data seed plans."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from actionbias.errors import BadInputError
from actionbias.synth import PRESETS, SCENES, make_plan, resolve_config
from actionbias.synth.plan import assign_scenes, scene_sets
from actionbias.synth.scenes import PROP_NAMES, SceneSpec, build_scene, canvas_size

# The first default preset failed on these (scene, size, seed): the ski slope's
# mountain polygon and snow left a band unpainted wherever its trees stood apart.
KNOWN_FAILURES = [("ski slope", 64, 9), ("ski slope", 112, 24)]


@pytest.mark.parametrize("size", [32, 64, 112])
def test_every_painter_covers_every_pixel_for_many_seeds(size: int) -> None:
    # 12 plain seeds per painter and size (the ski slope failed on ~4 % of seeds),
    # 4 more with every option on; other sizes and seeds run in the plan test below.
    variants = [(seed, 0.0, 0, 1.0, 0.0) for seed in range(size, size + 12)]
    variants += [(seed, 1.0, 3, 0.3, 0.02) for seed in range(4)]
    for name in SCENES:
        for seed, lighting, props, contrast, blur in variants:
            spec = SceneSpec(name, seed, lighting, props, contrast, blur)
            scene = build_scene(spec, size, canvas_size(size))
            assert (scene.labels > 0).all(), (name, size, seed)
            assert scene.image.dtype == np.uint8


@pytest.mark.parametrize(("name", "size", "seed"), KNOWN_FAILURES)
def test_former_ski_slope_failures_now_paint(name: str, size: int, seed: int) -> None:
    scene = build_scene(SceneSpec(name, seed), size, canvas_size(size))
    assert (scene.labels > 0).all()


def test_lighting_and_props_leave_the_painted_scene_alone_when_off() -> None:
    plain = build_scene(SceneSpec("beach", 5), 64)
    lit = build_scene(SceneSpec("beach", 5, lighting=0.8), 64)
    with_props = build_scene(SceneSpec("beach", 5, props=3), 64)
    assert np.array_equal(plain.labels, lit.labels)  # lighting never moves an element
    assert not np.array_equal(plain.image, lit.image)
    assert set(with_props.elements) - set(plain.elements) <= set(PROP_NAMES)
    assert set(with_props.elements) != set(plain.elements)
    # outside the props the scene is unchanged, pixel for pixel
    keep = np.isin(with_props.labels, [i + 1 for i in range(len(plain.elements))])
    assert np.array_equal(plain.image[keep], with_props.image[keep])


def test_scene_sets_share_every_scene_between_m_classes() -> None:
    config = PRESETS["default"]
    sets = scene_sets(config)
    m = config.scene_sets
    assert m > 1
    owners = Counter(scene for options in sets.values() for scene, _ in options)
    assert set(owners.values()) == {m}
    for label, options in sets.items():
        assert options[0][1] == pytest.approx(config.home_weight)
        assert sum(w for _, w in options) == pytest.approx(1.0)
        assert len({s for s, _ in options}) == m, label


def test_home_set_clips_follow_their_weights() -> None:
    config = resolve_config("default", {"train": 50, "correlation": 1.0})
    sets = scene_sets(config)
    pairs = assign_scenes(config, 3, "train")
    for label, options in sets.items():
        got = Counter(scene for lab, scene in pairs if lab == label)
        for scene, weight in options:
            assert abs(got[scene] - weight * 50) <= 1, (label, scene, got)


def test_legacy_preset_is_the_first_default() -> None:
    legacy = PRESETS["legacy"]
    assert legacy.scene_sets == 1 and legacy.lighting == 0.0 and legacy.props == (0, 0)
    assert legacy.actor_height == (0.5, 0.6) and legacy.correlation == 0.9
    plan = make_plan(resolve_config("legacy", {"untrimmed": 0}), 0)
    for clip in plan.clips["train"]:
        assert clip.spec.scene.lighting == 0.0 and clip.spec.scene.props == 0


@pytest.mark.parametrize("preset", ["tiny", "default", "legacy"])
def test_every_data_seed_plans_and_its_scenes_paint(preset: str) -> None:
    """Each distinct scene of a plan is painted: seed 913 crashed the first default preset."""
    seeds = (1, 3, 7, 11, 913) if preset == "tiny" else (3, 913)
    for seed in seeds:
        config = resolve_config(preset, {"untrimmed": 0})
        plan = make_plan(config, seed)
        specs = {c.spec.scene for clips in plan.clips.values() for c in clips}
        if preset != "tiny":
            # painting 600 scenes per seed is the slow part: every ski slope and a sample
            ski = {s for s in specs if s.name == "ski slope"}
            specs = ski | set(sorted(specs - ski, key=lambda s: s.seed)[:12])
        for spec in specs:
            scene = build_scene(spec, config.size, canvas_size(config.size))
            assert (scene.labels > 0).all(), (preset, seed, spec)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("scene_sets", 0),
        ("scene_sets", 11),
        ("home_weight", 1.5),
        ("lighting", -0.1),
        ("props", "3,1"),
        ("actor_height", "0.1,0.5"),
        ("actor_height", "x"),
    ],
)
def test_bad_scene_knobs_name_the_field(key: str, value: object) -> None:
    with pytest.raises(BadInputError) as err:
        resolve_config("default", {key: value})
    assert key in str(err.value)
