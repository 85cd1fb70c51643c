"""Zero-shot action classification of video clips with CLIP, SigLIP and SigLIP 2.

Image-text models see single images, so a clip is reduced to one embedding:
either its centre frame (the default, and the protocol of the background-bias
paper's CLIP/SigLIP rows) or the mean of the L2-normalised embeddings of N
frames spread over the clip, renormalised so that the score stays a cosine.

Class names become prompts the way each model's authors evaluate it:

* CLIP: the 28 Kinetics-700 templates of the CLIP paper's prompt engineering
  (openai/CLIP ``data/prompts.md``). Each template's text embedding is
  L2-normalised, the templates are averaged and the mean renormalised
  ("ensembling in embedding space", so the cost is one embedding per class).
  Scores are ``logit_scale.exp() * cosine``: logits ready for a softmax over
  classes, because CLIP was trained with a softmax contrastive loss.
* SigLIP / SigLIP 2: the single template "This is a photo of {}." with text
  padded to 64 tokens (``padding="max_length"``), as in the model cards and the
  transformers zero-shot pipeline. The text tower was trained without a padding
  mask and pools the last position, so the padding length matters and no
  attention mask is passed (as in big_vision and open_clip). Scores are
  ``logit_scale.exp() * cosine + logit_bias``: per-class logits for a sigmoid
  (the SigLIP loss), not a softmax.

Everything runs under ``torch.inference_mode``; frames are encoded in batches,
and class text embeddings are cached per (class list, template list) because an
audit scores thousands of clips against the same classes.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from actionbias.errors import BadInputError

Family = Literal["clip", "siglip"]
FramePooling = Literal["center", "mean"]

# Kinetics-700 prompt templates of the CLIP paper (openai/CLIP, data/prompts.md).
CLIP_KINETICS700_TEMPLATES: tuple[str, ...] = (
    "a photo of {}.",
    "a photo of a person {}.",
    "a photo of a person using {}.",
    "a photo of a person doing {}.",
    "a photo of a person during {}.",
    "a photo of a person performing {}.",
    "a photo of a person practicing {}.",
    "a video of {}.",
    "a video of a person {}.",
    "a video of a person using {}.",
    "a video of a person doing {}.",
    "a video of a person during {}.",
    "a video of a person performing {}.",
    "a video of a person practicing {}.",
    "a example of {}.",
    "a example of a person {}.",
    "a example of a person using {}.",
    "a example of a person doing {}.",
    "a example of a person during {}.",
    "a example of a person performing {}.",
    "a example of a person practicing {}.",
    "a demonstration of {}.",
    "a demonstration of a person {}.",
    "a demonstration of a person using {}.",
    "a demonstration of a person doing {}.",
    "a demonstration of a person during {}.",
    "a demonstration of a person performing {}.",
    "a demonstration of a person practicing {}.",
)

# SigLIP / SigLIP 2 model cards and the transformers zero-shot pipeline.
SIGLIP_TEMPLATES: tuple[str, ...] = ("This is a photo of {}.",)
SIGLIP_TEXT_LENGTH = 64

_FAMILY_BY_MODEL_TYPE: dict[str, Family] = {"clip": "clip", "siglip": "siglip", "siglip2": "siglip"}


def default_templates(family: Family) -> tuple[str, ...]:
    """The prompt templates the model family's authors evaluate with."""
    return CLIP_KINETICS700_TEMPLATES if family == "clip" else SIGLIP_TEMPLATES


def model_family(model: torch.nn.Module) -> Family:
    """'clip' or 'siglip' from ``model.config.model_type``; ValueError otherwise."""
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    family = _FAMILY_BY_MODEL_TYPE.get(str(model_type))
    if family is None:
        raise ValueError(
            f"model type {model_type!r} is not a zero-shot image-text model this class "
            f"supports ({', '.join(sorted(_FAMILY_BY_MODEL_TYPE))})"
        )
    return family


def class_prompt_name(class_name: str) -> str:
    """Dataset label -> words for a prompt ('playing_guitar' -> 'playing guitar')."""
    return " ".join(class_name.replace("_", " ").split())


def resolve_dtype(dtype: torch.dtype | str | None) -> torch.dtype | None:
    """Accept torch dtypes and their names ('bfloat16', 'float16', 'fp32', ...)."""
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    aliases = {"fp32": "float32", "fp16": "float16", "half": "float16", "bf16": "bfloat16"}
    name = aliases.get(str(dtype).lower(), str(dtype).lower())
    value = getattr(torch, name, None)
    if not isinstance(value, torch.dtype) or not value.is_floating_point:
        raise ValueError(f"unknown floating-point dtype {dtype!r}")
    return value


def validate_clip(clip: Any, where: str = "clip 0") -> np.ndarray:
    """Check one clip is uint8 (T, H, W, 3) RGB with T >= 1 and return it.

    ``where`` starts the error message, so a caller names the clip the way its own
    callers know it (``clip 3`` of a batch, the ``frames`` argument of a chat call).
    """
    if not isinstance(clip, np.ndarray):
        raise ValueError(f"{where}: expected a numpy array, got {type(clip).__name__}")
    if clip.ndim != 4 or clip.shape[-1] != 3 or clip.shape[0] < 1:
        raise ValueError(f"{where}: expected shape (T, H, W, 3) with T >= 1, got {clip.shape}")
    if clip.dtype != np.uint8:
        raise ValueError(f"{where}: expected dtype uint8, got {clip.dtype}")
    return clip


def frame_indices(num_frames: int, pooling: FramePooling, pool_frames: int | None) -> list[int]:
    """Which frames of a clip of ``num_frames`` frames are embedded.

    'center' takes frame ``num_frames // 2``. 'mean' takes ``pool_frames`` frames at
    the centres of equal segments (all frames when ``pool_frames`` is None or not
    smaller than the clip), the usual uniform sampling of video evaluation.
    """
    if pooling == "center":
        return [num_frames // 2]
    if pool_frames is None or pool_frames >= num_frames:
        return list(range(num_frames))
    return [int((i + 0.5) * num_frames / pool_frames) for i in range(pool_frames)]


def _pooled(output: Any) -> torch.Tensor:
    """Projected embeddings from get_*_features (a tensor in transformers 4, an output in 5)."""
    if isinstance(output, torch.Tensor):
        return output
    pooled = getattr(output, "pooler_output", None)
    if pooled is None:
        raise TypeError(f"cannot find projected embeddings in {type(output).__name__}")
    return pooled


def _accepted(fn: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """Keep only the processor outputs that ``fn`` takes (SigLIP 2 adds masks and shapes)."""
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        # **kwargs swallow anything; pass only what models of this family read.
        known = {
            "input_ids",
            "attention_mask",
            "position_ids",
            "pixel_values",
            "pixel_attention_mask",
            "spatial_shapes",
        }
        return {k: v for k, v in inputs.items() if k in params or k in known}
    return {k: v for k, v in inputs.items() if k in params}


class ZeroShotVideoClassifier:
    """CLIP / SigLIP / SigLIP 2 as a zero-shot classifier of video clips.

    Build with ``from_pretrained(id_or_path)`` or directly from an in-memory
    model and processor (anything with ``.tokenizer`` and ``.image_processor``,
    e.g. ``CLIPProcessor``). ``class_scores(clips, class_names)`` returns (B, C)
    logits; ``probabilities`` turns them into softmax (CLIP) or per-class sigmoid
    (SigLIP) probabilities.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        processor: Any,
        *,
        templates: Sequence[str] | None = None,
        frame_pooling: FramePooling = "center",
        pool_frames: int | None = None,
        batch_size: int = 32,
        device: str | torch.device = "cpu",
        dtype: torch.dtype | str | None = None,
        name: str | None = None,
    ):
        self.family: Family = model_family(model)
        if frame_pooling not in ("center", "mean"):
            raise ValueError(f"frame_pooling must be 'center' or 'mean', got {frame_pooling!r}")
        if pool_frames is not None and pool_frames < 1:
            raise ValueError(f"pool_frames must be >= 1, got {pool_frames}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        chosen = tuple(templates) if templates is not None else default_templates(self.family)
        if not chosen:
            raise ValueError("templates must not be empty")
        for template in chosen:
            if template.count("{}") != 1:
                raise ValueError(f"template {template!r} must contain exactly one '{{}}'")
        self.templates: tuple[str, ...] = chosen
        self.frame_pooling: FramePooling = frame_pooling
        self.pool_frames = pool_frames
        self.batch_size = batch_size
        self.device = torch.device(device)
        self.dtype = resolve_dtype(dtype)
        self.name = name or str(getattr(model.config, "_name_or_path", "") or self.family)
        self.tokenizer = processor.tokenizer
        self.image_processor = processor.image_processor
        if self.dtype is not None:
            model = model.to(dtype=self.dtype)
        self.model = model.to(self.device).eval()
        self._text_cache: dict[tuple[tuple[str, ...], tuple[str, ...]], torch.Tensor] = {}

    @classmethod
    def from_pretrained(
        cls,
        id_or_path: str | Path,
        templates: Sequence[str] | None = None,
        frame_pooling: FramePooling = "center",
        device: str | torch.device = "cpu",
        dtype: torch.dtype | str | None = None,
        *,
        pool_frames: int | None = None,
        batch_size: int = 32,
    ) -> ZeroShotVideoClassifier:
        """Load a Hugging Face id or local folder (CLIP, SigLIP or SigLIP 2).

        ``dtype`` is a torch dtype or its name, None (float32) or "auto" (the
        checkpoint's dtype).
        """
        from transformers import AutoConfig, AutoModel, AutoProcessor

        source = str(id_or_path)
        try:
            config = AutoConfig.from_pretrained(source)
        except (OSError, ValueError) as err:
            raise BadInputError(f"cannot load a model config: {err}", source=source) from err
        if config.model_type not in _FAMILY_BY_MODEL_TYPE:
            raise BadInputError(
                f"model type {config.model_type!r} is not CLIP, SigLIP or SigLIP 2",
                source=source,
            )
        # "auto" keeps the checkpoint's own dtype (e.g. bfloat16 weights stay bfloat16)
        torch_dtype = None if dtype == "auto" else resolve_dtype(dtype)
        model = AutoModel.from_pretrained(source, dtype="auto" if dtype == "auto" else torch_dtype)
        processor = AutoProcessor.from_pretrained(source)
        return cls(
            model,
            processor,
            templates=templates,
            frame_pooling=frame_pooling,
            pool_frames=pool_frames,
            batch_size=batch_size,
            device=device,
            dtype=torch_dtype,
            name=source,
        )

    # ------------------------------------------------------------------ text
    @property
    def score_kind(self) -> Literal["softmax", "sigmoid"]:
        """How the scores become probabilities: softmax for CLIP, sigmoid for SigLIP."""
        return "softmax" if self.family == "clip" else "sigmoid"

    def prompts(self, class_name: str) -> list[str]:
        """Every prompt of one class, in template order."""
        words = class_prompt_name(class_name)
        return [template.format(words) for template in self.templates]

    def _text_inputs(self, texts: list[str]) -> dict[str, Any]:
        if self.family == "siglip":
            limit = getattr(self.model.config.text_config, "max_position_embeddings", None)
            length = min(SIGLIP_TEXT_LENGTH, limit) if limit else SIGLIP_TEXT_LENGTH
            return self.tokenizer(
                texts,
                padding="max_length",
                max_length=length,
                truncation=True,
                return_tensors="pt",
            )
        limit = getattr(self.model.config.text_config, "max_position_embeddings", 77)
        return self.tokenizer(
            texts, padding=True, truncation=True, max_length=limit, return_tensors="pt"
        )

    @torch.inference_mode()
    def encode_texts(self, texts: Sequence[str]) -> torch.Tensor:
        """L2-normalised float32 text embeddings (N, D), on the model's device."""
        chunks = []
        for start in range(0, len(texts), self.batch_size):
            batch = self._text_inputs(list(texts[start : start + self.batch_size]))
            if self.family == "siglip":
                # SigLIP's text tower was trained without a padding mask (pad = eos,
                # attended like any token, last position pooled): feed it the same way.
                batch = {"input_ids": batch["input_ids"]}
            batch = {k: v.to(self.device) for k, v in batch.items()}
            out = self.model.get_text_features(**_accepted(self.model.get_text_features, batch))
            chunks.append(torch.nn.functional.normalize(_pooled(out).float(), dim=-1))
        return torch.cat(chunks)

    def encode_classes(self, class_names: Sequence[str]) -> torch.Tensor:
        """One L2-normalised embedding per class (C, D): the renormalised template mean.

        Cached per (class list, templates), so an audit encodes its classes once.
        """
        names = tuple(class_names)
        if not names:
            raise ValueError("class_names must not be empty")
        key = (names, self.templates)
        cached = self._text_cache.get(key)
        if cached is not None:
            return cached
        prompts = [prompt for name in names for prompt in self.prompts(name)]
        per_prompt = self.encode_texts(prompts).view(len(names), len(self.templates), -1)
        embeddings = torch.nn.functional.normalize(per_prompt.mean(dim=1), dim=-1)
        self._text_cache[key] = embeddings
        return embeddings

    # ---------------------------------------------------------------- images
    def _image_inputs(self, frames: list[np.ndarray]) -> dict[str, Any]:
        batch = self.image_processor(
            images=frames, input_data_format="channels_last", return_tensors="pt"
        )
        moved: dict[str, Any] = {}
        for key, value in batch.items():
            if isinstance(value, torch.Tensor):
                value = value.to(self.device)
                if value.is_floating_point():
                    value = value.to(self.model.dtype)
            moved[key] = value
        return moved

    @torch.inference_mode()
    def encode_frames(self, frames: Sequence[np.ndarray]) -> torch.Tensor:
        """L2-normalised float32 embeddings (N, D) of single RGB uint8 (H, W, 3) frames."""
        chunks = []
        for start in range(0, len(frames), self.batch_size):
            batch = self._image_inputs(list(frames[start : start + self.batch_size]))
            out = self.model.get_image_features(**_accepted(self.model.get_image_features, batch))
            chunks.append(torch.nn.functional.normalize(_pooled(out).float(), dim=-1))
        return torch.cat(chunks)

    def encode_clips(self, clips: Sequence[np.ndarray]) -> torch.Tensor:
        """One L2-normalised embedding per clip (B, D), pooled as configured."""
        if len(clips) == 0:
            raise ValueError("clips must not be empty")
        frames: list[np.ndarray] = []
        owners: list[int] = []
        for index, clip in enumerate(clips):
            clip = validate_clip(clip, f"clip {index}")
            for frame_index in frame_indices(clip.shape[0], self.frame_pooling, self.pool_frames):
                frames.append(clip[frame_index])
                owners.append(index)
        embeddings = self.encode_frames(frames)
        owner = torch.tensor(owners, device=embeddings.device)
        summed = torch.zeros(len(clips), embeddings.shape[1], device=embeddings.device)
        summed.index_add_(0, owner, embeddings)
        counts = torch.bincount(owner, minlength=len(clips)).unsqueeze(1).float()
        return torch.nn.functional.normalize(summed / counts, dim=-1)

    # ---------------------------------------------------------------- scores
    def logit_parameters(self) -> tuple[float, float]:
        """(scale, bias) applied to cosines; bias is 0 for CLIP."""
        scale = float(self.model.logit_scale.detach().float().exp().item())
        bias = 0.0
        if self.family == "siglip":
            bias = float(self.model.logit_bias.detach().float().item())
        return scale, bias

    @torch.inference_mode()
    def class_scores(self, clips: Sequence[np.ndarray], class_names: Sequence[str]) -> np.ndarray:
        """(B, C) float32 logits of every clip against every class, in the given order."""
        text = self.encode_classes(class_names)
        image = self.encode_clips(clips)
        scale, bias = self.logit_parameters()
        logits = scale * image @ text.T + bias
        return logits.cpu().numpy().astype(np.float32)

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Scores -> probabilities the way the model was trained (softmax or sigmoid)."""
        values = np.asarray(scores, dtype=np.float64)
        if self.score_kind == "sigmoid":
            return 1.0 / (1.0 + np.exp(-values))
        shifted = values - values.max(axis=-1, keepdims=True)
        exp = np.exp(shifted)
        return exp / exp.sum(axis=-1, keepdims=True)

    def __repr__(self) -> str:
        return (
            f"ZeroShotVideoClassifier(name={self.name!r}, family={self.family!r}, "
            f"templates={len(self.templates)}, frame_pooling={self.frame_pooling!r}, "
            f"device={str(self.device)!r})"
        )
