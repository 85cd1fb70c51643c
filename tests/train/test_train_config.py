"""Configs: the paper's recipe as defaults, YAML recipes, overrides and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from actionbias.errors import BadInputError
from actionbias.train import TrainConfig, config_from_dict, load_config, recipe_names


def test_defaults_are_the_papers_recipe():
    config = TrainConfig()
    # Appendix A.3: Adam 1e-3, ReduceLROnPlateau (patience 40, threshold 1e-2) on the
    # validation loss, batch 20, 300 epochs, 8 evenly spaced frames, 256 -> 224 crop.
    assert (config.optim.optimizer, config.optim.lr) == ("adam", 1e-3)
    assert config.optim.scheduler == "plateau"
    assert (config.optim.plateau_patience, config.optim.plateau_threshold) == (40, 1e-2)
    assert config.data.batch_size == 20
    assert config.trainer.max_epochs == 300
    assert (config.data.num_frames, config.data.sampling) == (8, "uniform")
    assert (config.data.short_side, config.data.crop_size) == (256, 224)
    assert config.data.mean == (0.45, 0.45, 0.45)
    assert config.data.std == (0.225, 0.225, 0.225)
    assert config.model.name == "slow_r50"


def test_bundled_paper_recipe_restates_the_defaults():
    assert {"paper", "synthact"} <= set(recipe_names())
    paper = load_config("paper")
    default = TrainConfig()
    paper.model.backbone = None  # the YAML spells the backbone out; the default leaves it implicit
    assert paper == default


def test_synthact_recipe_is_a_small_cpu_run():
    config = load_config("synthact")
    assert config.model.name == "slow_tiny"
    assert config.model.backbone == "slow_tiny"
    assert (config.data.short_side, config.data.crop_size) == (64, 64)
    assert config.data.cache_clips is True
    assert config.trainer.max_epochs <= 20
    assert config.trainer.precision == "32-true"
    # Inherited from the paper recipe through `extends: paper`.
    assert config.optim.scheduler == "plateau"
    assert config.data.num_frames == 8


def test_overrides_are_parsed_as_yaml_values():
    config = load_config(
        "synthact",
        [
            "optim.lr=0.01",
            "data.mean=[0.5, 0.4, 0.3]",
            "data.cache_clips=auto",
            "data.scene_swap=true",
            "model.options.dropout=0.2",
            "trainer.devices=2",
            "trainer.strategy=ddp",
            "run_dir=runs/x",
            "data.short_side=null",
        ],
    )
    assert config.optim.lr == 0.01
    assert config.data.mean == (0.5, 0.4, 0.3)
    assert config.data.cache_clips == "auto"
    assert config.data.scene_swap is True
    assert config.model.options == {"dropout": 0.2}
    assert (config.trainer.devices, config.trainer.strategy) == (2, "ddp")
    assert config.run_dir == "runs/x"
    assert config.data.short_side is None
    # A mapping works as well, and YAML 1.1's "1e-3" string is read as a number.
    assert load_config(None, {"optim.lr": "1e-3"}).optim.lr == 1e-3


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ("data.batch_size=zero", "data.batch_size", "expected an integer"),
        ("data.batch_size=0", "data.batch_size", ">= 1"),
        ("optim.lr=-1", "optim.lr", "positive"),
        ("optim.optimizer=rmsprop", "optim.optimizer", "'adam'"),
        ("data.mean=[0.5, 0.5]", "data.mean", "list of 3"),
        ("data.crop_size=300", "data.crop_size", "larger than the short side"),
        ("data.scene_swap=yes please", "data.scene_swap", "true or false"),
        ("data.batchsize=4", "data.batchsize", "unknown option"),
        ("optim.plateau_factor=1.5", "optim.plateau_factor", "(0, 1)"),
        ("trainer.limit_train_batches=1.5", "trainer.limit_train_batches", "fraction"),
        ("data.masks=cache", "data.masks", "mask_cache"),
        ("trainer=5", "trainer", "mapping"),
    ],
)
def test_bad_values_name_the_field_on_one_line(override, field, message):
    with pytest.raises(BadInputError) as info:
        load_config("paper", [override])
    text = str(info.value)
    assert f"field {field}" in text
    assert message in text
    assert "\n" not in text
    assert text.startswith("overrides:")


def test_override_without_equals_sign_is_refused():
    with pytest.raises(BadInputError, match="KEY=VALUE"):
        load_config("paper", ["optim.lr"])


def test_unknown_recipe_lists_the_bundled_ones():
    with pytest.raises(BadInputError, match="paper"):
        load_config("fancy")


def test_yaml_file_extends_a_recipe_and_errors_name_the_file(tmp_path: Path):
    base = tmp_path / "base.yaml"
    base.write_text("extends: synthact\noptim:\n  lr: 0.05\n")
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yaml\ndata:\n  batch_size: 7\n")
    config = load_config(child)
    assert (config.optim.lr, config.data.batch_size, config.model.name) == (0.05, 7, "slow_tiny")

    bad = tmp_path / "bad.yaml"
    bad.write_text("data:\n  num_frames: eight\n")
    with pytest.raises(BadInputError) as info:
        load_config(bad)
    assert str(info.value).startswith(str(bad))
    assert "field data.num_frames" in str(info.value)

    broken = tmp_path / "broken.yaml"
    broken.write_text("data:\n  num_frames: [8\n")
    with pytest.raises(BadInputError, match="line"):
        load_config(broken)

    loop = tmp_path / "loop.yaml"
    loop.write_text("extends: loop.yaml\n")
    with pytest.raises(BadInputError, match="loops"):
        load_config(loop)


def test_config_round_trips_through_yaml():
    config = load_config("synthact", ["data.scene_swap=true", "model.options.dropout=0.3"])
    again = config_from_dict(yaml.safe_load(config.to_yaml()))
    assert again == config


def test_auto_speed_flags_follow_the_device(monkeypatch):
    from actionbias.train.hardware import resolve_hardware

    def flags(hw):
        return hw.cuda, hw.precision, hw.channels_last, hw.benchmark

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert flags(resolve_hardware()) == (False, "32-true", False, False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert flags(resolve_hardware()) == (True, "bf16-mixed", True, True)
    assert resolve_hardware(deterministic=True).benchmark is False
    assert resolve_hardware("cpu").precision == "32-true"
    assert resolve_hardware(precision="16-mixed", channels_last=False).channels_last is False
    with pytest.raises(BadInputError, match=r"field trainer\.precision"):
        resolve_hardware(precision="fp8")
