"""`demo_settings`: what a rerun must match, without the per-run fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actionbias.demo.pipeline import FORMAT, run_demo
from actionbias.demo.settings import QUICK_DATA, demo_settings
from actionbias.errors import BadInputError
from actionbias.synth import resolve_config


def test_quick_settings_name_the_data_and_the_resolved_recipe():
    settings = demo_settings(True, 3)
    assert settings["quick"] is True and settings["recipe"] == "demo-quick"
    assert settings["data"] == {
        "preset": QUICK_DATA["preset"],
        "overrides": QUICK_DATA["overrides"],
        "seed": 3,
        "config": resolve_config("tiny", QUICK_DATA["overrides"]).to_json(),
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


def test_a_folder_of_an_older_preset_calibration_is_refused(tmp_path: Path):
    # Same preset name, other resolved data (as when a release recalibrates the
    # default): the trained models belong to the old data, so no resume.
    old = demo_settings(True, 0)
    old["data"]["config"]["correlation"] = 0.5
    state = {"format": FORMAT, "settings": old, "status": "complete", "runs": {}}
    (tmp_path / "demo.json").write_text(json.dumps(state))
    with pytest.raises(BadInputError, match=r"data\.config\.correlation"):
        run_demo(tmp_path, quick=True, progress=False)
