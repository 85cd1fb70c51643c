"""The two interfaces every audited model meets, and what all scorers share.

The runner only ever talks to these shapes, so a new kind of model is one new
class here beside the others, never a change to the audit loop:

* `ClipScorer` (``score(clips) -> (B, C) scores``) for the "all classes"
  protocol. The same scores answer the multiple-choice protocol by the argmax
  over the five choices (`actionbias.metrics.answer_by_scores`), as the paper
  does for Slow-only and CLIP.
* `MCQAnswerer` (``answer(clips, questions, class_names) -> replies``) for
  video LLMs. An unusable reply is counted as no answer, and a failed call as
  an error that the next run of the audit retries.
* `RecordScorer` (``predict_records``): a scorer that decodes the videos itself,
  because it needs more than frames (person masks aligned with the sampled
  frames, as our classifiers do).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from actionbias.metrics.mcq import MCQuestion

ANSWER_SOURCES = ("logprobs", "text", "scores", "none", "error")


@runtime_checkable
class ClipScorer(Protocol):
    """ "All classes" protocol: clips (uint8 ``T x H x W x 3`` RGB) -> ``(B, C)`` scores."""

    def score(self, clips: list[np.ndarray]) -> np.ndarray: ...


@dataclass
class MCQReply:
    """One answer to one multiple-choice question.

    ``choice`` is the position in ``question.choices`` (None: no usable answer);
    ``source`` says where it came from: "logprobs", "text", "scores", "none"
    (reply unparseable) or "error" (the call failed; retried by the next run).
    """

    choice: int | None
    source: str
    reply: str = ""
    logprobs: dict[str, float] | None = field(default=None)


@runtime_checkable
class MCQAnswerer(Protocol):
    """Multiple-choice protocol: one reply per (clip, question)."""

    def answer(
        self, clips: list[np.ndarray], questions: list[MCQuestion], class_names: list[str]
    ) -> list[MCQReply]: ...


SkipCallback = Callable[[Any, str], None]
"""``on_skip(record, reason)``: a video that could not be used (broken media, no mask)."""


@runtime_checkable
class RecordScorer(Protocol):
    """A scorer that reads the videos itself (decoding, masks) instead of taking clips."""

    def predict_records(
        self, records: Sequence[Any], batch_size: int, frames: int, on_skip: SkipCallback
    ) -> Iterator[tuple[list[Any], np.ndarray]]: ...


def describe(scorer: Any) -> tuple[str, dict[str, Any]]:
    """(display name, model spec for config.json) of any scorer or answerer."""
    spec = getattr(scorer, "spec", None)
    if not isinstance(spec, dict):
        spec = {"type": "callable", "id": type(scorer).__name__}
    name = getattr(scorer, "name", None) or str(spec.get("id") or type(scorer).__name__)
    return str(name), dict(spec)


def is_answerer(scorer: Any) -> bool:
    """Whether ``scorer`` answers multiple-choice questions (`MCQAnswerer`)."""
    return callable(getattr(scorer, "answer", None))


def is_scorer(scorer: Any) -> bool:
    """Whether ``scorer`` scores every class (`ClipScorer` or `RecordScorer`)."""
    return callable(getattr(scorer, "score", None)) or callable(
        getattr(scorer, "predict_records", None)
    )


def default_device(device: str | None) -> str:
    """The torch device to load a model on: the given one, else CUDA when there is one."""
    if device:
        return str(device)
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
