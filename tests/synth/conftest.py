"""Shared fixture: the tiny SynthAct preset, generated once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from actionbias.synth import generate

TINY_SEED = 0  # test_synth_generate.py repeats this value


@pytest.fixture(scope="session")
def tiny_synthact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthact") / "tiny"
    generate(out, preset="tiny", seed=TINY_SEED, workers=1, progress=False)
    return out
