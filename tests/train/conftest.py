"""Shared fixtures: the tiny SynthAct preset (generated once per session) and run configs."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from actionbias.synth import generate
from actionbias.train import TrainConfig, load_config


@pytest.fixture(scope="session")
def synthact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("train_synthact") / "tiny"
    generate(out, preset="tiny", seed=0, workers=1, progress=False)
    return out


@pytest.fixture
def synthact_copy(synthact: Path, tmp_path: Path) -> Path:
    """A writable copy without the HAT folders (enough for video-only models)."""
    out = tmp_path / "copy"
    shutil.copytree(synthact, out, ignore=shutil.ignore_patterns("hat", "untrimmed"))
    return out


def fast_overrides(data: Path, run_dir: Path) -> list[str]:
    return [
        f"data.train={data}",
        f"data.val={data}",
        f"run_dir={run_dir}",
        "data.batch_size=12",
        "data.num_workers=0",
        "trainer.max_epochs=1",
        "trainer.progress=false",
        "trainer.log_every_n_steps=1",
    ]


@pytest.fixture
def make_config(synthact: Path, tmp_path: Path) -> Callable[..., TrainConfig]:
    """``make_config("model.name=segmented", data=..., run_dir=...)``: the synthact recipe
    on the tiny preset, one epoch, batch 12, no worker processes."""

    def build(*overrides: str, data: Path | None = None, run_dir: Path | None = None):
        return load_config(
            "synthact",
            fast_overrides(data or synthact, run_dir or tmp_path / "run") + list(overrides),
        )

    return build
