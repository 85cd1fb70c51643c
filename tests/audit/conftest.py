"""The tiny SynthAct folder every audit test module reads.

Session-scoped: `generate` returns at once when the folder already holds this
exact output, and the audit tests only read it, so one copy serves them all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from actionbias.synth import generate

SYNTH_OPTIONS = {"untrimmed": 0, "hat_splits": "test", "train": 2, "val": 1}


@pytest.fixture(scope="session")
def synthact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.getbasetemp() / "audit_synthact_tiny"
    generate(out, preset="tiny", seed=0, workers=1, progress=False, **SYNTH_OPTIONS)
    return out
