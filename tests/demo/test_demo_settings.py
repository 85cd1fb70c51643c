"""`demo_settings`: what a rerun must match, without the per-run fields."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from actionbias.demo.pipeline import FORMAT, run_demo
from actionbias.demo.settings import QUICK_DATA, demo_settings
from actionbias.errors import BadInputError


def test_quick_settings_name_the_data_and_the_resolved_recipe():
    settings = demo_settings(True, 3)
    assert settings["quick"] is True and settings["recipe"] == "demo-quick"
    assert settings["data"] == {
        "preset": QUICK_DATA["preset"],
        "overrides": QUICK_DATA["overrides"],
        "seed": 3,
        "resolved_sha256": settings["data"]["resolved_sha256"],
    }
    assert len(settings["data"]["resolved_sha256"]) == 16
    config = settings["train_config"]
    for per_run in ("run_dir", "seed", "resume"):
        assert per_run not in config
    assert "name" not in config["model"] and "progress" not in config["trainer"]
    assert not {"train", "val", "scene_swap"} & set(config["data"])


def test_another_calibration_of_the_preset_changes_the_settings(monkeypatch):
    import actionbias.synth.config as synth_config

    before = demo_settings(True, 0)["data"]["resolved_sha256"]
    tiny = synth_config.PRESETS["tiny"]
    monkeypatch.setitem(synth_config.PRESETS, "tiny", dataclasses.replace(tiny, correlation=0.5))
    assert demo_settings(True, 0)["data"]["resolved_sha256"] != before


def test_an_override_changes_the_settings():
    plain = demo_settings(True, 0)
    longer = demo_settings(True, 0, overrides=["trainer.max_epochs=7"])
    assert longer["train_config"]["trainer"]["max_epochs"] == 7
    assert longer["overrides"] == ["trainer.max_epochs=7"] and plain != longer


def test_a_folder_of_an_older_preset_calibration_is_refused(tmp_path: Path):
    # Same preset name, other resolved data (as when a release recalibrates the
    # default): the trained models belong to the old data, so no resume.
    old = demo_settings(True, 0)
    old["data"]["resolved_sha256"] = "0" * 16
    state = {"format": FORMAT, "settings": old, "status": "complete", "runs": {}}
    (tmp_path / "demo.json").write_text(json.dumps(state))
    with pytest.raises(BadInputError, match=r"data\.resolved_sha256"):
        run_demo(tmp_path, quick=True, progress=False)
