"""The ICRL history file: one trial per line, appended per iteration, read back on resume.

``history.jsonl`` is append-only JSON Lines (`actionbias.fileio.append_jsonl`):
a kill can cut only the last line, which reading drops, so a rerun continues
after the last finished iteration with exactly the history the policy saw.
Another run's history can be injected (the OOD-history baseline): its trials
are shown to the policy first and never selectable as best.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from actionbias.a2o.policy_base import INJECTED, RUN, Trial
from actionbias.errors import BadInputError
from actionbias.fileio import read_jsonl

HISTORY = "history.jsonl"


def read_history(path: str | Path) -> list[Trial]:
    """Every complete trial line of a history.jsonl (or of the run folder holding one)."""
    path = Path(path)
    file = path / HISTORY if path.is_dir() else path
    if not file.is_file():
        raise BadInputError("no ICRL history here", source=file)
    trials = []
    for lineno, row in read_jsonl(file):
        try:
            trials.append(Trial.from_json(row))
        except (KeyError, TypeError, ValueError) as exc:
            raise BadInputError(f"unreadable trial ({exc})", file, f"line {lineno}") from None
    return trials


def load_injected_history(path: str | Path) -> list[Trial]:
    """Another run's evaluated trials, marked as injected (the OOD-history baseline)."""
    source = str(path)
    out = []
    for trial in read_history(path):
        if trial.source != RUN or not trial.ok:
            continue
        out.append(
            replace(
                trial,
                source=INJECTED,
                weights=None,
                extra={"from": source, "iteration_there": trial.iteration},
            )
        )
    if not out:
        raise BadInputError("the history has no evaluated trial to inject", source=path)
    return out


def history_digest(trials: Sequence[Trial]) -> str:
    """A short fingerprint of trials (objects, accuracy, class-wise): which history was injected."""
    blob = json.dumps(
        [[t.objects, t.accuracy, sorted(t.classwise.items())] for t in trials], sort_keys=True
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]
