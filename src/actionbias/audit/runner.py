"""`run_audit`: (model, dataset, protocol) -> an audit run directory.

What it does, in order:

1. reads the data (`audit_data.load_audit_data`): a SynthAct folder, any
   manifest, or the ``swap_pairs.csv`` that ``actionbias swap`` writes;
2. builds the model from a spec (`scorers.resolve_scorer`) unless given one,
   in its label space (`label_space.choose_label_space`): a classifier answers in its own
   classes; CLIP/SigLIP score, and video LLMs' MCQ distractors come from, the
   400 Kinetics classes when every dataset class is one (HAT, Mimetics,
   Kinetics-50: the paper's protocol), else the dataset's classes;
3. for the MCQ protocol, draws the questions once per dataset from the seed
   (or takes them from a questions file, so several models answer the same
   questions) and stores them in the run directory (`questions`);
4. opens the run directory (`RunDir`), skips every video already done, and
   predicts the rest batch by batch (`loop`): frames sampled uniformly, decoding
   in a thread pool one batch ahead of the model (`decoding`), broken videos
   skipped and logged; each batch is appended and fsynced before the next starts;
5. finalizes: metrics.json and metrics.csv with bootstrap intervals.

Scaling out: ``shard=(k, n)`` processes every n-th video starting at the k-th
and writes ``predictions.shard-k-of-n.jsonl``; start one process per GPU or
per SLURM array task (``--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT``,
or ``$RANK/$WORLD_SIZE`` under torchrun) on the same run directory, then run
the audit once more without a shard (or call `RunDir.finalize`): nothing is
left to predict, and the shard files are merged into predictions.jsonl and
scored. For video LLMs behind a vLLM server, one process with the endpoint's
concurrency is usually enough.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actionbias.audit.audit_data import AuditData, AuditItem, collect_items, load_audit_data
from actionbias.audit.label_space import LabelSpace, choose_label_space
from actionbias.audit.loop import AuditJob, predict
from actionbias.audit.mcq_prompt import MCQPrompt
from actionbias.audit.questions import prepare_questions, questions_origin, write_questions
from actionbias.audit.rundir import QUESTIONS, RunDir
from actionbias.audit.scorers import (
    describe,
    is_answerer,
    is_scorer,
    parse_model_string,
    resolve_scorer,
)
from actionbias.audit.settings import PROTOCOLS, AuditSettings
from actionbias.data import Manifest
from actionbias.errors import BadInputError
from actionbias.metrics.mcq import MCQuestion

log = logging.getLogger(__name__)

# Imported from here by workflows written before the audit was split into modules.
__all__ = [
    "PROTOCOLS",
    "AuditSettings",
    "choose_label_space",
    "load_audit_data",
    "run_audit",
    "run_audit_with",
    "write_questions",
]


def run_audit(
    model: dict[str, Any] | str | Any,
    data: str | Path | Manifest | Mapping[str, Manifest],
    out_dir: str | Path,
    protocol: str = "all",
    frames: int | None = None,
    splits: Sequence[str] | None = None,
    batch_size: int = 8,
    seed: int = 0,
    questions: str | Path | None = None,
    force: bool = False,
    limit: int | None = None,
    progress: bool = True,
    *,
    shard: tuple[int, int] | None = None,
    name: str | None = None,
    device: str | None = None,
    prompt: MCQPrompt | None = None,
    n_boot: int = 2000,
    tags: dict[str, Any] | None = None,
    sweep: dict[str, Any] | None = None,
    data_format: str = "auto",
    root: str | Path | None = None,
    classes: str | Path | None = None,
    group: str | None = None,
    workers: int | None = None,
    short_side: int | None = None,
    finalize: bool = True,
    label_space: str | None = None,
) -> dict[str, Any]:
    """Audit one model on one dataset into ``out_dir``; returns the metrics dict.

    ``model``: a spec dict (``{"type": "classifier", "checkpoint": ...}``,
    ``{"type": "clip"|"siglip", "id": ..., "pooling": "center"|"mean"}``,
    ``{"type": "vlm-local", "id": ...}``, ``{"type": "vlm-endpoint", "base_url",
    "model", "api_key_env"}``), a ``--model`` string (`parse_model_string`) or a
    scorer/answerer object (`ClipScorer`, `MCQAnswerer`, `CallableScorer`, ...).
    ``frames``: frames sampled uniformly per video (default: the checkpoint's for
    our classifiers, else 8; 1 is the centre frame). ``limit``: at most this many
    videos per group (a quick look; raising it later resumes). ``shard=(k, n)``:
    every n-th video from the k-th (see the module docstring). ``questions``: a
    questions file to answer instead of drawing them (MCQ). Only ``config``
    changes (model, protocol, frames, data, seed, questions, prompt, tags) make
    a run directory refuse a rerun; ``force`` discards it and starts over.
    ``label_space``: ``auto`` (None), ``kinetics400`` or ``dataset`` for models
    without a class list of their own (`choose_label_space`).
    """
    # The parameters after out_dir are AuditSettings' fields, one for one (a test in
    # tests/audit/test_audit_runner.py keeps them so).
    options = {k: v for k, v in locals().items() if k not in ("model", "data", "out_dir")}
    return run_audit_with(model, data, out_dir, AuditSettings(**options))


def run_audit_with(
    model: dict[str, Any] | str | Any,
    data: str | Path | Manifest | Mapping[str, Manifest],
    out_dir: str | Path,
    settings: AuditSettings,
) -> dict[str, Any]:
    """`run_audit` with its options gathered in one `AuditSettings`."""
    settings.check()
    setup = _prepare(model, data, settings)
    items = collect_items(setup.data, setup.classes)
    config = _run_config(setup, settings)
    run = RunDir.open(out_dir, config, force=settings.force, shard=settings.shard)
    questions = _questions(run, items, setup.classes, settings)
    everything = _limited(items, setup.data, settings.limit)
    selected = (
        everything[settings.shard[0] :: settings.shard[1]] if settings.sharded else everything
    )
    done = run.done_ids()
    todo = [it for it in selected if it.record.id not in done]
    log.info(
        "%s: %d videos (%d done before, %d to predict) -> %s",
        config["name"],
        len(selected),
        len(selected) - len(todo),
        len(todo),
        run.path,
    )
    job = AuditJob(
        setup.scorer, setup.classes, settings.protocol, setup.frames, questions, setup.answers
    )
    description = f"{config['name']} ({settings.protocol}, {setup.frames} frames)"
    predict(run, job, todo, settings, description, len(selected))
    if not settings.finalize:
        return {"run": run.config, "videos": len(selected), "predicted": len(todo)}
    return _finalize(run, everything, settings, config["name"])


@dataclass
class _Setup:
    """The model, the data and the class list the run answers in."""

    scorer: Any
    data: AuditData
    classes: list[str]
    frames: int
    answers: bool
    space: LabelSpace | None
    label_match: dict[str, Any] | None


def _prepare(
    model: dict[str, Any] | str | Any,
    data: str | Path | Manifest | Mapping[str, Manifest],
    s: AuditSettings,
) -> _Setup:
    scorer, spec = _model_with_classes(model, s)
    own_classes = getattr(scorer, "classes", None) if scorer is not None else None
    if own_classes and s.label_space not in (None, "auto"):
        raise BadInputError(
            f"a classifier answers in its own {len(own_classes)} classes; the label space "
            "applies to clip:/siglip: models and video LLMs",
            where="--label-space",
        )
    # A classifier reads the data in its own class list (Kinetics-style CSVs would
    # otherwise be checked against the 400 Kinetics names) unless --classes says
    # otherwise; predictions are always in the model's class order.
    # A Hugging Face classifier's labels are matched to the data's classes by name
    # instead (its id2label spelling need not be a class list the data can use).
    aligns = callable(getattr(scorer, "align_to", None))
    if s.classes is not None or not own_classes or aligns:
        data_classes = s.classes
    else:
        data_classes = list(own_classes)
    audit_data = load_audit_data(data, s.splits, s.data_format, s.root, data_classes, s.group)
    label_match = scorer.align_to(audit_data.classes) if aligns else None
    space: LabelSpace | None = None
    if scorer is None or not (own_classes or getattr(scorer, "class_names", None)):
        space = choose_label_space(s.label_space, audit_data.classes)
    if scorer is None:
        assert space is not None
        scorer = resolve_scorer(spec, space.classes, s.frames or 8, s.device, s.prompt, s.workers)
    _check_interface(scorer, s.protocol)
    return _Setup(
        scorer=scorer,
        data=audit_data,
        classes=_run_classes(scorer, space, audit_data),
        frames=int(s.frames or getattr(scorer, "default_frames", None) or 8),
        answers=s.protocol == "mcq" and is_answerer(scorer),
        space=space,
        label_match=label_match,
    )


def _model_with_classes(
    model: dict[str, Any] | str | Any, s: AuditSettings
) -> tuple[Any, dict[str, Any]]:
    """(scorer or None, spec): a model that knows its classes is built before the data
    is read, in its classes; any other is built later, in the label space."""
    if not isinstance(model, (dict, str)):
        return model, {}
    spec = parse_model_string(model) if isinstance(model, str) else model
    if spec.get("type") in ("classifier", "hf"):
        scorer = resolve_scorer(spec, [], s.frames or 8, s.device, s.prompt, num_workers=s.workers)
        return scorer, spec
    return None, spec


def _check_interface(scorer: Any, protocol: str) -> None:
    if not (is_scorer(scorer) or is_answerer(scorer)):
        raise TypeError(
            f"{type(scorer).__name__} has neither score(), predict_records() nor answer()"
        )
    if protocol == "all" and not is_scorer(scorer):
        raise BadInputError(
            "this model only answers multiple-choice questions: use --protocol mcq",
            where="--protocol",
        )


def _run_classes(scorer: Any, space: LabelSpace | None, audit_data: AuditData) -> list[str]:
    """The model's own classes, else the label space's, else the data's."""
    model_classes = getattr(scorer, "classes", None) or getattr(scorer, "class_names", None)
    if model_classes:
        return list(model_classes)
    classes = list(space.classes if space is not None else audit_data.classes)
    if not classes:
        raise BadInputError("the data has no class list", where="--data")
    return classes


def _run_config(setup: _Setup, s: AuditSettings) -> dict[str, Any]:
    """What identifies the run: a rerun with another config is refused (see `RunDir`)."""
    display, spec = describe(setup.scorer)
    config: dict[str, Any] = {
        "kind": "audit",
        "name": s.name or display,
        "model": spec,
        "protocol": s.protocol,
        "frames": setup.frames,
        "data": setup.data.info,
        "seed": s.seed,
        "questions": QUESTIONS if s.protocol == "mcq" else None,
        "classes": setup.classes,
    }
    if setup.space is not None:
        config["label_space"] = setup.space.describe()
    if setup.label_match is not None:
        config["label_match"] = setup.label_match
    if s.protocol == "mcq":
        config["questions_from"] = questions_origin(s.questions, s.seed)
    optional = {"short_side": s.short_side, "sweep": s.sweep, "tags": s.tags}
    config.update({k: v for k, v in optional.items() if v is not None})
    return config


def _questions(
    run: RunDir, items: list[AuditItem], classes: list[str], s: AuditSettings
) -> dict[str, MCQuestion] | None:
    if s.protocol != "mcq":
        return None
    external = Path(s.questions) if s.questions else None
    return prepare_questions(run, items, classes, s.seed, external)


def _limited(items: list[AuditItem], audit_data: AuditData, limit: int | None) -> list[AuditItem]:
    """At most ``limit`` videos of each group, groups in their order."""
    selected: list[AuditItem] = []
    for group_name, _ in audit_data.groups:
        members = [it for it in items if it.group == group_name]
        selected.extend(members[:limit] if limit else members)
    return selected


def _finalize(
    run: RunDir, everything: list[AuditItem], s: AuditSettings, name: str
) -> dict[str, Any]:
    # complete: every selected video has an answer or is a broken video; failed
    # model calls (retried by the next run) do not count as done
    finished = run.done_ids()
    complete = all(it.record.id in finished for it in everything)
    extra: dict[str, Any] = {"selected": len(everything), "limit": s.limit, "complete": complete}
    if s.sharded:
        assert s.shard is not None
        extra["shard"] = list(s.shard)
    metrics = run.finalize(n_boot=s.n_boot, seed=s.seed, extra=extra)
    log.info(
        "%s: %d videos scored, %d skipped, %d without answer",
        name,
        metrics["videos"],
        metrics["skipped"],
        metrics["no_answer"],
    )
    return metrics
