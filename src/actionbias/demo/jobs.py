"""The demo's worker jobs: train (when needed) and audit one run, longest first.

Each run's training and its audit happen in one worker process, ``parallel``
workers at a time, so the audits overlap the other trainings instead of waiting
behind the last one. What a folder already holds decides what a job still does:
a training run to the end is not redone, and an audit of the same checkpoint
with the same tags is kept (finished) or continued (partial).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actionbias.demo.runs import DemoRun, RunOutcome
from actionbias.fileio import file_sha256
from actionbias.progress import quiet_lightning
from actionbias.runstate import read_record

log = logging.getLogger(__name__)

EVAL_SPLITS = ("test", "swap", "mimetic")
EVAL_BATCH = 32
#: Relative cost of a training, to start the longest first: two processes then end
#: within about one short training of each other (longest-processing-time order).
_COST = {"dual_sum": 2.0, "dual_stack": 2.0, "weighted_focus": 1.2}


def finished_training(train_dir: Path, max_epochs: int) -> tuple[Path, int] | None:
    """(best checkpoint, epochs) when ``train_dir`` holds a run trained to the end."""
    results = read_record(train_dir / "results.json")
    if results is None:
        return None
    best = results.get("best_checkpoint")
    epochs = int(results.get("epochs") or 0)
    if best and Path(best).is_file() and epochs >= max_epochs:
        return Path(best), epochs
    return None


def convergence(train_dir: Path) -> dict[str, float | None]:
    """Last epoch's training and validation accuracy, and the best validation accuracy."""
    from actionbias.train import read_history

    history = read_history(train_dir / "history.jsonl")
    if not history:
        return {}
    val = [row["val_acc"] for row in history if row.get("val_acc") is not None]
    return {
        "final_train_acc": history[-1].get("train_acc"),
        "final_val_acc": history[-1].get("val_acc"),
        "best_val_acc": max(val) if val else None,
    }


def _train_in_worker(config: Any) -> tuple[str | None, int, float]:
    """One training: one torch thread, Lightning quiet.

    Small 3-D convolutions gain nothing from a second intra-op thread on two busy
    cores (~10x slower per op in profiling), so two single-threaded trainings side
    by side finish about twice as fast as one after the other; one thread also pins
    the reduction order, so a run's numbers do not depend on the machine's load.
    """
    import torch

    from actionbias.train import train

    torch.set_num_threads(1)
    started = time.perf_counter()
    with quiet_lightning():
        result = train(config)
    best = str(result.best_checkpoint) if result.best_checkpoint is not None else None
    return best, result.epochs, time.perf_counter() - started


@dataclass(frozen=True)
class _Job:
    """The work one run still needs: training (``config``), its audit, or both."""

    train_dir: Path
    audit_dir: Path
    run: DemoRun
    data_dir: Path
    config: Any = None
    checkpoint: Path | None = None
    clip_cache: str | None = None
    """The trainings' decoded-clip cache, which the audits share too (one decode per
    mask need for all ten audits instead of one per audit)."""


@dataclass(frozen=True)
class _JobAnswer:
    checkpoint: Path | None
    epochs: int
    train_seconds: float
    evaluation: str
    eval_seconds: float


def _run_job(job: _Job) -> _JobAnswer:
    """Train (when needed) and audit one run, in the same process.

    Auditing right after training, in the worker, overlaps the audits with the other
    trainings instead of queueing them all behind the last one, and reuses the
    worker's imports; the audit runs on the training's single thread, so its
    numbers do not depend on the load either.
    """
    checkpoint, epochs, train_seconds = job.checkpoint, 0, 0.0
    if job.config is not None:
        best, epochs, train_seconds = _train_in_worker(job.config)
        if best is None:
            raise RuntimeError(f"{job.train_dir}: training wrote no best checkpoint")
        checkpoint = Path(best)
    else:
        import torch

        torch.set_num_threads(1)
    assert checkpoint is not None
    evaluation, eval_seconds = _evaluate(
        job.run, job.train_dir, job.audit_dir, checkpoint, job.data_dir, job.clip_cache
    )
    return _JobAnswer(checkpoint, epochs, train_seconds, evaluation, eval_seconds)


def train_and_audit_all(
    outcomes: Sequence[RunOutcome],
    configs: Mapping[str, Any],
    data_dir: Path,
    parallel: int,
    on_done: Callable[[RunOutcome], None] | None = None,
) -> None:
    """Train and audit every run not finished before; ``parallel`` worker processes.

    ``on_done(outcome)`` is called in this process as each run finishes, found
    finished before included.
    """
    jobs: list[tuple[RunOutcome, _Job]] = []
    for outcome in outcomes:
        config = configs[outcome.run.slug]
        done = finished_training(outcome.train_dir, config.trainer.max_epochs)
        if done is not None:
            outcome.checkpoint, outcome.epochs = done
            outcome.training = "before"
            tags = _audit_tags(outcome.run, outcome.train_dir)
            if _audit_state(outcome.audit_dir, outcome.checkpoint, tags) == "done":
                outcome.evaluation = "before"
                if on_done is not None:
                    on_done(outcome)
                continue
            config = None
        else:
            resuming = (outcome.train_dir / "checkpoints" / "last.ckpt").is_file()
            outcome.training = "resumed" if resuming else "trained"
        job = _Job(
            outcome.train_dir,
            outcome.audit_dir,
            outcome.run,
            data_dir,
            config,
            outcome.checkpoint,
            configs[outcome.run.slug].data.clip_cache,
        )
        jobs.append((outcome, job))

    def finish(outcome: RunOutcome, answer: _JobAnswer) -> None:
        outcome.checkpoint = answer.checkpoint
        if outcome.training != "before":
            outcome.epochs, outcome.train_seconds = answer.epochs, answer.train_seconds
        outcome.evaluation, outcome.eval_seconds = answer.evaluation, answer.eval_seconds
        if on_done is not None:
            on_done(outcome)

    jobs.sort(key=lambda item: -_COST.get(item[0].run.model, 1.0) * (item[1].config is not None))
    if parallel <= 1 or len(jobs) <= 1:
        for outcome, job in jobs:
            finish(outcome, _run_job(job))
        return
    import concurrent.futures
    import multiprocessing

    # spawn, not fork: a forked child inherits the parent's decoder and OpenMP thread
    # pools in whatever state they are in (DESIGN.md: loaders hang under fork).
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(parallel, mp_context=context) as pool:
        futures = {pool.submit(_run_job, job): outcome for outcome, job in jobs}
        for future in concurrent.futures.as_completed(futures):
            finish(futures[future], future.result())


def _audit_state(audit_dir: Path, checkpoint: Path, tags: Mapping[str, Any]) -> str:
    """``done``, ``partial`` (same model, unfinished), ``stale`` (other checkpoint) or ``new``."""
    config_path = audit_dir / "config.json"
    if not config_path.is_file():
        return "new"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "stale"
    model = config.get("model") or {}
    same = (
        model.get("id") == str(checkpoint.resolve())
        and model.get("sha256") == file_sha256(checkpoint)
        and json.loads(json.dumps(config.get("tags"))) == json.loads(json.dumps(dict(tags)))
    )
    if not same:
        return "stale"
    return "done" if (audit_dir / "metrics.json").is_file() else "partial"


def _audit_tags(run: DemoRun, train_dir: Path) -> dict[str, Any]:
    return {
        "model": run.model,
        "augment": run.augment,
        "seed": run.seed,
        "train_run": str(train_dir),
    }


def _evaluate(
    run: DemoRun,
    train_dir: Path,
    audit_dir: Path,
    checkpoint: Path,
    data_dir: Path,
    clip_cache: str | None = None,
) -> tuple[str, float]:
    """Audit one checkpoint on the test, swap and mimetic splits: (what happened, seconds)."""
    from actionbias.audit.runner import run_audit

    tags = _audit_tags(run, train_dir)
    state = _audit_state(audit_dir, checkpoint, tags)
    if state == "done":
        return "before", 0.0
    if state == "stale":
        # The demo owns OUT/audit: a result of an older checkpoint is redone, not kept.
        log.info("%s: audit of another checkpoint found; redoing it", audit_dir)
    started = time.perf_counter()
    spec: dict[str, Any] = {"type": "classifier", "checkpoint": str(checkpoint)}
    if clip_cache:
        spec["overrides"] = {"clip_cache": str(clip_cache)}
    run_audit(
        spec,
        data_dir,
        audit_dir,
        protocol="all",
        splits=EVAL_SPLITS,
        batch_size=EVAL_BATCH,
        seed=run.seed,
        force=state == "stale",
        progress=False,
        name=run.name,
        tags=tags,
        # In-process decoding: ~260 small clips decode in a few seconds, while starting
        # loader worker processes (forkserver) costs ~8 s each on a busy 2-core machine.
        workers=0,
    )
    return ("resumed" if state == "partial" else "evaluated"), time.perf_counter() - started
