"""`HFVideoScorer`: a Hugging Face video classifier (VideoMAE, TimeSformer, ViViT)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from actionbias.audit.scorers.base import default_device
from actionbias.errors import BadInputError

log = logging.getLogger(__name__)


class HFVideoScorer:
    """A Hugging Face video classifier (`HFVideoClassifier`): softmax over its id2label.

    Its labels are its class list; `align_to` renames those that match a dataset
    class by normalised name to the dataset's spelling, so labels and predictions
    compare, and returns what matched and what did not (stored in the run config).
    Frames per clip default to the model's ``num_frames``; resizing, cropping and
    normalisation are its own image processor's.
    """

    def __init__(self, model: Any, spec: dict[str, Any] | None = None) -> None:
        self.model = model
        self.classes: list[str] = list(model.labels)
        self.default_frames = int(model.num_frames)
        self.name = str(model.name)
        self.spec = dict(spec) if spec else {"type": "hf", "id": self.name}
        self.spec.setdefault("model_type", model.model_type)
        self.spec.setdefault("frames", self.default_frames)
        self.label_match: dict[str, Any] | None = None

    @classmethod
    def from_pretrained(cls, id_or_path: str, device: str | None = None) -> HFVideoScorer:
        from actionbias.models.hf_video import HFVideoClassifier

        model = HFVideoClassifier.from_pretrained(id_or_path, device=default_device(device))
        return cls(model, {"type": "hf", "id": id_or_path})

    def align_to(self, data_classes: Sequence[str]) -> dict[str, Any]:
        """Rename matched labels to the dataset's spelling; the match report (also logged)."""
        from actionbias.models.hf_video import match_labels

        match = match_labels(self.model.labels, data_classes)
        if match.matched == 0:
            raise BadInputError(
                f"none of the model's {len(self.model.labels)} labels (e.g. "
                f"{self.model.labels[0]!r}) names a class of the data (e.g. "
                f"{data_classes[0]!r})"
                if data_classes
                else "the data has no class list",
                source=self.name,
                where="id2label",
            )
        if match.model_only or match.data_only:
            log.warning(
                "%s: %d of %d labels match the data's classes; %d labels not in the data, "
                "%d data classes the model cannot name%s",
                self.name,
                match.matched,
                len(match.classes),
                len(match.model_only),
                len(match.data_only),
                f" (e.g. {match.data_only[0]!r}: their videos are left out)"
                if match.data_only
                else "",
            )
        self.classes = match.classes
        self.label_match = match.describe()
        return self.label_match

    def score(self, clips: list[np.ndarray]) -> np.ndarray:
        logits = self.model.logits(clips)
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        return exp / exp.sum(axis=1, keepdims=True)
