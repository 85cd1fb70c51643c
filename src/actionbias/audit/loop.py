"""The prediction loop: every video still to do, batch by batch, appended to the run.

Two ways through it. A `RecordScorer` (our classifiers) decodes the videos
itself and yields scores per batch; every other model gets clips from the
decode pool (`decoding`). Either way each batch becomes rows (`rows`) that are
appended and fsynced before the next batch starts, so a killed audit resumes
where it stopped, and an unreadable video is recorded as skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from actionbias.audit.audit_data import AuditItem
from actionbias.audit.decoding import auto_workers, decoded_batches
from actionbias.audit.rows import reply_rows, score_rows
from actionbias.audit.rundir import RunDir
from actionbias.audit.settings import AuditSettings
from actionbias.metrics.mcq import MCQuestion


@dataclass(frozen=True)
class AuditJob:
    """What turns a batch into rows: the model, the class list its scores index, the
    frames per clip, the questions (MCQ) and whether the model answers them itself."""

    scorer: Any
    classes: list[str]
    protocol: str
    frames: int
    questions: dict[str, MCQuestion] | None
    answers: bool


def predict(
    run: RunDir,
    job: AuditJob,
    todo: Sequence[AuditItem],
    settings: AuditSettings,
    description: str,
    total: int,
) -> None:
    """Predict ``todo`` into ``run``; the progress bar counts ``total`` videos, the
    ones already done included."""
    with _Progress(settings.progress, description, total, total - len(todo)) as bar:
        if not job.answers and callable(getattr(job.scorer, "predict_records", None)):
            _predict_records(run, job, todo, settings.batch_size, bar)
        else:
            _predict_clips(run, job, todo, settings, bar)


def _predict_records(
    run: RunDir, job: AuditJob, todo: Sequence[AuditItem], batch_size: int, bar: _Progress
) -> None:
    by_id = {it.record.id: it for it in todo}

    def on_skip(record: Any, reason: str) -> None:
        _skip(run, by_id[record.id], reason)
        bar.advance(1)

    records = [it.record for it in todo]
    for done, scores in job.scorer.predict_records(records, batch_size, job.frames, on_skip):
        batch = [by_id[r.id] for r in done]
        run.append(score_rows(batch, scores, job.classes, job.protocol, job.questions))
        bar.advance(len(batch))


def _predict_clips(
    run: RunDir,
    job: AuditJob,
    todo: Sequence[AuditItem],
    settings: AuditSettings,
    bar: _Progress,
) -> None:
    workers = settings.workers or auto_workers(len(todo))
    batches = decoded_batches(todo, settings.batch_size, job.frames, settings.short_side, workers)
    for good, clips, failed in batches:
        for item, reason in failed:
            _skip(run, item, reason)
        if good:
            run.append(_rows(job, good, clips))
        bar.advance(len(good) + len(failed))


def _rows(job: AuditJob, items: list[AuditItem], clips: list[np.ndarray]) -> list[dict[str, Any]]:
    if job.answers:
        assert job.questions is not None
        questions = [job.questions[it.record.id] for it in items]
        replies = job.scorer.answer(clips, questions, job.classes)
        return reply_rows(items, replies, job.classes, job.questions)
    scores = job.scorer.score(clips)
    return score_rows(items, scores, job.classes, job.protocol, job.questions)


def _skip(run: RunDir, item: AuditItem, reason: str) -> None:
    run.skip(item.record.id, item.record.path, reason)


class _Progress:
    def __init__(self, enabled: bool, description: str, total: int, done: int) -> None:
        self.progress = None
        self.task = None
        if enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
            )
            self.task = self.progress.add_task(description, total=total, completed=done)

    def __enter__(self) -> _Progress:
        if self.progress is not None:
            self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)

    def advance(self, n: int) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task, n)
