"""Sliding-window features from a Hugging Face video encoder (`tal features --model hf:ID`).

Any `transformers` model loadable with `AutoModel` whose output has
`last_hidden_state` works -- VideoMAE (`pixel_values`), V-JEPA 2
(`pixel_values_videos`) and their relatives: each window's clip goes through
the encoder and the token states are mean-pooled into one vector per window.
The windows, their order and the output layout are those of
`actionbias.tal.extract` (row i = the window starting at frame i * stride), so
`TALFeatureDataset` reads both alike.

The clip must look like the encoder's training input: its frame count (VideoMAE's
position table is fixed to `config.num_frames`), its resolution and its pixel
normalisation are read from the model config and, when the folder or cache holds
one, the (video) preprocessor config. Frames are resized straight to the crop
size rather than resized-then-centre-cropped (the extractor streams frames at
one fixed size); for the near-square SynthAct and THUMOS frames the two differ
little.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from actionbias.errors import BadInputError

PREFIX = "hf:"
# ImageNet statistics: what VideoMAE and V-JEPA 2 were trained with, used when no config says
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
PROCESSOR_FILES = ("video_preprocessor_config.json", "preprocessor_config.json")


@dataclass(frozen=True)
class HFInputSpec:
    """What the encoder expects of a clip; None where neither config says."""

    clip_frames: int | None
    size: tuple[int, int] | None
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


def is_hf_model(name: str) -> bool:
    return name.startswith(PREFIX)


class HFVideoFeatures(nn.Module):
    """Wraps a `transformers` video encoder: {"video": (B, 3, T, H, W)} -> (B, hidden)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        params = inspect.signature(model.forward).parameters
        self._input = "pixel_values_videos" if "pixel_values_videos" in params else "pixel_values"
        # V-JEPA 2 also runs its masked-prediction head unless told not to
        self._extra = {"skip_predictor": True} if "skip_predictor" in params else {}
        self.dim = int(model.config.hidden_size)

    def forward(self, batch: Mapping[str, Tensor]) -> Tensor:
        video = batch["video"].permute(0, 2, 1, 3, 4)  # B 3 T H W -> B T 3 H W
        out = self.model(**{self._input: video}, **self._extra)
        hidden = getattr(out, "last_hidden_state", None)
        if hidden is None:
            raise BadInputError(
                f"{type(self.model).__name__} output has no last_hidden_state; "
                "pick a video encoder (e.g. VideoMAEModel, VJEPA2Model)"
            )
        return hidden.float().mean(dim=1)


def _processor_config(name_or_path: str) -> dict[str, Any] | None:
    folder = Path(name_or_path)
    for filename in PROCESSOR_FILES:
        path = folder / filename
        if not path.is_file():
            try:  # a hub id already in the local cache (no download is attempted)
                from transformers.utils import cached_file

                found = cached_file(
                    name_or_path,
                    filename,
                    local_files_only=True,
                    _raise_exceptions_for_missing_entries=False,
                )
            except (OSError, ValueError, TypeError):
                found = None
            if not found:
                continue
            path = Path(found)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise BadInputError(f"unreadable processor config: {err}", source=path) from err
    return None


def _size(value: Any) -> tuple[int, int] | None:
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, Mapping):
        if value.get("height") and value.get("width"):
            return (int(value["height"]), int(value["width"]))
        if value.get("shortest_edge"):
            return (int(value["shortest_edge"]), int(value["shortest_edge"]))
    return None


def input_spec(config: Any, processor: Mapping[str, Any] | None) -> HFInputSpec:
    """Clip length, size and normalisation from the model config and the processor config."""
    processor = processor or {}
    size = _size(processor.get("crop_size")) or _size(processor.get("size"))
    if size is None:
        for key in ("image_size", "crop_size"):
            size = _size(getattr(config, key, None))
            if size is not None:
                break
    frames = getattr(config, "num_frames", None)
    mean = tuple(float(v) for v in processor.get("image_mean", IMAGENET_MEAN))
    std = tuple(float(v) for v in processor.get("image_std", IMAGENET_STD))
    if len(mean) != 3 or len(std) != 3:
        raise BadInputError("image_mean/image_std must have 3 values", where="processor config")
    return HFInputSpec(int(frames) if frames else None, size, mean, std)  # type: ignore[arg-type]


def load_hf_video_model(name: str) -> tuple[HFVideoFeatures, HFInputSpec]:
    """`hf:ID_OR_PATH` (or the bare id/path) -> the wrapped encoder and its input spec."""
    name_or_path = name[len(PREFIX) :] if is_hf_model(name) else name
    if not name_or_path:
        raise BadInputError("expected hf:MODEL_ID_OR_FOLDER", where="--model")
    try:
        from transformers import AutoModel
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise BadInputError("hf: models need transformers (pip install transformers)") from err
    try:
        model = AutoModel.from_pretrained(name_or_path)
    except (OSError, ValueError, KeyError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        message = f"cannot load a Hugging Face model: {first}"
        raise BadInputError(message, source=name_or_path) from err
    spec = input_spec(model.config, _processor_config(name_or_path))
    return HFVideoFeatures(model.eval()), spec
