"""Shared inputs of the prompting tests: a tiny SynthAct with a 24-video swap split."""

from __future__ import annotations

from pathlib import Path

import pytest
from prompting_fakes import FRAMES, FakeVLM

from actionbias.synth import generate


@pytest.fixture(scope="session")
def synthact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.getbasetemp() / "prompting_synthact_tiny"
    options = {"untrimmed": 0, "hat_splits": "test", "train": 1, "val": 1}
    generate(out, preset="tiny", seed=0, workers=1, progress=False, **options)
    return out


@pytest.fixture(scope="session")
def vlm(synthact: Path) -> FakeVLM:
    return FakeVLM.for_synthact(synthact, FRAMES)
