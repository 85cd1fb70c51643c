"""The benchmark card: its views, its figures, determinism, the command and its page."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from actionbias.cli import main
from actionbias.metrics.seeds import t_quantile
from actionbias.synth import make_plan, render_clip, resolve_config
from actionbias.synth.card import (
    ProbeInput,
    card_for_plan,
    card_summary,
    over_seeds,
    render_split,
    shuffled_scenes,
)
from actionbias.synth.quickfit import FitBudget


@pytest.fixture(scope="module")
def tiny_plan():
    return make_plan(resolve_config("tiny", {"untrimmed": 0}), 4)


def test_shuffled_scenes_keep_the_mix_but_not_the_class(tiny_plan) -> None:
    clips = tiny_plan.clips["train"]
    shuffled = shuffled_scenes(clips, 0)
    assert Counter(s.scene for s in shuffled) == Counter(c.spec.scene for c in clips)
    assert [s.actor for s in shuffled] == [c.spec.actor for c in clips]
    home = sum(s.scene == c.spec.scene for s, c in zip(shuffled, clips, strict=True))
    assert home < len(clips) // 2  # most clips got another clip's scene


def test_views_are_exact_crops_of_the_rendered_clip(tiny_plan) -> None:
    clips = tiny_plan.clips["test"][:3]
    views = render_split(clips, ("rgb", "human", "scene"), ProbeInput(size=64))
    for i, clip in enumerate(clips):
        rendered = render_clip(clip.spec)
        person = rendered.person
        # tiny clips are 8 frames of 64 px, the probe's own size: nothing is resampled
        assert np.array_equal(views["rgb"][i], rendered.frames)
        assert np.array_equal(views["scene"][i], rendered.background)
        assert (views["human"][i][~person] == 0).all()
        assert np.array_equal(views["human"][i][person], rendered.frames[person])


def test_card_figures_are_consistent_and_repeatable(tiny_plan) -> None:
    budget = FitBudget(epochs=2)
    first = card_for_plan(tiny_plan, budget=budget)
    again = card_for_plan(tiny_plan, budget=budget, measurements=("baseline",))
    assert json.dumps(first["measurements"]["baseline"]) == json.dumps(
        again["measurements"]["baseline"]
    )
    m = first["measurements"]
    assert set(m) == {"scene_only", "human_only", "rgb_no_shortcut", "baseline"}
    for entry in m.values():
        est = entry["test_accuracy"]
        assert 0.0 <= est["low"] <= est["value"] <= est["high"] <= 1.0
        assert len(entry["val_curve"]) == 2
    b = m["baseline"]
    total = b["swap_shacc"]["value"] + b["swap_sberr"]["value"] + b["swap_other"]["value"]
    assert total == pytest.approx(1.0)
    assert first["chance"] == pytest.approx(1 / len(tiny_plan.config.classes))
    labels = [label for label, _ in card_summary(first)]
    assert "baseline swap SBErr" in labels


def test_several_probe_seeds_give_each_seed_its_own_card_and_a_t_interval(tiny_plan) -> None:
    budget = FitBudget(epochs=1)
    card = card_for_plan(tiny_plan, budget=budget, measurements=("baseline",), seeds=(3, 1))
    assert card["probe_seeds"] == [3, 1]
    entry = card["measurements"]["baseline"]
    assert [run["seed"] for run in entry["by_seed"]] == [3, 1]
    for run in entry["by_seed"]:
        # each seed's figures are exactly those of a one-seed card trained with that seed
        alone = card_for_plan(
            tiny_plan, budget=FitBudget(epochs=1, seed=run["seed"]), measurements=("baseline",)
        )["measurements"]["baseline"]
        assert json.dumps({k: v for k, v in run.items() if k != "seed"}) == json.dumps(alone)
    for key in ("test_accuracy", "swap_shacc", "swap_sberr", "mimetic_accuracy"):
        values = [run[key]["value"] for run in entry["by_seed"]]
        est = entry[key]
        assert est["value"] == pytest.approx(np.mean(values))
        half = t_quantile(0.95, 1) * np.std(values, ddof=1) / np.sqrt(2)
        assert est["high"] - est["value"] == pytest.approx(half)
        assert est["seeds"] == 2 and est["interval"] == "t over seeds"
        assert est["n"] == entry["by_seed"][0][key]["n"]
    total = sum(entry[k]["value"] for k in ("swap_shacc", "swap_sberr", "swap_other"))
    assert total == pytest.approx(1.0)
    assert "by seed" in dict(card_summary(card))["baseline swap SBErr"]
    with pytest.raises(ValueError, match="repeat"):
        card_for_plan(tiny_plan, budget=budget, measurements=("baseline",), seeds=(1, 1))


def test_over_seeds_by_hand() -> None:
    def run(test: float, curve: list[float]) -> dict:
        est = {"value": test, "low": test - 0.1, "high": test + 0.1, "n": 40}
        return {
            "view": "rgb",
            "test_accuracy": est,
            "train_accuracy": test + 0.2,
            "best_val_accuracy": max(curve),
            "val_curve": curve,
        }

    entry = over_seeds([run(0.5, [0.2, 0.4]), run(0.7, [0.4, 0.6])], [0, 1])
    assert entry["test_accuracy"]["value"] == pytest.approx(0.6)
    # sd of (0.5, 0.7) = 0.1414; half-width = 12.706 * 0.1414 / sqrt(2) = 1.2706
    assert entry["test_accuracy"]["low"] == pytest.approx(0.6 - 1.27062, rel=1e-4)
    assert entry["val_curve"] == pytest.approx([0.3, 0.5])
    assert entry["train_accuracy"] == pytest.approx(0.8)
    assert entry["best_val_accuracy"] == pytest.approx(0.5)
    assert "swap_sberr" not in entry
    with pytest.raises(ValueError):
        over_seeds([run(0.5, [0.2])], [0, 1])


def test_synth_card_command_writes_json_and_page(
    tiny_synthact: Path, tmp_path: Path, capsys
) -> None:
    out, page = tmp_path / "card.json", tmp_path / "card.html"
    code = main(
        [
            "synth",
            "card",
            str(tiny_synthact),
            "--epochs",
            "1",
            "--json",
            str(out),
            "--html",
            str(page),
            "--workers",
            "1",
            "--no-progress",
        ]
    )
    assert code == 0
    card = json.loads(out.read_text())
    assert card["format"] == "synthact-card-1" and card["data"] == str(tiny_synthact)
    html = page.read_text()
    assert "Benchmark card" in html and "data:image/png;base64," in html
    assert "scene-only accuracy" in capsys.readouterr().out


def test_synth_card_command_with_several_seeds(tiny_synthact: Path, tmp_path: Path, capsys) -> None:
    out, page = tmp_path / "card.json", tmp_path / "card.html"
    argv = ["synth", "card", str(tiny_synthact), "--epochs", "1", "--seeds", "0,2"]
    argv += ["--json", str(out), "--html", str(page), "--workers", "1", "--no-progress"]
    assert main(argv) == 0
    card = json.loads(out.read_text())
    assert card["probe_seeds"] == [0, 2]
    assert all(len(e["by_seed"]) == 2 for e in card["measurements"].values())
    html = page.read_text()
    assert "seed 0 / 2" in html and "t intervals over seeds" in html
    assert "by seed" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["synth", "card", str(tiny_synthact), "--seeds", "1,1"])
    assert exit_.value.code == 2 and "distinct seeds" in capsys.readouterr().err


def test_synth_card_on_a_folder_that_is_not_synthact(tmp_path: Path, capsys) -> None:
    assert main(["synth", "card", str(tmp_path), "--no-progress"]) == 2
    assert "synthact.json" in capsys.readouterr().err


def test_synth_without_out_is_a_one_line_error(capsys) -> None:
    assert main(["synth", "--preset", "tiny"]) == 2
    assert "--out" in capsys.readouterr().err
