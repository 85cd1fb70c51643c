"""`demo_settings`: what a rerun must match, without the per-run fields."""

from __future__ import annotations

from actionbias.demo.settings import QUICK_DATA, demo_settings


def test_quick_settings_name_the_data_and_the_resolved_recipe():
    settings = demo_settings(True, 3)
    assert settings["quick"] is True and settings["recipe"] == "demo-quick"
    assert settings["data"] == {
        "preset": QUICK_DATA["preset"],
        "overrides": QUICK_DATA["overrides"],
        "seed": 3,
    }
    config = settings["train_config"]
    for per_run in ("run_dir", "seed", "resume"):
        assert per_run not in config
    assert "name" not in config["model"] and "progress" not in config["trainer"]
    assert not {"train", "val", "scene_swap"} & set(config["data"])


def test_an_override_changes_the_settings():
    plain = demo_settings(True, 0)
    longer = demo_settings(True, 0, overrides=["trainer.max_epochs=7"])
    assert longer["train_config"]["trainer"]["max_epochs"] == 7
    assert longer["overrides"] == ["trainer.max_epochs=7"] and plain != longer
