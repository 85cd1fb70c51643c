"""Per-epoch training state on disk, so an interrupted detector run continues where it stopped.

A resumed run must end with the weights an uninterrupted one would have
produced, so everything that carries over between epochs is stored: model and
EMA weights, optimiser moments, the LR scheduler's step, the loss normaliser's
running value, ActionVLM's class-wise vision-loss table and epoch count (which
fixes the vision / vision-language parity), and the state of every random
generator the loop draws from (torch's global one, the data order's, the
dataset's truncation generator). The file is replaced atomically after each
finished epoch, so a kill leaves the previous epoch's state intact.

Resuming under other settings would silently mix two experiments, so the
settings are stored too and a mismatch is refused, naming the keys.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from actionbias.errors import BadInputError
from actionbias.fileio import atomic_path
from actionbias.runstate import differences, refuse_other_settings

FORMAT = "actionbias.tal.training_state/1"


def capture_rng(
    numpy_generators: Mapping[str, np.random.Generator] | None = None,
    torch_generators: Mapping[str, torch.Generator] | None = None,
) -> dict[str, Any]:
    """States of torch's/Python's/NumPy's global generators and of the named ones given."""
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy_global": np.random.get_state(),
        "numpy": {k: g.bit_generator.state for k, g in (numpy_generators or {}).items()},
        "torch_generators": {k: g.get_state() for k, g in (torch_generators or {}).items()},
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(
    state: Mapping[str, Any],
    numpy_generators: Mapping[str, np.random.Generator] | None = None,
    torch_generators: Mapping[str, torch.Generator] | None = None,
) -> None:
    """Inverse of `capture_rng` (the same names must be passed)."""
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    np.random.set_state(state["numpy_global"])
    for name, gen in (numpy_generators or {}).items():
        gen.bit_generator.state = state["numpy"][name]
    for name, gen in (torch_generators or {}).items():
        gen.set_state(state["torch_generators"][name])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class TrainingCheckpoint:
    """The resumable state of one training run, at `path`, tied to `settings` (JSON-like).

    ``load()`` returns the last saved payload (None when there is none) after
    checking that it was written under the same settings; ``save(epoch, state)``
    stores the state after `epoch` (0-based) finished.
    """

    def __init__(self, path: str | Path, settings: Mapping[str, Any]):
        self.path = Path(path)
        self.settings = dict(settings)

    def exists(self) -> bool:
        return self.path.is_file()

    def load(self) -> dict[str, Any] | None:
        if not self.path.is_file():
            return None
        try:
            payload = torch.load(self.path, map_location="cpu", weights_only=False)
        except (OSError, RuntimeError, EOFError, ValueError) as err:
            raise BadInputError(f"unreadable training state: {err}", source=self.path) from err
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise BadInputError("not a TAL training-state file", source=self.path)
        refuse_other_settings(
            differences(payload["settings"], self.settings),
            holds="a training state",
            remedy="rerun with the same options or use a new run folder",
            source=self.path,
        )
        return payload

    def save(self, epoch: int, state: Mapping[str, Any]) -> None:
        payload = {"format": FORMAT, "settings": self.settings, "epoch": int(epoch), **state}
        with atomic_path(self.path) as tmp:
            torch.save(payload, tmp)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
