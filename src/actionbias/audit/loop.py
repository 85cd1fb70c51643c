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
from actionbias.progress import Task, progress_bar


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
    with progress_bar(settings.progress) as display:
        bar = display.task(description, total, completed=total - len(todo))
        if not job.answers and callable(getattr(job.scorer, "predict_records", None)):
            _predict_records(run, job, todo, settings.batch_size, bar)
        else:
            _predict_clips(run, job, todo, settings, bar)


def _predict_records(
    run: RunDir, job: AuditJob, todo: Sequence[AuditItem], batch_size: int, bar: Task
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
    bar: Task,
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
