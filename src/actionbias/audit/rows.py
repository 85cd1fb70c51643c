"""Prediction rows: what the audit appends to predictions.jsonl for each video.

A row carries the video's id, label and group, its swap fields (background,
source clips, person flag) when it is a swap video, and the model's answer:
the argmax and all scores for the "all classes" protocol, or the chosen option
with where it came from (scores, log-probabilities, text, none, error) for MCQ.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from actionbias.audit.audit_data import AuditItem
from actionbias.audit.scorers import MCQReply
from actionbias.data.predictions import SOURCE_FIELDS, has_person_flag
from actionbias.metrics.mcq import MCQuestion, answer_by_scores

MAX_REPLY_CHARS = 2000


def base_row(item: AuditItem, classes: list[str]) -> dict[str, Any]:
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


def score_rows(
    items: Sequence[AuditItem],
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
                    **base_row(item, classes),
                    "prediction": classes[int(choice)],
                    "answer_source": "scores",
                }
            )
        return rows
    for item, row_scores in zip(items, scores, strict=True):
        rows.append(
            {
                **base_row(item, classes),
                "prediction": classes[int(np.argmax(row_scores))],
                "scores": [float(x) for x in row_scores],
            }
        )
    return rows


def reply_rows(
    items: Sequence[AuditItem],
    replies: Sequence[MCQReply],
    classes: list[str],
    questions: dict[str, MCQuestion],
) -> list[dict[str, Any]]:
    if len(replies) != len(items):
        raise ValueError(f"the model gave {len(replies)} replies for {len(items)} questions")
    rows = []
    for item, reply in zip(items, replies, strict=True):
        q = questions[item.record.id]
        row = base_row(item, classes)
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
