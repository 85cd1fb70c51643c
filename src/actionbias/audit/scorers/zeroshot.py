"""Zero-shot scorers over the run's label space: CLIP / SigLIP per frame, X-CLIP per clip.

Both score the class names as text, so their class list is whatever label space
the audit chose (`actionbias.audit.label_space`); the prompt modes are those of
the model string (`actionbias.audit.scorers.spec`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from actionbias.audit.mcq_prompt import display_name
from actionbias.audit.scorers.base import default_device
from actionbias.errors import BadInputError


class XCLIPScorer:
    """X-CLIP zero-shot over the run's class list (its label space), whole clips.

    Frames per clip default to the model's ``num_frames`` (its processor
    resizes and normalises); the class text is the raw label unless a template
    is given (``xclip:ID?prompts=a video of {}.``).
    """

    def __init__(
        self, model: Any, class_names: Sequence[str], spec: dict[str, Any] | None = None
    ) -> None:
        self.model = model
        self.class_names = list(class_names)
        self.default_frames = int(model.num_frames)
        self.name = str(model.name)
        self.spec = dict(spec) if spec else {"type": "xclip", "id": self.name}
        self.spec.setdefault("frames", self.default_frames)

    @classmethod
    def from_pretrained(
        cls,
        id_or_path: str,
        class_names: Sequence[str],
        device: str | None = None,
        prompts: str = "label",
    ) -> XCLIPScorer:
        from actionbias.models.hf_video import XCLIPZeroShot

        templates = ["{}"] if prompts == "label" else [prompts]
        model = XCLIPZeroShot.from_pretrained(id_or_path, default_device(device), templates)
        return cls(model, class_names, {"type": "xclip", "id": id_or_path, "prompts": prompts})

    def score(self, clips: list[np.ndarray]) -> np.ndarray:
        scores = np.asarray(self.model.class_scores(clips, self.class_names), dtype=np.float64)
        if scores.shape != (len(clips), len(self.class_names)):
            raise ValueError(
                f"X-CLIP scores of shape {scores.shape} for {len(clips)} clips and "
                f"{len(self.class_names)} classes"
            )
        return scores


def prompt_templates(prompts: str) -> list[str] | None:
    """Templates for a ``prompts`` mode: ``label`` -> ``["{}"]`` (the raw label, the
    paper's protocol), ``authors`` -> None (the model family's own templates), or
    the one template given."""
    if prompts == "label":
        return ["{}"]
    if prompts == "authors":
        return None
    if prompts.count("{}") != 1:
        raise BadInputError(
            f"prompts must be label, authors or a template with one {{}}, got {prompts!r}",
            where="--model",
        )
    return [prompts]


class ZeroShotScorer:
    """CLIP / SigLIP zero-shot over the run's class list (`ZeroShotVideoClassifier`).

    Class names are shown to the text encoder as written in the class list with
    underscores turned into spaces; built from a model string, the text is the
    raw label (``prompts=label``, the paper's protocol) unless ``prompts=authors``
    or a template is asked for; frame pooling is the model
    wrapper's (centre frame by default, as in the paper; the audit then decodes
    a single frame, the centre one, unless ``frames`` says otherwise). The
    wrapper caches the class text embeddings, so they are encoded once per run.
    """

    def __init__(
        self,
        model: Any,
        class_names: Sequence[str],
        spec: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        self.model = model
        self.class_names = list(class_names)
        self.prompt_names = [display_name(c) for c in self.class_names]
        self.spec = dict(spec) if spec else {"type": "clip", "id": type(model).__name__}
        self.name = name or str(self.spec.get("id"))
        # Centre-frame pooling reads one frame: decode only that one (the exact centre,
        # as in the paper) unless the caller asks for more frames.
        pooling = self.spec.get("pooling", getattr(model, "frame_pooling", "center"))
        self.default_frames = 1 if pooling == "center" else 8

    @classmethod
    def from_pretrained(
        cls,
        kind: str,
        id_or_path: str,
        class_names: Sequence[str],
        pooling: str = "center",
        device: str | None = None,
        templates: Sequence[str] | None = None,
        prompts: str = "label",
    ) -> ZeroShotScorer:
        """``prompts``: see `prompt_templates`; explicit ``templates`` take precedence."""
        from actionbias.models.zeroshot import ZeroShotVideoClassifier

        options: dict[str, Any] = {"frame_pooling": pooling, "device": default_device(device)}
        chosen = list(templates) if templates is not None else prompt_templates(prompts)
        if chosen is not None:
            options["templates"] = chosen
        model = ZeroShotVideoClassifier.from_pretrained(id_or_path, **options)
        spec: dict[str, Any] = {"type": kind, "id": id_or_path, "pooling": pooling}
        if templates is not None:
            spec["templates"] = list(templates)
        else:
            spec["prompts"] = prompts
        return cls(model, class_names, spec, name=id_or_path)

    def score(self, clips: list[np.ndarray]) -> np.ndarray:
        scores = self.model.class_scores(clips, self.prompt_names)
        if hasattr(scores, "detach"):
            scores = scores.detach().float().cpu().numpy()
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != (len(clips), len(self.class_names)):
            raise ValueError(
                f"zero-shot scores of shape {scores.shape} for {len(clips)} clips and "
                f"{len(self.class_names)} classes"
            )
        return scores
