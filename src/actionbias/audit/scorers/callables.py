"""`CallableScorer`: the "bring your own model" path of the Python API."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


class CallableScorer:
    """Any Python callable ``clips -> (B, C) scores`` over ``class_names``.

    The "bring your own model" path of the Python API: ``fn`` gets the sampled
    uint8 RGB clips of one batch and returns one row of scores per clip (logits,
    probabilities or similarities: only their order matters for top-1/MCQ; top-5
    and mAP use them as they are).
    """

    def __init__(
        self,
        fn: Callable[[list[np.ndarray]], Any],
        class_names: Sequence[str] | None = None,
        name: str | None = None,
        spec: dict[str, Any] | None = None,
    ) -> None:
        self.fn = fn
        self.class_names = list(class_names) if class_names is not None else None
        self.name = name or getattr(fn, "__name__", type(fn).__name__)
        self.spec = dict(spec) if spec else {"type": "callable", "id": self.name}

    def score(self, clips: list[np.ndarray]) -> np.ndarray:
        scores = np.asarray(self.fn(clips), dtype=np.float64)
        if scores.ndim != 2 or scores.shape[0] != len(clips):
            raise ValueError(
                f"{self.name} returned scores of shape {scores.shape} for {len(clips)} clips"
            )
        if self.class_names is not None and scores.shape[1] != len(self.class_names):
            raise ValueError(
                f"{self.name} returned {scores.shape[1]} scores for {len(self.class_names)} classes"
            )
        return scores
