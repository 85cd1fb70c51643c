"""One progress display for long work, and Lightning kept quiet while it shows.

Every long command shows progress the same way: callers ask a display for named
tasks and advance them. A disabled display costs nothing (no rich import, no
terminal writes), which is what tests, worker processes and ``--no-progress``
want, so callers never branch on whether progress is on.

Lightning's per-Trainer banners and its advice for tiny CPU datasets would bury
that display under lines nobody acts on when a study builds a Trainer per run or
per trial; `quiet_lightning` silences them for a block.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from typing import Any

#: Lightning's warnings that are advice for big runs, noise for the small CPU runs
#: of demos and searches (matched against the warning message).
LIGHTNING_ADVICE = (
    r".*does not have many workers.*",
    r".*The number of training batches .* is smaller than the logging interval.*",
    r".*isinstance\(treespec, LeafSpec\).*",
    r".*GPU available but not used.*",
    r".*You defined a `validation_step` but have no `val_dataloader`.*",
)
_LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning")


class Task:
    """One bar: `advance(n)` moves it; a task of a disabled display does nothing."""

    def __init__(self, bar: Any = None, task_id: Any = None) -> None:
        self._bar = bar
        self._id = task_id

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._id, n)

    def describe(self, text: str) -> None:
        """Replace the task's description (the text beside its bar)."""
        if self._bar is not None:
            self._bar.update(self._id, description=text)


class Display:
    """The tasks of one progress display; `enabled` is False when nothing is shown."""

    def __init__(self, bar: Any = None) -> None:
        self._bar = bar

    @property
    def enabled(self) -> bool:
        return self._bar is not None

    def task(self, description: str, total: int, completed: int = 0) -> Task:
        """A new bar of ``total`` steps, ``completed`` of them already done (a resumed run)."""
        if self._bar is None:
            return Task()
        return Task(self._bar, self._bar.add_task(description, total=total, completed=completed))

    def print(self, text: str) -> None:
        """A line above the bars (they stay at the bottom); nothing when disabled."""
        if self._bar is not None:
            self._bar.console.print(text, highlight=False)


@contextlib.contextmanager
def progress_bar(enabled: bool, title: str = "", *, eta: bool = True) -> Iterator[Display]:
    """A display of rich bars (or a silent one when not ``enabled``).

    Each bar reads ``<title>: <description>``, or the description in bold without
    a title, then the bar, done/total, elapsed time and, with ``eta``, the time
    left (off where the steps differ too much in cost for an estimate to mean much).
    """
    if not enabled:
        yield Display()
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    text = f"{title}: {{task.description}}" if title else "[bold]{task.description}"
    columns: list[Any] = [TextColumn(text), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    if eta:
        columns.append(TimeRemainingColumn())
    with Progress(*columns) as bar:
        yield Display(bar)


@contextlib.contextmanager
def quiet_lightning() -> Iterator[None]:
    """Lightning's INFO banners and its small-run advice (`LIGHTNING_ADVICE`) silenced.

    Warnings and errors that are not advice still show; levels and warning filters
    are restored on exit.
    """
    loggers = [logging.getLogger(name) for name in _LIGHTNING_LOGGERS]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        for pattern in LIGHTNING_ADVICE:
            warnings.filterwarnings("ignore", message=pattern)
        for logger in loggers:
            logger.setLevel(logging.WARNING)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)
