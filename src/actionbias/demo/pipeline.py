"""`run_demo`: the background-bias study of "Seeing Beyond the Scene" end to end on SynthAct.

Steps, each skipped when its result is already there (a killed demo reruns from
where it stopped; ``force`` starts over):

1. generate SynthAct into ``OUT/synthact`` (`actionbias.synth.generate`, which
   itself returns at once when the folder holds this exact output);
2. for every training seed, train the baseline (the recipe's Slow-only
   backbone on raw video), segmented, dual_sum, dual_stack and weighted_focus,
   each without and with scene-swap augmentation, into ``OUT/train/<run>``
   (`actionbias.train.train`: checkpoints every epoch, so a half-trained model
   resumes from its last epoch);
3. audit each best checkpoint on the test, swap and mimetic splits into
   ``OUT/audit/<run>`` (`actionbias.audit.runner.run_audit`, the same run
   directory format as every other audit, so the report reads them all). Steps 2
   and 3 of one run happen in the same worker process, ``parallel`` runs at a
   time, the costliest (two-branch) trainings first;
4. write the Table 2 / Table 3 analogue (``OUT/table2.{csv,md,json}``,
   ``OUT/table3.*``) and ``OUT/report.html``.

``OUT/demo.json`` records the settings that decide the results (data preset,
data seed, resolved training recipe) and what each step took. A rerun with other
settings is refused rather than mixing runs of two recipes in one table.
Training seeds are not part of that identity: asking for seeds (0, 1, 2) after a
demo with seed 0 trains seeds 1 and 2 only.

The data seed is fixed across training seeds, so the seed-to-seed spread in the
tables is the variance of training (initialisation, batch order, scene draws of
the augmentation) on one dataset, not of the dataset itself.

Scene-swap runs train for half the epochs by default (``scene_swap_epochs=
"same-steps"``): their epoch is twice as long, so both settings get the same
number of optimisation steps and Table 3 measures what the swapped data does,
not what twice the training does. The paper kept the epochs equal (300 each);
``"same-epochs"`` does that. The difference is not academic on a budget: the
segmented model, whose input (the person alone) scene swap does not change, gained
14 points of test accuracy from "augmentation" at equal epochs in our profiling,
which was purely the doubled training.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from actionbias.demo.tables import NO_AUGMENT, SCENE_SWAP, DemoTables, RunFigures
from actionbias.errors import BadInputError
from actionbias.fileio import file_sha256
from actionbias.runstate import StateFile, check_settings, clear_outputs, read_record

log = logging.getLogger(__name__)

FORMAT = "actionbias-demo-1"
BASELINE = "baseline"
#: Model families of Table 2, in the paper's row order. ``baseline`` is the recipe's
#: Slow-only backbone itself; the others are registry names that take it as ``backbone``.
MODELS = (BASELINE, "segmented", "dual_sum", "dual_stack", "weighted_focus")
AUGMENTS = (NO_AUGMENT, SCENE_SWAP)
EVAL_SPLITS = ("test", "swap", "mimetic")
RECIPE = "demo"
QUICK_RECIPE = "demo-quick"
#: SynthAct for the demo: the benchmark presets without the untrimmed videos, which
#: only temporal localisation uses (they are a quarter of the default preset's
#: rendering), and with HAT PNG folders for the test split only (the swap pairs point
#: there; trainings and audits read the videos and the exact mask files).
DATA = {"preset": "default", "overrides": {"untrimmed": 0, "hat_splits": "test"}}
QUICK_DATA = {"preset": "tiny", "overrides": {"untrimmed": 0}}
#: Paths under OUT the demo owns; ``force`` removes them (the data is kept when it
#: matches, since generation is deterministic and regenerating it changes no byte).
MANAGED = (
    "cache",
    "train",
    "audit",
    "demo.json",
    "report.html",
    *(f"{t}.{ext}" for t in ("table2", "table3") for ext in ("csv", "md", "json")),
)
EVAL_BATCH = 32
SCENE_SWAP_EPOCHS = ("same-steps", "same-epochs")


# ------------------------------------------------------------------------ runs


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


# ------------------------------------------------------------------------ settings


def demo_settings(
    quick: bool,
    data_seed: int,
    recipe: str | Path | None = None,
    overrides: Sequence[str] = (),
    scene_swap_epochs: str = "same-steps",
) -> dict[str, Any]:
    """Everything that decides the demo's numbers except the training seeds.

    The resolved training config (minus the per-run fields) is part of it, so a
    changed recipe file is noticed, not only a changed recipe name.
    """
    from actionbias.train import load_config

    name = recipe if recipe is not None else (QUICK_RECIPE if quick else RECIPE)
    config = load_config(name, list(overrides) or None).to_dict()
    for key in ("run_dir", "seed", "resume"):
        config.pop(key, None)
    for key in ("train", "val", "scene_swap"):
        config["data"].pop(key, None)
    config["trainer"].pop("progress", None)
    config["model"].pop("name", None)
    data = QUICK_DATA if quick else DATA
    return {
        "quick": bool(quick),
        "data": {"preset": data["preset"], "overrides": dict(data["overrides"]), "seed": data_seed},
        "recipe": str(name),
        "overrides": list(overrides),
        "scene_swap_epochs": scene_swap_epochs,
        "train_config": config,
    }


# ------------------------------------------------------------------------ steps


def _finished_training(train_dir: Path, max_epochs: int) -> tuple[Path, int] | None:
    """(best checkpoint, epochs) when ``train_dir`` holds a run trained to the end."""
    results = read_record(train_dir / "results.json")
    if results is None:
        return None
    best = results.get("best_checkpoint")
    epochs = int(results.get("epochs") or 0)
    if best and Path(best).is_file() and epochs >= max_epochs:
        return Path(best), epochs
    return None


def _convergence(train_dir: Path) -> dict[str, float | None]:
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
    with _quiet_lightning():
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
        job.run, job.train_dir, job.audit_dir, checkpoint, job.data_dir
    )
    return _JobAnswer(checkpoint, epochs, train_seconds, evaluation, eval_seconds)


#: Relative cost of a training, to start the longest first: two processes then end
#: within about one short training of each other (longest-processing-time order).
_COST = {"dual_sum": 2.0, "dual_stack": 2.0, "weighted_focus": 1.2}


def _train_and_evaluate_all(
    outcomes: Sequence[RunOutcome],
    configs: Mapping[str, Any],
    data_dir: Path,
    parallel: int,
    on_done: Any = None,
) -> None:
    """Train and audit every run not finished before; ``parallel`` worker processes."""
    jobs: list[tuple[RunOutcome, _Job]] = []
    for outcome in outcomes:
        config = configs[outcome.run.slug]
        done = _finished_training(outcome.train_dir, config.trainer.max_epochs)
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
            outcome.train_dir, outcome.audit_dir, outcome.run, data_dir, config, outcome.checkpoint
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
    run: DemoRun, train_dir: Path, audit_dir: Path, checkpoint: Path, data_dir: Path
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
    run_audit(
        {"type": "classifier", "checkpoint": str(checkpoint)},
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


# ------------------------------------------------------------------------ output


class _Display:
    """One rich progress bar over all steps, or plain log lines when progress is off."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled = enabled
        self.progress: Any = None
        self.task: Any = None
        self.total = total
        if enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.progress = Progress(
                TextColumn("[bold]demo[/] {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            self.task = self.progress.add_task("", total=total)

    def __enter__(self) -> _Display:
        if self.progress is not None:
            self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)

    def status(self, text: str) -> None:
        if self.progress is not None:
            self.progress.update(self.task, description=text)

    def done(self, text: str) -> None:
        if self.progress is not None:
            self.progress.console.print(text, highlight=False)
            self.progress.advance(self.task)
        else:
            log.info(text)


@contextlib.contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Lightning announces its hardware at INFO for every one of the ~10 trainings."""
    names = ("lightning.pytorch", "lightning.fabric", "lightning")
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _describe_figures(figures: Mapping[str, Mapping[str, Any]]) -> str:
    from actionbias.report.numbers import pct

    parts = (
        ("test", "test_acc"),
        ("SHAcc", "swap_shacc"),
        ("SBErr", "swap_sberr"),
        ("mimetic", "mimetic_acc"),
    )
    return ", ".join(f"{label} {pct(figures[key].get('value'))}" for label, key in parts)


# ------------------------------------------------------------------------ main


def run_demo(
    out_dir: str | Path,
    quick: bool = False,
    seeds: Sequence[int] = (0,),
    data_seed: int = 0,
    force: bool = False,
    progress: bool = True,
    *,
    recipe: str | Path | None = None,
    overrides: Sequence[str] = (),
    scene_swap_epochs: str = "same-steps",
    report: bool = True,
    console: Any = None,
    parallel: int = 2,
) -> DemoResult:
    """Run (or finish) the demo in ``out_dir``; see the module docstring.

    ``quick``: the tiny SynthAct preset and the ``demo-quick`` recipe (a smoke
    run of the whole pipeline, minutes -> about one minute; its numbers mean
    little). ``recipe``/``overrides`` replace the bundled recipe or change
    fields of it (``["trainer.max_epochs=40"]``); they are part of the settings
    a rerun must match, as is ``scene_swap_epochs`` (``same-steps``: scene-swap
    runs train half the epochs on their doubled set; ``same-epochs``: as many as
    the others, as in the paper). ``console`` (a rich Console) receives the
    tables; default: stdout when ``progress``, nothing otherwise. ``parallel``:
    trainings run side by side, each in its own process on one torch thread (the
    numbers do not depend on it).
    """
    from actionbias.demo.tables import build_tables, load_run_figures
    from actionbias.synth import generate
    from actionbias.train import load_config

    seeds = [int(s) for s in seeds]
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise BadInputError(
            f"seeds must be distinct non-negative integers, got {seeds}", where="seeds"
        )
    if isinstance(data_seed, bool) or int(data_seed) < 0:
        raise BadInputError(f"data seed must be >= 0, got {data_seed}", where="data_seed")
    if scene_swap_epochs not in SCENE_SWAP_EPOCHS:
        raise BadInputError(
            f"expected one of {', '.join(SCENE_SWAP_EPOCHS)}, got {scene_swap_epochs!r}",
            where="scene_swap_epochs",
        )
    out = Path(out_dir).resolve()
    if out.exists() and not out.is_dir():
        raise BadInputError("output path exists and is not a directory", source=out)
    started = time.perf_counter()
    settings = demo_settings(quick, int(data_seed), recipe, overrides, scene_swap_epochs)
    state_file = StateFile(out / "demo.json", FORMAT)
    if force:
        clear_outputs(out, MANAGED)
    previous = check_settings(
        state_file,
        settings,
        holds="a demo",
        remedy="use --force to start over, or another output directory",
        limit=6,
        source=out,
    )
    out.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {
        "format": FORMAT,
        "settings": settings,
        "status": "running",
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seeds": sorted(set(seeds) | set((previous or {}).get("seeds", []))),
        "timings": {},
        "runs": dict((previous or {}).get("runs", {})),
    }
    state_file.write(state)
    timings: dict[str, float] = {}

    # 1. data
    data = QUICK_DATA if quick else DATA
    data_dir = out / "synthact"
    t0 = time.perf_counter()
    summary = generate(
        data_dir,
        preset=str(data["preset"]),
        seed=int(data_seed),
        progress=progress,
        **dict(data["overrides"]),
    )
    timings["generate"] = time.perf_counter() - t0
    state["data"] = {
        "dir": str(data_dir),
        "generated_now": not summary.get("skipped", False),
        "counts": summary.get("counts"),
        "classes": summary.get("classes"),
    }

    # 2-3. train and audit every run
    base_overrides = [
        f"data.train={data_dir}",
        f"data.val={data_dir}",
        "trainer.progress=false",
        # Every run reads the same clips: decode them once (per mask need), not per run.
        f"data.clip_cache={out / 'cache' / 'clips'}",
    ]
    recipe_name = settings["recipe"]
    recipe_config = load_config(recipe_name, list(overrides) or None)
    backbone = recipe_config.model.backbone or recipe_config.model.name
    recipe_epochs = recipe_config.trainer.max_epochs
    runs = demo_runs(seeds)
    outcomes: list[RunOutcome] = []
    configs: dict[str, Any] = {}
    for run in runs:
        outcome = RunOutcome(run, out / "train" / run.slug, out / "audit" / run.slug)
        configs[run.slug] = load_config(
            recipe_name,
            [
                *base_overrides,
                f"run_dir={outcome.train_dir}",
                *run.overrides(backbone),
                *overrides,
                f"trainer.max_epochs={run.epochs(recipe_epochs, scene_swap_epochs)}",
            ],
        )
        outcomes.append(outcome)
    t0 = time.perf_counter()
    with _quiet_lightning(), _Display(progress, len(runs)) as display:
        display.status(f"training and auditing {len(runs)} models, {parallel} at a time")

        def finished(outcome: RunOutcome) -> None:
            run = outcome.run
            label = f"{run.name} (seed {run.seed})"
            outcome.figures = {
                k: dict(v) for k, v in load_run_figures(outcome.audit_dir).figures.items()
            }
            trained = (
                f"trained {outcome.epochs} epochs in {outcome.train_seconds:.0f} s"
                if outcome.training != "before"
                else f"trained before ({outcome.epochs} epochs)"
            )
            audited = (
                f" (audit {outcome.eval_seconds:.0f} s)" if outcome.evaluation != "before" else ""
            )
            display.done(f"{label}: {trained}; {_describe_figures(outcome.figures)}{audited}")
            outcome.convergence = _convergence(outcome.train_dir)
            entry = outcome.to_dict()
            prior = state["runs"].get(run.slug) or {}
            # A step done by an earlier call keeps the seconds that call measured.
            if outcome.training == "before" and "train_seconds" in prior:
                entry["train_seconds"] = prior["train_seconds"]
            if outcome.evaluation == "before" and "eval_seconds" in prior:
                entry["eval_seconds"] = prior["eval_seconds"]
            state["runs"][run.slug] = entry
            state_file.write(state)

        _train_and_evaluate_all(outcomes, configs, data_dir, parallel, finished)
    timings["train_and_evaluate"] = time.perf_counter() - t0
    timings["train"] = sum(o.train_seconds for o in outcomes)
    timings["evaluate"] = sum(o.eval_seconds for o in outcomes)

    # 4. tables and report
    t0 = time.perf_counter()
    figures_list: list[RunFigures] = [load_run_figures(o.audit_dir) for o in outcomes]
    tables = build_tables(figures_list, baseline=BASELINE, models=MODELS)
    files = tables.write(out)
    timings["tables"] = time.perf_counter() - t0
    if report:
        from actionbias.report import write_report

        t0 = time.perf_counter()
        files["report.html"] = write_report(
            [o.audit_dir for o in outcomes],
            out / "report.html",
            title="actionbias demo: background bias on SynthAct",
            baseline=BASELINE,
            study=_study_facts(settings, seeds, state["data"], started),
        )
        timings["report"] = time.perf_counter() - t0
    seconds = time.perf_counter() - started
    timings["total"] = seconds
    state["timings"] = {k: round(v, 2) for k, v in timings.items()}
    state["status"] = "complete"
    state["seconds"] = round(seconds, 2)
    state["files"] = {k: str(v) for k, v in files.items()}
    state_file.write(state)
    files["demo.json"] = state_file.path

    if console is None and progress:
        from rich.console import Console

        console = Console()
    if console is not None:
        from rich.markdown import Markdown

        console.print(Markdown(tables.table2_markdown()))
        console.print(Markdown(tables.table3_markdown()))
        console.print(f"Tables and report in {out} ({seconds:.0f} s).", highlight=False)
    return DemoResult(
        out_dir=out,
        data_dir=data_dir,
        seeds=seeds,
        runs=outcomes,
        tables=tables,
        files=files,
        seconds=seconds,
        timings=timings,
        settings=settings,
    )


def _study_facts(
    settings: Mapping[str, Any], seeds: Sequence[int], data: Mapping[str, Any], started: float
) -> dict[str, str]:
    counts = data.get("counts") or {}
    split_text = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    config = settings["train_config"]
    return {
        "data": (
            f"SynthAct, preset {settings['data']['preset']}, data seed {settings['data']['seed']}"
            f" ({len(data.get('classes') or [])} classes; {split_text})"
        ),
        "recipe": (
            f"{settings['recipe']}: {config['model'].get('backbone')} at "
            f"{config['data']['num_frames']}x{config['data']['crop_size']}x"
            f"{config['data']['crop_size']}, {config['trainer']['max_epochs']} epochs, "
            f"{config['optim']['optimizer']} lr {config['optim']['lr']}, "
            f"{config['optim']['scheduler']} schedule, batch {config['data']['batch_size']}"
        ),
        "scene-swap runs": (
            "half the epochs on the doubled training set (same optimisation steps)"
            if settings["scene_swap_epochs"] == "same-steps"
            else "as many epochs as the others on the doubled set (twice the steps)"
        ),
        "training seeds": ", ".join(map(str, seeds)),
        "models": ", ".join(MODELS) + "; each without and with scene-swap augmentation",
        "wall time": f"{time.perf_counter() - started:.0f} s (this call, before the report)",
    }
