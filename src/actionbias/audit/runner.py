"""`run_audit`: (model, dataset, protocol) -> an audit run directory.

What it does, in order:

1. reads the data: a SynthAct folder (splits test, swap, mimetic by default,
   each its own group), any manifest `load_manifest` reads (Kinetics/Mimetics
   CSV, PySlowFast or MMAction2 list, HAT root), or the ``swap_pairs.csv`` that
   ``actionbias swap`` writes beside its videos;
2. builds the model from a spec (`scorers.resolve_scorer`) unless given one,
   in its label space (`choose_label_space`): a classifier answers in its own
   classes; CLIP/SigLIP score, and video LLMs' MCQ distractors come from, the
   400 Kinetics classes when every dataset class is one (HAT, Mimetics,
   Kinetics-50: the paper's protocol), else the dataset's classes;
3. for the MCQ protocol, draws the questions once per dataset from the seed
   (or takes them from a questions file, so several models answer the same
   questions) and stores them in the run directory;
4. opens the run directory (`RunDir`), skips every video already done, and
   predicts the rest batch by batch: frames sampled uniformly, decoding in a
   thread pool one batch ahead of the model, broken videos skipped and logged;
   each batch is appended and fsynced before the next starts;
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

import hashlib
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from actionbias.audit.mcq_prompt import MCQPrompt
from actionbias.audit.rundir import QUESTIONS, RunDir
from actionbias.audit.scorers import MCQReply, describe, parse_model_string, resolve_scorer
from actionbias.data import ClassLookup, Manifest, VideoRecord, load_manifest
from actionbias.data.predictions import SOURCE_FIELDS, has_person_flag
from actionbias.errors import BadInputError
from actionbias.fileio import atomic_write_bytes
from actionbias.metrics.mcq import (
    MCQuestion,
    answer_by_scores,
    load_questions,
    make_questions,
    save_questions,
)

log = logging.getLogger(__name__)

PROTOCOLS = ("all", "mcq")
SYNTHACT_SPLITS = ("test", "swap", "mimetic")
NUM_CHOICES = 5
MAX_REPLY_CHARS = 2000
LABEL_SPACES = ("auto", "kinetics400", "dataset")


@dataclass(frozen=True)
class LabelSpace:
    """The class list a zero-shot model or video LLM is audited in, and why."""

    name: str  # "kinetics400" | "dataset"
    classes: list[str]
    reason: str

    def describe(self) -> dict[str, Any]:
        """What the run config records."""
        return {"name": self.name, "classes": len(self.classes), "reason": self.reason}


def choose_label_space(choice: str | None, data_classes: Sequence[str]) -> LabelSpace:
    """Resolve ``--label-space`` (``auto`` when None) against the data's classes."""
    from actionbias.data.class_names import kinetics400_classes, kinetics400_lookup

    choice = choice or "auto"
    if choice not in LABEL_SPACES:
        raise BadInputError(
            f"label space must be one of {', '.join(LABEL_SPACES)}, got {choice!r}",
            where="--label-space",
        )
    if choice == "dataset":
        return LabelSpace("dataset", list(data_classes), "--label-space dataset")
    lookup = kinetics400_lookup()
    outside = [name for name in data_classes if lookup.find(name) is None]
    if choice == "kinetics400":
        if outside:
            raise BadInputError(
                f"{len(outside)} of the data's {len(data_classes)} classes are not "
                f"Kinetics-400 classes (e.g. {outside[0]!r})",
                where="--label-space kinetics400",
            )
        return LabelSpace("kinetics400", kinetics400_classes(), "--label-space kinetics400")
    if data_classes and not outside:
        return LabelSpace(
            "kinetics400",
            kinetics400_classes(),
            f"auto: all {len(data_classes)} dataset classes are Kinetics-400 classes",
        )
    example = f" (e.g. {outside[0]!r})" if outside else ""
    return LabelSpace(
        "dataset",
        list(data_classes),
        f"auto: {len(outside)} dataset classes are not Kinetics-400 classes{example}",
    )


# ------------------------------------------------------------------------ data


@dataclass
class AuditData:
    """The groups of videos to audit and the class list their labels index."""

    groups: list[tuple[str, Manifest]]
    classes: list[str]
    info: dict[str, Any]


def _is_swap_csv(path: Path) -> bool:
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    with path.open(encoding="utf-8", errors="replace") as fh:
        header = fh.readline()
    return "human_clip" in [cell.strip() for cell in header.split(",")]


def _swap_manifest(path: Path, classes: str | Path | None) -> Manifest:
    """Records of the swap videos a ``swap_pairs.csv`` (with its ``video`` column) lists."""
    from actionbias.data import read_swap_csv
    from actionbias.data.class_names import resolve_classes

    pairs = read_swap_csv(path, classes)
    class_list = resolve_classes(classes, near=path)
    if class_list is None:
        names = {p.human_label for p in pairs} | {p.background_label for p in pairs}
        class_list = sorted(names)
    lookup = ClassLookup(class_list)
    records = []
    for number, pair in enumerate(pairs, start=2):
        video = pair.extras.get("video")
        if not video:
            raise BadInputError(
                "swap CSV lists pairs but no rendered video (no 'video' column); "
                "compose the videos with `actionbias swap` and audit its swap_pairs.csv",
                source=path,
                where=f"line {number}",
            )
        media = (path.parent / video).resolve()
        label_id = lookup.index(pair.human_label, source=path, where=f"line {number}")
        records.append(
            VideoRecord(
                id=Path(video).stem,
                path=str(media),
                label=class_list[label_id],
                label_id=label_id,
                extras={
                    "background_label": pair.background_label,
                    "human_clip": pair.human_clip,
                    "background_clip": pair.background_clip,
                    "has_person": pair.has_person,
                },
            )
        )
    return Manifest(records, class_list, name="swap", source=str(path))


def _default_group(manifest: Manifest) -> str:
    if any(r.extras.get("background_label") for r in manifest.records):
        return "swap"
    if "mimetic" in (manifest.name or "").casefold():
        return "mimetic"
    return "test"


def load_audit_data(
    data: str | Path | Manifest | Mapping[str, Manifest],
    splits: Sequence[str] | None = None,
    format: str = "auto",
    root: str | Path | None = None,
    classes: str | Path | None = None,
    group: str | None = None,
) -> AuditData:
    """Resolve ``data`` into named groups (see the module docstring).

    A mapping ``{group: Manifest}`` is used as it is (e.g. a held-out half of a
    split that the caller carved out); all groups must share one class list.
    """
    if isinstance(data, Mapping):
        groups = [(str(name), manifest) for name, manifest in data.items()]
        if not groups:
            raise BadInputError("no data groups given", where="data")
        classes = list(groups[0][1].classes)
        for name, manifest in groups[1:]:
            if list(manifest.classes) != classes:
                raise BadInputError(
                    f"group {name!r} has another class list than {groups[0][0]!r}", where="data"
                )
        sources = sorted({str(m.source or m.name) for _, m in groups})
        info = {"path": "; ".join(sources), "splits": [n for n, _ in groups]}
        info["records"] = {n: len(m) for n, m in groups}
        return AuditData(groups, classes, info)
    if isinstance(data, Manifest):
        name = group or _default_group(data)
        info = {"path": data.source or data.name, "splits": [name]}
        return AuditData([(name, data)], list(data.classes), info)
    path = Path(data)
    if not path.exists():
        raise BadInputError("data not found", source=path, where="--data")
    info: dict[str, Any] = {"path": str(path.resolve())}
    if format != "auto":
        info["format"] = format
    if path.is_dir() and (path / "synthact.json").is_file():
        from actionbias.synth import read_synthact

        manifests = read_synthact(path, strict=False)
        names = list(splits or SYNTHACT_SPLITS)
        unknown = [n for n in names if n not in manifests]
        if unknown:
            raise BadInputError(
                f"no split {unknown[0]!r} (has {', '.join(manifests)})", source=path, where="splits"
            )
        groups = [(n, manifests[n]) for n in names]
        info["splits"] = names
        return AuditData(groups, list(manifests[names[0]].classes), info)
    if _is_swap_csv(path):
        manifest = _swap_manifest(path, classes)
        name = group or "swap"
        info["splits"] = [name]
        return AuditData([(name, manifest)], list(manifest.classes), info)
    kwargs: dict[str, Any] = {}
    if root is not None:
        kwargs["root"] = root
    if classes is not None:
        kwargs["classes"] = classes
    manifest = load_manifest(path, format=format, **kwargs)
    if splits:
        present = manifest.splits()
        if not present:
            raise BadInputError(
                "records carry no split, so --splits cannot select any", source=path, where="splits"
            )
        missing = [s for s in splits if s not in present]
        if missing:
            raise BadInputError(
                f"no split {missing[0]!r} (has {', '.join(present)})", source=path, where="splits"
            )
        groups = [(s, manifest.by_split(s)) for s in splits]
    else:
        groups = [(group or _default_group(manifest), manifest)]
    info["splits"] = [name for name, _ in groups]
    return AuditData(groups, list(manifest.classes), info)


# ------------------------------------------------------------------------ questions


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class _Item:
    group: str
    record: VideoRecord
    background: int | None


def _question_items(items: Sequence[_Item]) -> list[tuple[str, int, int | None]]:
    return [(it.record.id, int(it.record.label_id), it.background) for it in items]  # type: ignore[arg-type]


def _external_questions(
    path: Path, items: Sequence[_Item], classes: list[str]
) -> dict[str, MCQuestion]:
    if not path.is_file():
        raise BadInputError("questions file not found", source=path, where="--questions")
    by_id = {q.id: q for q in load_questions(path)}
    for item in items:
        q = by_id.get(item.record.id)
        where = f"question {item.record.id}"
        if q is None:
            raise BadInputError(
                "no question for this video (the file was made for another dataset)",
                source=path,
                where=where,
            )
        if any(not 0 <= c < len(classes) for c in q.choices):
            raise BadInputError("choice outside the class list", source=path, where=where)
        if q.choices[q.answer] != item.record.label_id or (
            item.background is not None
            and (q.background is None or q.choices[q.background] != item.background)
        ):
            raise BadInputError(
                "answer/background do not match the video's labels (another class list?)",
                source=path,
                where=where,
            )
    return by_id


def _prepare_questions(
    run: RunDir,
    items: Sequence[_Item],
    classes: list[str],
    seed: int,
    external: Path | None,
) -> dict[str, MCQuestion]:
    """Questions for every video of the dataset, stored in the run directory."""
    target = run.questions_path
    if external is not None:
        questions = _external_questions(external, items, classes)
        data = external.read_bytes()
        if not target.is_file() or target.read_bytes() != data:
            atomic_write_bytes(target, data)
        return questions
    if len(classes) < NUM_CHOICES:
        raise BadInputError(
            f"the MCQ protocol needs at least {NUM_CHOICES} classes, the data has {len(classes)}",
            where="protocol",
        )
    generated = make_questions(_question_items(items), len(classes), NUM_CHOICES, seed)
    if target.is_file():
        stored = {q.id: q for q in load_questions(target)}
        if all(stored.get(q.id) == q for q in generated):
            return stored
    save_questions(generated, target)
    return {q.id: q for q in generated}


def _collect_items(audit_data: AuditData, classes: list[str]) -> list[_Item]:
    """Every video of every group, labels (and swap backgrounds) in ``classes``."""
    lookup = ClassLookup(classes)
    items: list[_Item] = []
    seen: set[str] = set()
    for group_name, manifest in audit_data.groups:
        manifest = manifest.aligned_to(classes, group_name)
        for record in manifest.records:
            where = f"record {record.id}"
            if record.label_id is None:
                raise BadInputError("video has no label", manifest.source or None, where)
            if record.id in seen:
                raise BadInputError(
                    "video id appears in two groups; ids key the results",
                    manifest.source or None,
                    where,
                )
            seen.add(record.id)
            try:
                has_person_flag(record.extras.get("has_person"))
            except ValueError as err:
                raise BadInputError(str(err), manifest.source or None, where) from None
            bg_name = record.extras.get("background_label")
            background = lookup.find(str(bg_name)) if bg_name else None
            if bg_name and background is None:
                log.warning(
                    "%s: background %r is not a model class; not a swap row", record.id, bg_name
                )
            items.append(_Item(group_name, record, background))
    return items


def write_questions(
    data: str | Path | Manifest,
    path: str | Path,
    seed: int = 0,
    splits: Sequence[str] | None = None,
    data_format: str = "auto",
    root: str | Path | None = None,
    classes: str | Path | None = None,
    group: str | None = None,
    label_space: str | None = None,
) -> Path:
    """Draw the MCQ questions of a dataset (in its label space) into ``path``.

    What a sweep does first so that every model and frame count answers the very
    same questions; a file that already holds exactly these questions is kept.
    Distractors come from the label space (`choose_label_space`): the 400
    Kinetics classes for Kinetics subsets by default, as in the paper.
    """
    audit_data = load_audit_data(data, splits, data_format, root, classes, group)
    space = choose_label_space(label_space, audit_data.classes)
    items = _collect_items(audit_data, space.classes)
    if len(space.classes) < NUM_CHOICES:
        raise BadInputError(
            f"the MCQ protocol needs at least {NUM_CHOICES} classes, "
            f"the data has {len(space.classes)}",
            where="protocol",
        )
    questions = make_questions(_question_items(items), len(space.classes), NUM_CHOICES, seed)
    path = Path(path)
    if path.is_file() and load_questions(path) == questions:
        return path
    save_questions(questions, path)
    return path


# ------------------------------------------------------------------------ decoding


def _decode(item: _Item, frames: int, short_side: int | None) -> np.ndarray | BadInputError:
    from actionbias.video import read_clip

    record = item.record
    try:
        clip = read_clip(
            record.path,
            num_frames=frames,
            sampling="uniform",
            start=record.start,
            end=record.end,
            short_side=short_side,
        )
    except BadInputError as err:
        return err
    return clip.frames


def _reason(err: BadInputError) -> str:
    return getattr(err, "reason", None) or str(err)


def _decoded_batches(
    items: Sequence[_Item],
    batch_size: int,
    frames: int,
    short_side: int | None,
    workers: int,
) -> Iterator[tuple[list[_Item], list[np.ndarray], list[tuple[_Item, str]]]]:
    """(good items, their clips, failures) per batch; the next batch decodes meanwhile."""
    batches = [list(items[i : i + batch_size]) for i in range(0, len(items), batch_size)]
    if not batches:
        return
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:

        def submit(batch: list[_Item]) -> list[Future]:
            return [pool.submit(_decode, it, frames, short_side) for it in batch]

        pending = submit(batches[0])
        for index, batch in enumerate(batches):
            results = [f.result() for f in pending]
            pending = submit(batches[index + 1]) if index + 1 < len(batches) else []
            good, clips, failed = [], [], []
            for item, result in zip(batch, results, strict=True):
                if isinstance(result, BadInputError):
                    failed.append((item, _reason(result)))
                else:
                    good.append(item)
                    clips.append(result)
            yield good, clips, failed


# ------------------------------------------------------------------------ rows


def _base_row(item: _Item, classes: list[str]) -> dict[str, Any]:
    record = item.record
    row: dict[str, Any] = {
        "id": record.id,
        "label": classes[int(record.label_id)],  # type: ignore[arg-type]
        "dataset": item.group,
    }
    if item.background is not None:
        row["background_label"] = classes[item.background]
        # Source clips (intervals resample them where they repeat) and the
        # no-person flag (such videos are reported apart).
        for key in SOURCE_FIELDS:
            value = record.extras.get(key)
            if value not in (None, ""):
                row[key] = str(value)
        person = has_person_flag(record.extras.get("has_person"))
        if person is not None:
            row["has_person"] = person
    return row


def _score_rows(
    items: Sequence[_Item],
    scores: np.ndarray,
    classes: list[str],
    protocol: str,
    questions: dict[str, MCQuestion] | None,
) -> list[dict[str, Any]]:
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != (len(items), len(classes)):
        raise ValueError(
            f"the model returned scores of shape {scores.shape} for {len(items)} clips "
            f"and {len(classes)} classes"
        )
    rows = []
    if protocol == "mcq":
        assert questions is not None
        qs = [questions[it.record.id] for it in items]
        chosen = answer_by_scores(qs, scores)
        for item, choice in zip(items, chosen, strict=True):
            rows.append(
                {
                    **_base_row(item, classes),
                    "prediction": classes[int(choice)],
                    "answer_source": "scores",
                }
            )
        return rows
    for item, row_scores in zip(items, scores, strict=True):
        rows.append(
            {
                **_base_row(item, classes),
                "prediction": classes[int(np.argmax(row_scores))],
                "scores": [float(x) for x in row_scores],
            }
        )
    return rows


def _reply_rows(
    items: Sequence[_Item],
    replies: Sequence[MCQReply],
    classes: list[str],
    questions: dict[str, MCQuestion],
) -> list[dict[str, Any]]:
    if len(replies) != len(items):
        raise ValueError(f"the model gave {len(replies)} replies for {len(items)} questions")
    rows = []
    for item, reply in zip(items, replies, strict=True):
        q = questions[item.record.id]
        row = _base_row(item, classes)
        if reply.choice is not None and 0 <= reply.choice < len(q.choices):
            row["prediction"] = classes[q.choices[reply.choice]]
            row["choice"] = q.letters()[reply.choice]
            source = reply.source
        else:
            row["prediction"] = ""
            source = reply.source if reply.source == "error" else "none"
        row["answer_source"] = source
        if reply.reply:
            row["reply"] = reply.reply[:MAX_REPLY_CHARS]
        if reply.logprobs:
            row["option_logprobs"] = reply.logprobs
        rows.append(row)
    return rows


# ------------------------------------------------------------------------ progress


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


# ------------------------------------------------------------------------ main


def _is_answerer(scorer: Any) -> bool:
    return callable(getattr(scorer, "answer", None))


def _is_scorer(scorer: Any) -> bool:
    return callable(getattr(scorer, "score", None)) or callable(
        getattr(scorer, "predict_records", None)
    )


def _auto_workers(todo: int) -> int:
    return max(1, min(8, (os.cpu_count() or 2))) if todo > 0 else 1


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
    if protocol not in PROTOCOLS:
        raise BadInputError(f"protocol must be all or mcq, got {protocol!r}", where="--protocol")
    if batch_size < 1:
        raise BadInputError(f"batch size must be >= 1, got {batch_size}", where="--batch-size")
    if limit is not None and limit < 1:
        raise BadInputError(f"limit must be >= 1, got {limit}", where="--limit")
    if frames is not None and frames < 1:
        raise BadInputError(f"frames must be >= 1, got {frames}", where="--frames")
    scorer: Any = None
    spec: dict[str, Any] = {}
    if isinstance(model, (dict, str)):
        spec = parse_model_string(model) if isinstance(model, str) else model
        if spec.get("type") in ("classifier", "hf"):  # knows its classes: build it first
            scorer = resolve_scorer(spec, [], frames or 8, device, prompt, num_workers=workers)
    else:
        scorer = model
    # A classifier reads the data in its own class list (Kinetics-style CSVs would
    # otherwise be checked against the 400 Kinetics names) unless --classes says
    # otherwise; predictions are always in the model's class order.
    own_classes = getattr(scorer, "classes", None) if scorer is not None else None
    if own_classes and label_space not in (None, "auto"):
        raise BadInputError(
            f"a classifier answers in its own {len(own_classes)} classes; the label space "
            "applies to clip:/siglip: models and video LLMs",
            where="--label-space",
        )
    # A Hugging Face classifier's labels are matched to the data's classes by name
    # instead (its id2label spelling need not be a class list the data can use).
    aligns = callable(getattr(scorer, "align_to", None))
    if classes is not None or not own_classes or aligns:
        data_classes = classes
    else:
        data_classes = list(own_classes)
    audit_data = load_audit_data(data, splits, data_format, root, data_classes, group)
    label_match = scorer.align_to(audit_data.classes) if aligns else None
    space: LabelSpace | None = None
    if scorer is None or not (own_classes or getattr(scorer, "class_names", None)):
        space = choose_label_space(label_space, audit_data.classes)
    if scorer is None:
        assert space is not None
        scorer = resolve_scorer(spec, space.classes, frames or 8, device, prompt, workers)
    if not (_is_scorer(scorer) or _is_answerer(scorer)):
        raise TypeError(
            f"{type(scorer).__name__} has neither score(), predict_records() nor answer()"
        )
    if protocol == "all" and not _is_scorer(scorer):
        raise BadInputError(
            "this model only answers multiple-choice questions: use --protocol mcq",
            where="--protocol",
        )
    use_answer = protocol == "mcq" and _is_answerer(scorer)
    model_classes = getattr(scorer, "classes", None) or getattr(scorer, "class_names", None)
    if model_classes:
        run_classes = list(model_classes)
    else:
        run_classes = list(space.classes if space is not None else audit_data.classes)
    if not run_classes:
        raise BadInputError("the data has no class list", where="--data")
    frames = int(frames or getattr(scorer, "default_frames", None) or 8)

    all_items = _collect_items(audit_data, run_classes)

    display, spec = describe(scorer)
    config: dict[str, Any] = {
        "kind": "audit",
        "name": name or display,
        "model": spec,
        "protocol": protocol,
        "frames": frames,
        "data": audit_data.info,
        "seed": seed,
        "questions": QUESTIONS if protocol == "mcq" else None,
        "classes": run_classes,
    }
    if space is not None:
        config["label_space"] = space.describe()
    if label_match is not None:
        config["label_match"] = label_match
    if protocol == "mcq":
        config["questions_from"] = (
            {"file": str(Path(questions).resolve()), "sha256": _file_sha256(Path(questions))}
            if questions is not None and Path(questions).is_file()
            else {"generated": {"seed": seed, "choices": NUM_CHOICES}}
        )
    if short_side is not None:
        config["short_side"] = short_side
    if sweep is not None:
        config["sweep"] = sweep
    if tags is not None:
        config["tags"] = tags
    run = RunDir.open(out_dir, config, force=force, shard=shard)

    question_map = None
    if protocol == "mcq":
        question_map = _prepare_questions(
            run, all_items, run_classes, seed, Path(questions) if questions else None
        )

    selected: list[_Item] = []
    for group_name, _ in audit_data.groups:
        members = [it for it in all_items if it.group == group_name]
        selected.extend(members[:limit] if limit else members)
    everything = selected
    if shard is not None and shard[1] > 1:
        selected = selected[shard[0] :: shard[1]]
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

    def skip(item: _Item, reason: str) -> None:
        run.skip(item.record.id, item.record.path, reason)

    description = f"{config['name']} ({protocol}, {frames} frames)"
    with _Progress(progress, description, len(selected), len(selected) - len(todo)) as bar:
        if not use_answer and callable(getattr(scorer, "predict_records", None)):
            by_id = {it.record.id: it for it in todo}

            def on_skip(record: Any, reason: str) -> None:
                skip(by_id[record.id], reason)
                bar.advance(1)

            for records, scores in scorer.predict_records(
                [it.record for it in todo], batch_size, frames, on_skip
            ):
                batch_items = [by_id[r.id] for r in records]
                run.append(_score_rows(batch_items, scores, run_classes, protocol, question_map))
                bar.advance(len(batch_items))
        else:
            n_workers = workers or _auto_workers(len(todo))
            for good, clips, failed in _decoded_batches(
                todo, batch_size, frames, short_side, n_workers
            ):
                for item, reason in failed:
                    skip(item, reason)
                if good:
                    if use_answer:
                        assert question_map is not None
                        qs = [question_map[it.record.id] for it in good]
                        replies = scorer.answer(clips, qs, run_classes)
                        rows = _reply_rows(good, replies, run_classes, question_map)
                    else:
                        scores = scorer.score(clips)
                        rows = _score_rows(good, scores, run_classes, protocol, question_map)
                    run.append(rows)
                bar.advance(len(good) + len(failed))

    if not finalize:
        return {"run": run.config, "videos": len(selected), "predicted": len(todo)}
    # complete: every selected video has an answer or is a broken video; failed
    # model calls (retried by the next run) do not count as done
    finished = run.done_ids()
    complete = all(it.record.id in finished for it in everything)
    extra = {"selected": len(everything), "limit": limit, "complete": complete}
    if shard is not None and shard[1] > 1:
        extra["shard"] = list(shard)
    metrics = run.finalize(n_boot=n_boot, seed=seed, extra=extra)
    log.info(
        "%s: %d videos scored, %d skipped, %d without answer",
        config["name"],
        metrics["videos"],
        metrics["skipped"],
        metrics["no_answer"],
    )
    return metrics
