"""`AuditSettings`: every choice of an audit besides the model, the data and the run directory.

`run_audit` keeps its keyword arguments (the Python API every workflow calls);
it gathers them here once so that each step of the audit takes one object
instead of a dozen parameters, and the checks of their values live in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actionbias.audit.mcq_prompt import MCQPrompt
from actionbias.errors import BadInputError

PROTOCOLS = ("all", "mcq")


@dataclass(frozen=True)
class AuditSettings:
    """The options of `run_audit`, with its defaults (see its docstring for each)."""

    protocol: str = "all"
    frames: int | None = None
    splits: Sequence[str] | None = None
    batch_size: int = 8
    seed: int = 0
    questions: str | Path | None = None
    force: bool = False
    limit: int | None = None
    progress: bool = True
    shard: tuple[int, int] | None = None
    name: str | None = None
    device: str | None = None
    prompt: MCQPrompt | None = None
    n_boot: int = 2000
    tags: dict[str, Any] | None = None
    sweep: dict[str, Any] | None = None
    data_format: str = "auto"
    root: str | Path | None = None
    classes: str | Path | None = None
    group: str | None = None
    workers: int | None = None
    short_side: int | None = None
    finalize: bool = True
    label_space: str | None = None

    def check(self) -> None:
        """One-line errors naming the flag, before any model or data is loaded."""
        if self.protocol not in PROTOCOLS:
            raise BadInputError(
                f"protocol must be all or mcq, got {self.protocol!r}", where="--protocol"
            )
        if self.batch_size < 1:
            raise BadInputError(
                f"batch size must be >= 1, got {self.batch_size}", where="--batch-size"
            )
        if self.limit is not None and self.limit < 1:
            raise BadInputError(f"limit must be >= 1, got {self.limit}", where="--limit")
        if self.frames is not None and self.frames < 1:
            raise BadInputError(f"frames must be >= 1, got {self.frames}", where="--frames")

    @property
    def sharded(self) -> bool:
        """Whether this process predicts only every n-th video (``shard=(k, n)``, n > 1)."""
        return self.shard is not None and self.shard[1] > 1
