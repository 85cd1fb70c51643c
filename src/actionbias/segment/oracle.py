"""The oracle backend: SynthAct's exact person masks instead of a model's guess.

SynthAct renders its actor with hard edges and stores, per clip,
``masks/{split}/{clip_id}.npz`` (``np.savez_compressed``, one bool ``T x H x W`` array
per mask name; ``"person"`` is the union of the body parts). Running every
counterfactual construction with these masks separates what a construction does
from what segmentation errors do: differences between oracle and mediapipe runs on
the same clips are due to the masks alone.

The record of a clip points at its mask file through ``record.extras`` (the first of
``mask_path``, ``masks``, ``mask_file``, ``masks_path`` that is present, or the key
given as ``extras_key``). When the clip was read with temporal sampling, pass the
source frame ``indices`` (``Clip.indices``) and the same frames are picked; when it was
read resized, the masks are resized to the frames (area interpolation, so the
result is the exact fraction of each output pixel covered by the person).
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from actionbias.errors import BadInputError
from actionbias.segment.backend import PersonSegmenter
from actionbias.segment.composite import select_frames

MASK_PATH_KEYS: tuple[str, ...] = ("mask_path", "masks", "mask_file", "masks_path")


def load_oracle_masks(
    npz_path: str | Path,
    indices: np.ndarray | None = None,
    key: str = "person",
) -> np.ndarray:
    """Read one mask of a SynthAct ``.npz`` as float32 ``T x H x W`` (values 0 or 1).

    ``indices`` (0-based source frame numbers) selects frames; out-of-range indices
    or a missing key raise `BadInputError` naming the file.
    """
    path = Path(npz_path)
    if not path.is_file():
        raise BadInputError("mask file not found", source=path)
    try:
        with np.load(path, allow_pickle=False) as data:
            if key not in data.files:
                raise BadInputError(
                    f"no mask named {key!r} (has: {', '.join(sorted(data.files))})",
                    source=path,
                )
            masks = data[key]
    except BadInputError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise BadInputError(f"not a readable mask archive: {err}", source=path) from err
    if masks.ndim != 3:
        raise BadInputError(f"mask {key!r} has shape {masks.shape}, expected T x H x W", path)
    masks = select_frames(masks, indices, path, "mask frames", where=f"mask {key!r}")
    if masks.dtype == np.bool_:
        return masks.astype(np.float32)
    return _as_float(masks, path)


def _as_float(masks: np.ndarray, path: Path) -> np.ndarray:
    if masks.dtype == np.uint8:
        return masks.astype(np.float32) / np.float32(255.0)
    if np.issubdtype(masks.dtype, np.floating):
        return np.clip(masks, 0.0, 1.0).astype(np.float32)
    raise BadInputError(f"unsupported mask dtype {masks.dtype}", source=path)


def mask_path_of(record: Any, extras_key: str | None = None) -> Path:
    """Where a record's oracle mask file is: a path, an extras mapping or a record."""
    if isinstance(record, (str, Path)):
        return Path(record)
    extras = record if isinstance(record, Mapping) else getattr(record, "extras", None)
    if not isinstance(extras, Mapping):
        raise BadInputError(
            "the oracle backend needs the clip's record (with extras naming its mask file)",
            source=getattr(record, "path", None),
        )
    keys = (extras_key,) if extras_key else MASK_PATH_KEYS
    for key in keys:
        if extras.get(key):
            return Path(str(extras[key]))
    raise BadInputError(
        f"record has no mask file in extras (looked for {', '.join(keys)})",
        source=getattr(record, "path", None),
    )


def resize_masks(masks: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize unit masks to ``height x width``; area interpolation when shrinking."""
    if masks.shape[1:] == (height, width):
        return masks
    shrink = height * width < masks.shape[1] * masks.shape[2]
    interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    out = np.empty((masks.shape[0], height, width), dtype=np.float32)
    for t, mask in enumerate(masks):
        out[t] = cv2.resize(mask, (width, height), interpolation=interp)
    return np.clip(out, 0.0, 1.0, out=out)


class OracleSegmenter(PersonSegmenter):
    """Exact masks read from SynthAct's per-clip ``.npz`` (see the module docstring)."""

    name = "oracle"

    def __init__(self, key: str = "person", extras_key: str | None = None) -> None:
        self.key = key
        self.extras_key = extras_key

    def options(self) -> dict[str, Any]:
        return {"key": self.key}

    def _segment(self, frames: np.ndarray, indices: np.ndarray | None, record: Any) -> np.ndarray:
        path = mask_path_of(record, self.extras_key)
        num, height, width = frames.shape[:3]
        if indices is None:
            indices = np.arange(num)
        elif len(indices) != num:
            raise ValueError(f"{len(indices)} indices for {num} frames")
        masks = load_oracle_masks(path, indices, self.key)
        mask_h, mask_w = masks.shape[1:]
        if (mask_h, mask_w) != (height, width):
            # A resize keeps the aspect ratio; a crop does not, and cannot be undone here.
            if abs(mask_w / mask_h - width / height) > 0.02 * (width / height):
                raise BadInputError(
                    f"masks are {mask_w}x{mask_h} but frames are {width}x{height} "
                    "(cropped read?); read the clip without crop for the oracle",
                    source=path,
                )
            masks = resize_masks(masks, height, width)
        return masks
