"""Hugging Face video classifiers (VideoMAE, TimeSformer, ViViT, ...) for audits.

``HFVideoClassifier.from_pretrained(id_or_folder)`` loads any checkpoint that
`transformers.AutoModelForVideoClassification` knows, together with the
model's own image processor (`AutoImageProcessor`): its resize, centre crop,
rescale and mean/std are exactly those of the checkpoint's
``preprocessor_config.json``, and its frame count is the model config's
``num_frames`` (VideoMAE 16, TimeSformer 8, ViViT 32 for the Kinetics
checkpoints; the position tables are sized for it). A clip with another
number of frames is resampled uniformly to that count.

The class names are the config's ``id2label``; `match_labels` maps them onto a
dataset's classes by normalised name (case, underscores, spacing, parentheses
and quotes ignored) and says which labels found no partner.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from actionbias.errors import BadInputError
from actionbias.video.sampling import sample_indices

log = logging.getLogger(__name__)

_PLACEHOLDER_LABEL = re.compile(r"^LABEL_\d+$")
_LOOSE = re.compile(r"[\s_()\"']+")


def load_config(source: str) -> Any:
    """The checkpoint's `transformers` config, or a one-line `BadInputError` saying why not.

    Both wrappers read the config before the weights, so a wrong id, a folder
    without ``config.json`` or an unknown model type fails before a download.
    """
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(source)
    except (OSError, ValueError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise BadInputError(f"cannot load a model config: {reason}", source=source) from err


def label_key(name: str) -> str:
    """A lenient comparison key for class names: case, ``_``, spaces, parentheses, quotes."""
    return _LOOSE.sub(" ", str(name)).strip().casefold()


@dataclass
class LabelMatch:
    """How a model's labels map onto a dataset's classes."""

    classes: list[str]  # the model's labels in model order, dataset spelling where matched
    matched: int
    model_only: list[str] = field(default_factory=list)  # model labels with no dataset class
    data_only: list[str] = field(default_factory=list)  # dataset classes no label names

    def describe(self, examples: int = 20) -> dict[str, Any]:
        """What the run config records (long lists cut to ``examples`` names)."""
        return {
            "model_labels": len(self.classes),
            "matched": self.matched,
            "model_labels_not_in_data": len(self.model_only),
            "model_labels_not_in_data_examples": self.model_only[:examples],
            "data_classes_not_in_model": self.data_only,
        }


def match_labels(labels: Sequence[str], data_classes: Sequence[str]) -> LabelMatch:
    """Rename each model label to the dataset class with the same normalised name.

    A dataset class claimed by two labels goes to the first; the other keeps
    its own spelling (and is reported as unmatched), so the result never holds
    one name twice.
    """
    by_key: dict[str, str] = {}
    for name in data_classes:
        by_key.setdefault(label_key(name), name)
    used: set[str] = set()
    classes: list[str] = []
    model_only: list[str] = []
    for index, label in enumerate(labels):
        target = by_key.get(label_key(label))
        if target is not None and target not in used:
            used.add(target)
            classes.append(target)
            continue
        model_only.append(label)
        name = label
        if name in used or name in by_key.values():
            name = f"{label} #{index}"
        used.add(name)
        classes.append(name)
    data_only = [name for name in data_classes if name not in used]
    return LabelMatch(classes, len(labels) - len(model_only), model_only, data_only)


class _FixedLengthClips:
    """A Hugging Face video model, its processor, and clips resampled to the model's length.

    Both wrappers read ``num_frames`` frames per clip; a clip of another length is
    resampled uniformly, with one warning per model.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        processor: Any,
        device: str | torch.device,
        name: str | None,
        *,
        num_frames: int,
        default_name: str,
    ):
        self.num_frames = num_frames
        self.processor = processor
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.name = name or str(getattr(model.config, "_name_or_path", "") or default_name)
        self._warned = False

    def _on_model(self, pixels: torch.Tensor) -> torch.Tensor:
        """Processor output on the model's device and in its dtype."""
        return pixels.to(self.device, dtype=next(self.model.parameters()).dtype)

    def _videos(self, clips: Sequence[np.ndarray]) -> list[list[np.ndarray]]:
        videos = []
        for index, clip in enumerate(clips):
            if not isinstance(clip, np.ndarray) or clip.ndim != 4 or clip.shape[-1] != 3:
                shape = getattr(clip, "shape", None)
                raise ValueError(f"clip {index}: expected (T, H, W, 3) uint8, got {shape}")
            if clip.shape[0] != self.num_frames:
                if not self._warned:
                    log.warning(
                        "%s takes %d frames; clips of %d frames are resampled uniformly",
                        self.name,
                        self.num_frames,
                        clip.shape[0],
                    )
                    self._warned = True
                clip = clip[sample_indices(clip.shape[0], self.num_frames, "uniform")]
            videos.append(list(clip))
        return videos


class HFVideoClassifier(_FixedLengthClips):
    """A `transformers` video classifier and its processor: clips -> logits over id2label."""

    def __init__(
        self,
        model: torch.nn.Module,
        processor: Any,
        device: str | torch.device = "cpu",
        name: str | None = None,
    ):
        config = model.config
        count = int(getattr(config, "num_labels", 0) or len(getattr(config, "id2label", {})))
        id2label = {int(k): str(v) for k, v in (getattr(config, "id2label", None) or {}).items()}
        self.labels = [id2label.get(i, f"LABEL_{i}") for i in range(count)]
        if not self.labels or all(_PLACEHOLDER_LABEL.match(x) for x in self.labels):
            raise BadInputError(
                "the model has no class names (id2label is empty or LABEL_0, LABEL_1, ...): "
                "a fine-tuned video classifier is needed",
                source=name,
            )
        self.model_type = str(getattr(config, "model_type", type(model).__name__))
        super().__init__(
            model,
            processor,
            device,
            name,
            num_frames=int(getattr(config, "num_frames", 0) or 16),
            default_name=self.model_type,
        )

    @classmethod
    def from_pretrained(
        cls, id_or_path: str | Path, device: str | torch.device = "cpu"
    ) -> HFVideoClassifier:
        """Load a Hugging Face id or local folder with its own image processor."""
        from transformers import AutoImageProcessor, AutoModelForVideoClassification

        source = str(id_or_path)
        config = load_config(source)
        try:
            model = AutoModelForVideoClassification.from_pretrained(source)
        except ValueError as err:
            raise BadInputError(
                f"model type {config.model_type!r} is not a video classifier "
                "(AutoModelForVideoClassification: VideoMAE, TimeSformer, ViViT, ...)",
                source=source,
            ) from err
        try:
            processor = AutoImageProcessor.from_pretrained(source)
        except (OSError, ValueError) as err:
            raise BadInputError(
                "no image processor beside the model (preprocessor_config.json)", source=source
            ) from err
        return cls(model, processor, device=device, name=source)

    def _pixels(self, clips: Sequence[np.ndarray]) -> torch.Tensor:
        batch = self.processor(self._videos(clips), return_tensors="pt")
        return self._on_model(batch["pixel_values"])

    @torch.inference_mode()
    def logits(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        """(B, num_labels) float64 logits, in id2label order."""
        if len(clips) == 0:
            raise ValueError("clips must not be empty")
        out = self.model(pixel_values=self._pixels(clips))
        return out.logits.float().cpu().numpy().astype(np.float64)

    def __repr__(self) -> str:
        return (
            f"HFVideoClassifier(name={self.name!r}, type={self.model_type!r}, "
            f"labels={len(self.labels)}, frames={self.num_frames})"
        )


class XCLIPZeroShot(_FixedLengthClips):
    """X-CLIP (``XCLIPModel``) as a zero-shot video classifier: clips x class texts -> logits.

    X-CLIP encodes the whole clip (its ``num_frames`` frames, through its own
    processor) and conditions each class text on the video (its prompt
    generator), so the logits come from one forward pass over the clips and all
    class texts together. The text of a class is the raw label (underscores as
    spaces) unless ``templates`` say otherwise.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        processor: Any,
        device: str | torch.device = "cpu",
        name: str | None = None,
        templates: Sequence[str] = ("{}",),
        text_batch: int = 512,
    ):
        for template in templates:
            if template.count("{}") != 1:
                raise ValueError(f"template {template!r} must contain exactly one '{{}}'")
        self.templates = tuple(templates)
        vision = getattr(model.config, "vision_config", None)
        super().__init__(
            model,
            processor,
            device,
            name,
            num_frames=int(getattr(vision, "num_frames", 0) or 8),
            default_name="xclip",
        )
        self.text_batch = text_batch

    @classmethod
    def from_pretrained(
        cls,
        id_or_path: str | Path,
        device: str | torch.device = "cpu",
        templates: Sequence[str] = ("{}",),
    ) -> XCLIPZeroShot:
        from transformers import AutoProcessor, XCLIPModel

        source = str(id_or_path)
        config = load_config(source)
        if config.model_type != "xclip":
            raise BadInputError(
                f"model type {config.model_type!r} is not X-CLIP (xclip)", source=source
            )
        model = XCLIPModel.from_pretrained(source)
        try:
            processor = AutoProcessor.from_pretrained(source)
        except (OSError, ValueError) as err:
            raise BadInputError("no processor beside the X-CLIP model", source=source) from err
        return cls(model, processor, device=device, name=source, templates=templates)

    def texts(self, class_names: Sequence[str]) -> list[str]:
        """One text per class (the templates are averaged over by their logits)."""
        words = [" ".join(str(n).replace("_", " ").split()) for n in class_names]
        return [template.format(w) for w in words for template in self.templates]

    @torch.inference_mode()
    def class_scores(self, clips: Sequence[np.ndarray], class_names: Sequence[str]) -> np.ndarray:
        """(B, C) float64 logits (``logits_per_video``), templates averaged per class."""
        if len(clips) == 0:
            raise ValueError("clips must not be empty")
        texts = self.texts(class_names)
        batch = self.processor(videos=self._videos(clips), return_tensors="pt")
        pixels = self._on_model(batch["pixel_values"])
        chunks = []
        for start in range(0, len(texts), self.text_batch):
            tokens = self.processor.tokenizer(
                texts[start : start + self.text_batch],
                padding=True,
                truncation=True,
                return_tensors="pt",
            )
            out = self.model(
                input_ids=tokens["input_ids"].to(self.device),
                attention_mask=tokens["attention_mask"].to(self.device),
                pixel_values=pixels,
            )
            chunks.append(out.logits_per_video.float().cpu())
        logits = torch.cat(chunks, dim=1).view(len(clips), len(class_names), len(self.templates))
        return logits.mean(dim=2).numpy().astype(np.float64)
