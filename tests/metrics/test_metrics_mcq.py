from __future__ import annotations

import numpy as np
import pytest

from actionbias.errors import BadInputError
from actionbias.metrics import answer_by_scores, load_questions, make_questions, save_questions


def test_questions_hold_human_background_and_distinct_others():
    items = [(f"v{i}", i % 10, (i + 3) % 10) for i in range(50)]
    qs = make_questions(items, num_classes=10, seed=0)
    for (vid, human, background), q in zip(items, qs, strict=True):
        assert q.id == vid
        assert len(q.choices) == 5 and len(set(q.choices)) == 5
        assert q.choices[q.answer] == human
        assert q.choices[q.background] == background
    # positions are shuffled, not always first
    assert len({q.answer for q in qs}) > 2


def test_questions_are_seeded_and_independent_of_other_items():
    items = [(f"v{i}", i % 10, None) for i in range(20)]
    a = make_questions(items, 10, seed=3)
    b = make_questions(items[5:], 10, seed=3)
    assert a[5:] == b
    c = make_questions(items, 10, seed=4)
    assert a != c
    assert all(q.background is None for q in a)


def test_answer_by_scores_restricts_to_choices():
    qs = make_questions([("x", 0, 1)], num_classes=10, seed=0)
    scores = np.zeros((1, 10))
    outside = next(c for c in range(10) if c not in qs[0].choices)
    scores[0, outside] = 10.0  # best overall but not a choice
    scores[0, 1] = 5.0
    assert answer_by_scores(qs, scores).tolist() == [1]


def test_save_load_round_trip_and_errors(tmp_path):
    qs = make_questions([("a", 0, 1), ("b", 2, None)], num_classes=6, seed=0)
    path = tmp_path / "q" / "questions.jsonl"
    save_questions(qs, path)
    assert load_questions(path) == qs
    path.write_text('{"id": "a", "choices": [1, 2], "answer": 0}\n{"id": "b"}\n')
    with pytest.raises(BadInputError, match="line 2"):
        load_questions(path)
