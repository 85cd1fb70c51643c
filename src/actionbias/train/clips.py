"""One record -> the tensors a model reads: decode, mask, crop, composite, normalise.

The order is SlowFast's test-time preprocessing, applied to the mask in lock-step
with the pixels: sample ``num_frames`` frames (uniform = evenly spaced), resize the
short side, centre-crop a square, then normalise with mean/std on [0, 1] pixels.
Human-only clips are composited on the cropped uint8 frames (background set to 0 as
in the paper, or to a fill colour as in HAT) and then normalised exactly like the
video, which is the convention `actionbias.models` expects.

Decoding and compositing are split (`decode_record` / `model_inputs`) so that the
decoded uint8 arrays can be kept in memory and the cheap part redone every epoch
(scene swap draws, human-only, normalisation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch
from torch import Tensor

from actionbias.data import VideoRecord
from actionbias.errors import BadInputError
from actionbias.train.masks import MaskSource, fit_masks


@dataclass(frozen=True)
class ClipSpec:
    """Preprocessing of one clip (a picklable subset of `DataConfig`)."""

    num_frames: int = 8
    sampling: str = "uniform"
    stride: int = 1
    short_side: int | None = 256
    crop_size: int | None = 224
    mean: tuple[float, float, float] = (0.45, 0.45, 0.45)
    std: tuple[float, float, float] = (0.225, 0.225, 0.225)
    human_fill: str = "zero"
    human_fill_rgb: tuple[float, float, float] = (123.0, 116.0, 103.0)

    @classmethod
    def from_config(cls, data: Any) -> ClipSpec:
        """The spec of a config that holds these fields under the same names: a
        `DataConfig`, or any other (A2O's trial config has no ``human_fill*``: a field
        the config lacks keeps its default). Colours become tuples (YAML gives lists),
        so the spec stays hashable."""
        given = {f.name: getattr(data, f.name) for f in fields(cls) if hasattr(data, f.name)}
        for name in ("mean", "std", "human_fill_rgb"):
            if name in given:
                given[name] = tuple(given[name])
        return cls(**given)

    @property
    def resize_to(self) -> int | None:
        """Short side after resizing (the crop size when no short side is given)."""
        return self.short_side or self.crop_size

    def clip_bytes(self, with_mask: bool) -> int:
        """Memory of one decoded clip (uint8), for deciding whether a dataset fits in RAM."""
        short = self.crop_size or self.resize_to or 256
        # Without a crop the frame keeps its shape: guess a 16:9 landscape video.
        long = short if self.crop_size else round(short * 16 / 9)
        pixels = self.num_frames * short * long
        return pixels * (4 if with_mask else 3)


@dataclass
class DecodedClip:
    """Cropped uint8 frames ``T x H x W x 3`` and, when needed, uint8 masks ``T x H x W``."""

    frames: np.ndarray
    mask: np.ndarray | None


def decode_record(
    record: VideoRecord, spec: ClipSpec, masks: MaskSource | None = None
) -> DecodedClip:
    """Decode, resize and crop one record; load and align its person mask if asked.

    Raises `BadInputError` (`VideoReadError` for the media itself) for anything
    wrong with this one clip, so a loader can skip it and go on.
    """
    clip = read_spec_clip(record, spec)
    frames = clip.frames
    mask = None
    if masks is not None:
        unit = masks.load(record, clip.indices)
        if unit.shape[0] != frames.shape[0]:
            raise BadInputError(
                f"{unit.shape[0]} mask frames for {frames.shape[0]} video frames",
                source=record.path,
            )
        unit = fit_masks(unit, frames.shape[1], frames.shape[2], record.path)
        mask = np.rint(unit * 255.0).astype(np.uint8)
    if spec.crop_size is not None:
        top, left = crop_origin(frames.shape[1], frames.shape[2], spec.crop_size, record.path)
        box = (slice(top, top + spec.crop_size), slice(left, left + spec.crop_size))
        frames = frames[:, box[0], box[1]]
        if mask is not None:
            mask = mask[:, box[0], box[1]]
    return DecodedClip(
        np.ascontiguousarray(frames), None if mask is None else np.ascontiguousarray(mask)
    )


def read_spec_clip(record: VideoRecord, spec: ClipSpec) -> Any:
    """The record's frames sampled and resized as ``spec`` says (an `actionbias.video.Clip`),
    before the crop: the one decode every consumer of a `ClipSpec` shares."""
    from actionbias.video import read_clip

    return read_clip(
        record.path,
        num_frames=spec.num_frames,
        sampling=spec.sampling,
        stride=spec.stride,
        start=record.start,
        end=record.end,
        short_side=spec.resize_to,
    )


def crop_origin(height: int, width: int, size: int, source: str) -> tuple[int, int]:
    """Top-left corner of the centre crop; a frame smaller than the crop is bad input."""
    if height < size or width < size:
        raise BadInputError(f"frames {width}x{height} are smaller than the crop {size}", source)
    # Same rounding as actionbias.video.center_crop (the odd pixel goes bottom/right).
    return (height - size) // 2, (width - size) // 2


def normalise(frames: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> Tensor:
    """uint8 ``T x H x W x 3`` -> float ``3 x T x H x W``, ``(x / 255 - mean) / std``."""
    clip = torch.from_numpy(np.ascontiguousarray(frames)).permute(3, 0, 1, 2).float()
    clip.div_(255.0)
    m = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(3, 1, 1, 1)
    return clip.sub_(m).div_(s)


def human_frames(frames: np.ndarray, mask: np.ndarray, spec: ClipSpec) -> np.ndarray:
    """The human-only clip: pixels outside the person replaced by the fill colour."""
    from actionbias.segment import human_only

    return human_only(frames, mask, fill=spec.human_fill, mean_rgb=spec.human_fill_rgb)


def model_inputs(clip: DecodedClip, needs: Sequence[str], spec: ClipSpec) -> dict[str, Tensor]:
    """Exactly the batch keys in ``needs`` (``video``, ``human``, ``mask``) for one clip."""
    out: dict[str, Tensor] = {}
    if "video" in needs:
        out["video"] = normalise(clip.frames, spec.mean, spec.std)
    if "human" in needs or "mask" in needs:
        if clip.mask is None:
            raise ValueError("this model needs person masks but the clip was decoded without")
        if "human" in needs:
            out["human"] = normalise(
                human_frames(clip.frames, clip.mask, spec), spec.mean, spec.std
            )
        if "mask" in needs:
            out["mask"] = torch.from_numpy(clip.mask).float().div_(255.0).unsqueeze(0)
    return out
