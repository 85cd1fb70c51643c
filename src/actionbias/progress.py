"""One progress display for long work: rich bars, or nothing when disabled.

Every long command shows progress the same way; callers ask for named tasks and
advance them, and a disabled display costs nothing (no rich import, no terminal
writes), which is what tests and ``--no-progress`` want.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


class Task:
    """One bar: `advance(n)` moves it; a task of a disabled display does nothing."""

    def __init__(self, bar: Any = None, task_id: Any = None) -> None:
        self._bar = bar
        self._id = task_id

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._id, n)


class Display:
    def __init__(self, bar: Any = None) -> None:
        self._bar = bar

    def task(self, description: str, total: int) -> Task:
        if self._bar is None:
            return Task()
        return Task(self._bar, self._bar.add_task(description, total=total))


@contextlib.contextmanager
def progress_bar(enabled: bool, title: str) -> Iterator[Display]:
    """A display whose tasks are rich bars titled `title` (or silent when disabled)."""
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

    bar = Progress(
        TextColumn(f"{title}: " + "{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with bar:
        yield Display(bar)
