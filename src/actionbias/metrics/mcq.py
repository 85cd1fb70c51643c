"""The 5-choice multiple-choice protocol (paper Sec. 3.2).

Choices are the human label, the background label (on swap data) and random
other classes, shuffled. Questions are drawn once per dataset from a seed and
stored, so that every model - classifier, CLIP or video LLM - answers exactly
the same questions and the figures are comparable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from actionbias.errors import BadInputError
from actionbias.fileio import atomic_write_text, read_jsonl_whole

LETTERS = "ABCDEFGHIJ"


@dataclass(frozen=True)
class MCQuestion:
    id: str
    choices: list[int]  # class indices, in the order shown to the model
    answer: int  # position of the human (target) label among choices
    background: int | None  # position of the background label, None off swap data

    def letters(self) -> str:
        return LETTERS[: len(self.choices)]


def make_questions(
    items: Iterable[tuple[str, int, int | None]],
    num_classes: int,
    num_choices: int = 5,
    seed: int = 0,
) -> list[MCQuestion]:
    """Draw one question per (id, human_class, background_class_or_None).

    Each question uses its own generator seeded from (seed, id), so adding or
    removing videos does not change the other videos' questions.
    """
    if num_choices > num_classes:
        raise ValueError(f"{num_choices} choices need at least as many classes ({num_classes})")
    questions = []
    for vid, human, background in items:
        fixed = [human] if background is None or background == human else [human, background]
        rng = np.random.default_rng([seed, *(ord(ch) for ch in vid)])
        pool = np.setdiff1d(np.arange(num_classes), fixed)
        others = rng.choice(pool, size=num_choices - len(fixed), replace=False).tolist()
        choices = [int(c) for c in rng.permutation(fixed + others)]
        questions.append(
            MCQuestion(
                id=vid,
                choices=choices,
                answer=choices.index(human),
                background=None if background is None else choices.index(background),
            )
        )
    return questions


def answer_by_scores(questions: Sequence[MCQuestion], scores: np.ndarray) -> np.ndarray:
    """Classifier/CLIP answer: the argmax of the class scores restricted to the choices.

    Returns the chosen class index per question (row i of `scores` answers
    question i).
    """
    s = np.asarray(scores)
    if s.shape[0] != len(questions):
        raise ValueError(f"{s.shape[0]} score rows for {len(questions)} questions")
    return np.array(
        [q.choices[int(np.argmax(s[i, q.choices]))] for i, q in enumerate(questions)],
        dtype=np.int64,
    )


def save_questions(questions: Sequence[MCQuestion], path: str | Path) -> None:
    """Write JSONL atomically (temp file in the same directory, then rename)."""
    atomic_write_text(
        path, "".join(json.dumps(asdict(q), sort_keys=True) + "\n" for q in questions)
    )


def load_questions(path: str | Path) -> list[MCQuestion]:
    questions = []
    for lineno, row in read_jsonl_whole(path):
        try:
            q = MCQuestion(
                id=str(row["id"]),
                choices=[int(c) for c in row["choices"]],
                answer=int(row["answer"]),
                background=None if row.get("background") is None else int(row["background"]),
            )
        except (ValueError, KeyError, TypeError) as err:
            raise BadInputError(f"not a question record ({err})", path, f"line {lineno}") from None
        if not 0 <= q.answer < len(q.choices):
            raise BadInputError("answer position outside the choices", path, f"line {lineno}")
        questions.append(q)
    return questions
