"""The study's cells: names, folders' slugs, training overrides and epochs."""

from __future__ import annotations

from actionbias.demo.runs import AUGMENTS, BASELINE, MODELS, DemoRun, demo_runs


def test_names_and_slugs():
    plain = DemoRun("dual_sum", "none", 0)
    swapped = DemoRun("dual_sum", "scene-swap", 2)
    assert plain.name == "dual_sum" and swapped.name == "dual_sum + scene-swap"
    assert swapped.slug == "dual_sum-scene-swap-seed2"


def test_the_baseline_trains_the_recipe_backbone():
    assert DemoRun(BASELINE, "none", 1).overrides("slow_tiny") == [
        "model.name=slow_tiny",
        "data.scene_swap=false",
        "seed=1",
    ]
    assert DemoRun("segmented", "scene-swap", 0).overrides("slow_tiny")[:2] == [
        "model.name=segmented",
        "data.scene_swap=true",
    ]


def test_scene_swap_runs_halve_the_epochs_only_for_same_steps():
    swapped, plain = DemoRun("segmented", "scene-swap", 0), DemoRun("segmented", "none", 0)
    assert swapped.epochs(5, "same-steps") == 3
    assert swapped.epochs(1, "same-steps") == 1
    assert swapped.epochs(5, "same-epochs") == 5
    assert plain.epochs(5, "same-steps") == 5


def test_runs_are_seed_major():
    runs = demo_runs([1, 0])
    assert len(runs) == 2 * len(MODELS) * len(AUGMENTS)
    assert [r.seed for r in runs[: len(runs) // 2]] == [1] * (len(runs) // 2)
    assert [r.model for r in runs[: len(MODELS)]] == list(MODELS)
