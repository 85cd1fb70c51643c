"""The multiple-choice questions of an audit: drawn once per dataset, stored, reused.

Every model and frame count of a study must answer the very same questions, or
their SHAcc/SBErr differ by the draw. So the questions are drawn from the seed
over the whole dataset (not the shard or the ``--limit`` selection), written
into the run directory, and a questions file of another run can be answered
instead; such a file is checked against the data's labels first.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from actionbias.audit.audit_data import AuditItem, collect_items, load_audit_data
from actionbias.audit.label_space import choose_label_space
from actionbias.audit.rundir import RunDir
from actionbias.data import Manifest
from actionbias.errors import BadInputError
from actionbias.fileio import atomic_write_bytes, file_sha256
from actionbias.metrics.mcq import MCQuestion, load_questions, make_questions, save_questions

NUM_CHOICES = 5


def questions_origin(questions: str | Path | None, seed: int) -> dict[str, Any]:
    """Where a run's questions come from, as its config records it (a file and its digest,
    or the seed they are drawn from)."""
    if questions is not None and Path(questions).is_file():
        return {"file": str(Path(questions).resolve()), "sha256": file_sha256(questions)}
    return {"generated": {"seed": seed, "choices": NUM_CHOICES}}


def _draw(items: Sequence[AuditItem], num_classes: int, seed: int) -> list[MCQuestion]:
    """One question per video from the seed: the label, its swap background when it has one,
    and distractors from the ``num_classes`` classes."""
    if num_classes < NUM_CHOICES:
        raise BadInputError(
            f"the MCQ protocol needs at least {NUM_CHOICES} classes, the data has {num_classes}",
            where="protocol",
        )
    labelled = [(it.record.id, int(it.record.label_id), it.background) for it in items]  # type: ignore[arg-type]
    return make_questions(labelled, num_classes, NUM_CHOICES, seed)


def _external_questions(
    path: Path, items: Sequence[AuditItem], classes: list[str]
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


def prepare_questions(
    run: RunDir,
    items: Sequence[AuditItem],
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
    generated = _draw(items, len(classes), seed)
    if target.is_file():
        stored = {q.id: q for q in load_questions(target)}
        if all(stored.get(q.id) == q for q in generated):
            return stored
    save_questions(generated, target)
    return {q.id: q for q in generated}


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
    items = collect_items(audit_data, space.classes)
    questions = _draw(items, len(space.classes), seed)
    path = Path(path)
    if path.is_file() and load_questions(path) == questions:
        return path
    save_questions(questions, path)
    return path
