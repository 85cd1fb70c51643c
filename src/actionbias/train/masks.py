"""Where a clip's person mask comes from: SynthAct's exact masks, HAT ``seg/``, or the cache.

Three sources, one answer: float32 ``T x H x W`` masks in [0, 1] for exactly the
source frames a clip was sampled from (``Clip.indices``), at the source's own
resolution. The caller resizes and crops them together with the frames, so the
mask and the pixels never disagree about geometry.

* ``oracle`` — the ``.npz`` named by ``record.extras["mask_path"]`` (SynthAct);
* ``hat`` — the grayscale PNG folder ``record.extras["seg_dir"]`` (HAT's layout,
  also written by SynthAct); only the sampled frames are decoded;
* ``cache`` — an `actionbias.segment.MaskCache` filled beforehand by
  ``actionbias segment`` (mediapipe or another backend).

``auto`` picks per record: oracle if the record has a mask file, else the cache if
one is configured, else HAT ``seg/``. A missing or unreadable mask is a
`BadInputError` for that clip only: the data pipeline skips and counts it like a
broken video.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from actionbias.data import VideoRecord
from actionbias.errors import BadInputError

MASK_SOURCES = ("auto", "oracle", "hat", "cache", "none")

_NPY_LOCK = threading.Lock()
"""Serialises ``np.load`` of ``.npz`` masks across preloading threads: numpy parses
each member's header with ``ast.literal_eval``, and concurrent ``ast`` parsing
fails at random in CPython 3.11 before 3.11.8 ("AST constructor recursion depth
mismatch", python/cpython#106905). Mask files are small; decoding stays parallel."""


class MaskSource:
    """Loads person masks for records; build once per dataset, call per clip.

    Picklable (DataLoader workers get a copy): the segmentation backend, which is
    only needed for its cache key, is resolved in the constructor.
    """

    def __init__(
        self,
        kind: str = "auto",
        cache_root: str | Path | None = None,
        backend: str = "mediapipe",
        backend_options: dict[str, Any] | None = None,
    ) -> None:
        if kind not in MASK_SOURCES:
            raise BadInputError(
                f"unknown mask source {kind!r}; choose from {', '.join(MASK_SOURCES)}",
                where="field data.masks",
            )
        self.kind = kind
        self.cache_root = str(cache_root) if cache_root else None
        self.backend = backend
        self._cache_key: tuple[str, dict[str, Any]] | None = None
        if self.cache_root and kind in ("auto", "cache"):
            self._cache_key = _backend_key(backend, backend_options or {})

    def describe(self, record: VideoRecord) -> str | None:
        """Which source `load` would use for ``record``, or None when it has none."""
        extras = record.extras
        if self.kind in ("oracle", "auto") and extras.get("mask_path"):
            return "oracle"
        if self.kind in ("cache", "auto") and self._cache_key is not None:
            return "cache"
        if self.kind in ("hat", "auto") and extras.get("seg_dir"):
            return "hat"
        return None

    def load(self, record: VideoRecord, indices: np.ndarray) -> np.ndarray:
        """Masks of the source frames ``indices`` (0-based), float32 ``T x H x W``."""
        kind = self.describe(record)
        if kind is None:
            raise BadInputError(
                f"no person mask for this clip (mask source {self.kind!r}: the record has "
                "no mask_path/seg_dir and no mask cache is configured)",
                source=record.path,
            )
        indices = np.asarray(indices, dtype=np.int64)
        if kind == "hat":
            return _hat_masks(record.extras["seg_dir"], indices)
        with _NPY_LOCK:
            if kind == "oracle":
                from actionbias.segment import load_oracle_masks

                return load_oracle_masks(record.extras["mask_path"], indices)
            return self._cached(record, indices)

    def _cached(self, record: VideoRecord, indices: np.ndarray) -> np.ndarray:
        from actionbias.segment import MaskCache

        assert self._cache_key is not None and self.cache_root is not None
        name, options = self._cache_key
        cache = MaskCache(self.cache_root)
        entry = cache.load(record.path, name, options, start=record.start, end=record.end)
        if entry is None:
            where = cache.path_for(record.path, name, options, start=record.start, end=record.end)
            raise BadInputError(
                f"no cached {name} masks (expected {where}; run `actionbias segment` first)",
                source=record.path,
            )
        position = {int(i): p for p, i in enumerate(entry.indices)}
        missing = [int(i) for i in indices if int(i) not in position]
        if missing:
            raise BadInputError(
                f"cached masks lack source frame {missing[0]}", source=entry.path or record.path
            )
        picked = entry.masks[[position[int(i)] for i in indices]]
        return picked.astype(np.float32) / np.float32(255.0)


def _backend_key(backend: str, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The (name, options) a backend stores its cache entries under.

    Building the backend is the only way to get its canonical options (defaults
    filled in, library version included); it happens once, in the main process.
    """
    from actionbias.segment import build_segmenter

    try:
        segmenter = build_segmenter(backend, **options)
    except (ValueError, TypeError) as err:
        raise BadInputError(str(err), where="field data.mask_backend") from None
    except ImportError as err:
        raise BadInputError(
            f"cannot use cached {backend} masks: {err}", where="field data.mask_backend"
        ) from None
    try:
        return segmenter.name, segmenter.options()
    finally:
        segmenter.close()


def _hat_masks(seg_dir: str, indices: np.ndarray) -> np.ndarray:
    """The sampled frames of a HAT ``seg/`` folder (0-255 grayscale, > 128 = human)."""
    from actionbias.video import list_frame_files

    folder = Path(seg_dir)
    if not folder.is_dir():
        raise BadInputError("HAT mask folder not found", source=folder)
    files = list_frame_files(folder)
    masks = []
    for index in indices:
        if not 0 <= index < len(files):
            raise BadInputError(
                f"frame {int(index)} has no mask ({len(files)} mask frames)", source=folder
            )
        image = cv2.imread(os.fspath(files[index]), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise BadInputError("unreadable mask image", source=files[index])
        masks.append(image)
    return np.stack(masks).astype(np.float32) / np.float32(255.0)


def fit_masks(masks: np.ndarray, height: int, width: int, source: str) -> np.ndarray:
    """Resize source-resolution masks to the decoded frames (area-averaged when shrinking).

    The frames were resized keeping their aspect ratio; masks of another aspect
    belong to another crop of the video and cannot be aligned, so they are refused.
    """
    mh, mw = masks.shape[1:]
    if (mh, mw) == (height, width):
        return masks
    if abs(mw / mh - width / height) > 0.02 * (width / height):
        raise BadInputError(
            f"masks are {mw}x{mh} but the video is {width}x{height} (another aspect ratio)",
            source=source,
        )
    interp = cv2.INTER_AREA if height * width < mh * mw else cv2.INTER_LINEAR
    out = np.empty((masks.shape[0], height, width), dtype=np.float32)
    for t, mask in enumerate(masks):
        out[t] = cv2.resize(mask, (width, height), interpolation=interp)
    return np.clip(out, 0.0, 1.0, out=out)
