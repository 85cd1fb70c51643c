"""What the A2O tests share: a tiny SynthAct and a toy ICRL environment (no training).

Import it from a test module in this folder with ``from a2o_testkit import ...``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from actionbias.data import Manifest
from actionbias.synth import generate, read_synthact


def tiny_synthact(out: Path, **options: object) -> dict[str, Manifest]:
    """The ``tiny`` SynthAct preset with `options` (seed 0, one process, no bar), read back."""
    generate(out, preset="tiny", seed=0, workers=1, progress=False, **options)
    return read_synthact(out)


@dataclass
class ToyReward:
    """What `run_icrl` reads from an environment's reward."""

    accuracy: float
    classwise: dict[str, float]
    weights: str | None = None
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


class ToyEnv:
    """Class c scores the share of its `useful` objects in the set, less `penalty` per object.

    Every evaluated set is kept in `calls`; evaluating in the trial folder named
    `interrupt_at` raises KeyboardInterrupt (a run killed mid-iteration).
    """

    def __init__(
        self,
        useful: Mapping[str, Sequence[str]],
        interrupt_at: str | None = None,
        *,
        penalty: float = 0.0,
        seconds: float = 0.0,
    ) -> None:
        self.useful = dict(useful)
        self.classes = list(useful)
        self.calls: list[list[str]] = []
        self.interrupt_at = interrupt_at
        self.penalty = penalty
        self.seconds = seconds

    def evaluate(self, objects, trial_dir: Path) -> ToyReward:
        if trial_dir.name == self.interrupt_at:
            raise KeyboardInterrupt
        self.calls.append(list(objects))
        cw = {
            c: max(0.0, len(set(objects) & set(u)) / len(u) - self.penalty * len(objects))
            for c, u in self.useful.items()
        }
        return ToyReward(sum(cw.values()) / len(cw), cw, seconds=self.seconds)
