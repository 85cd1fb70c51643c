"""The cells of the demo's study and what became of them.

A `DemoRun` names one (model, augment, seed) cell: its folders, its training
overrides and its epochs. `RunOutcome` records what one call of `run_demo` did
for it, and `DemoResult` is what `run_demo` returns. Kept apart from the
pipeline so the worker jobs, the tables and benchmarks can name runs without
importing the orchestration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actionbias.demo.tables import NO_AUGMENT, SCENE_SWAP, DemoTables

BASELINE = "baseline"
#: Model families of Table 2, in the paper's row order. ``baseline`` is the recipe's
#: Slow-only backbone itself; the others are registry names that take it as ``backbone``.
MODELS = (BASELINE, "segmented", "dual_sum", "dual_stack", "weighted_focus")
AUGMENTS = (NO_AUGMENT, SCENE_SWAP)


@dataclass(frozen=True)
class DemoRun:
    """One (model, augment, seed) cell of the study: a training run and its audit."""

    model: str
    augment: str
    seed: int

    @property
    def name(self) -> str:
        """Display name, the audit config's ``name`` (``dual_sum + scene-swap``)."""
        return self.model if self.augment == NO_AUGMENT else f"{self.model} + {self.augment}"

    @property
    def slug(self) -> str:
        return f"{self.model}-{self.augment}-seed{self.seed}"

    def overrides(self, backbone: str) -> list[str]:
        """Training config overrides that make the recipe into this run."""
        name = backbone if self.model == BASELINE else self.model
        return [
            f"model.name={name}",
            f"data.scene_swap={'true' if self.augment == SCENE_SWAP else 'false'}",
            f"seed={self.seed}",
        ]

    def epochs(self, recipe_epochs: int, scene_swap_epochs: str) -> int:
        """Epochs of this run: scene swap doubles the epoch, so ``same-steps`` halves it."""
        if self.augment == SCENE_SWAP and scene_swap_epochs == "same-steps":
            return max(1, -(-recipe_epochs // 2))
        return recipe_epochs


def demo_runs(seeds: Sequence[int]) -> list[DemoRun]:
    """Seed-major order, so an interrupted multi-seed demo has whole seeds done first."""
    return [DemoRun(m, a, s) for s in seeds for a in AUGMENTS for m in MODELS]


@dataclass
class RunOutcome:
    """What happened to one run in this call (``before``: found done, nothing redone)."""

    run: DemoRun
    train_dir: Path
    audit_dir: Path
    checkpoint: Path | None = None
    training: str = "pending"
    """``trained`` | ``resumed`` (continued from a checkpoint) | ``before``."""
    evaluation: str = "pending"
    """``evaluated`` | ``resumed`` (partial predictions kept) | ``before``."""
    epochs: int = 0
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    convergence: dict[str, float | None] = field(default_factory=dict)
    """Last epoch's training accuracy and the best validation accuracy: whether a
    model fit its training set (all of it, or only the scene-predictable part)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.run.model,
            "augment": self.run.augment,
            "seed": self.run.seed,
            "name": self.run.name,
            "train_dir": str(self.train_dir),
            "audit_dir": str(self.audit_dir),
            "checkpoint": str(self.checkpoint) if self.checkpoint else None,
            "training": self.training,
            "evaluation": self.evaluation,
            "epochs": self.epochs,
            "train_seconds": round(self.train_seconds, 2),
            "eval_seconds": round(self.eval_seconds, 2),
            "convergence": self.convergence,
            "figures": self.figures,
        }


@dataclass
class DemoResult:
    out_dir: Path
    data_dir: Path
    seeds: list[int]
    runs: list[RunOutcome]
    tables: DemoTables
    files: dict[str, Path]
    """``table2.csv`` ... ``table3.json``, ``report.html``, ``demo.json`` -> path."""
    seconds: float
    timings: dict[str, float]
    settings: dict[str, Any]

    @property
    def report(self) -> Path | None:
        return self.files.get("report.html")

    @property
    def trained_now(self) -> list[RunOutcome]:
        return [r for r in self.runs if r.training != "before"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "data_dir": str(self.data_dir),
            "seeds": self.seeds,
            "seconds": round(self.seconds, 2),
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
            "files": {k: str(v) for k, v in self.files.items()},
            "runs": [r.to_dict() for r in self.runs],
        }
