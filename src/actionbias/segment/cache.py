"""On-disk cache of per-video person masks, and the resumable, shardable run over videos.

Segmenting a dataset is the slow step of every counterfactual construction, and the
same masks serve human-only, background-only and swap videos, so they are computed
once and kept:

* key = (resolved video path, backend name, backend options, read window): one
  SHA-1 over their canonical JSON. The file lives at
  ``root/<backend>/<video stem>-<first 16 hex digits>.npz`` — the stem is only there
  so a person can find a file; the hash decides. The full key is stored inside and
  checked on load, so a hash-prefix collision or a foreign file is never served.
* content: ``masks`` (uint8 0-255 quantised soft masks, ``T x H x W``), ``indices``
  (source frame numbers), ``has_person`` (per-frame bool), ``area`` (per-frame human
  fraction) and ``meta`` (JSON). Compressed with ``np.savez_compressed``: masks are
  mostly 0 and 255, so they shrink ~20-50x.
* writes are atomic: a temporary file in the same directory, ``fsync``, then
  ``os.replace``. A killed run leaves either the old complete file or none, so
  "the cache file exists" is a safe "this video is done" for resuming.

A run over a dataset (`segment_videos`) takes the shard ``(i, n)`` it owns
(`shard_items`), skips every video whose cache file exists, and counts — never
raises on — videos it cannot decode or segment.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from actionbias import argtypes
from actionbias.errors import BadInputError
from actionbias.fileio import atomic_open
from actionbias.segment.backend import PersonSegmenter
from actionbias.segment.masks import (
    DEFAULT_MIN_PERSON_AREA,
    as_byte_masks,
    as_unit_masks,
    person_area,
)

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
T = TypeVar("T")


# ----------------------------------------------------------------------------- sharding


def shard_items(items: Sequence[T], shard_index: int, num_shards: int) -> list[T]:
    """The items shard ``shard_index`` (0-based) of ``num_shards`` owns: ``items[i::n]``.

    Round-robin over the given order, so every item lands in exactly one shard and
    shard sizes differ by at most one. All workers must pass the same list in the
    same order (e.g. the same manifest file).
    """
    if num_shards < 1:
        raise BadInputError(f"number of shards must be >= 1, got {num_shards}", where="shard")
    if not 0 <= shard_index < num_shards:
        raise BadInputError(
            f"shard index must be in [0, {num_shards - 1}], got {shard_index}", where="shard"
        )
    return list(items)[shard_index::num_shards]


def parse_shard(text: str) -> tuple[int, int]:
    """Parse ``"i/n"`` (0-based shard i of n), the command-line form of a shard.

    The library form of `actionbias.argtypes.shard` (the ``--shard`` flags' type):
    a bad value is a `BadInputError` naming the shard.
    """
    try:
        return argtypes.shard(text)
    except argparse.ArgumentTypeError as err:
        raise BadInputError(str(err), where="shard") from None


# -------------------------------------------------------------------------------- cache


@dataclass
class CachedMasks:
    """Masks of one video as stored: uint8 0-255 plus per-frame person bookkeeping."""

    masks: np.ndarray  # uint8 T x H x W
    indices: np.ndarray  # int64 (T,) source frame numbers
    has_person: np.ndarray  # bool (T,)
    area: np.ndarray  # float32 (T,) human fraction of each frame
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def unit(self) -> np.ndarray:
        """Float32 masks in [0, 1]."""
        return as_unit_masks(self.masks)

    @property
    def num_frames(self) -> int:
        return int(self.masks.shape[0])

    @property
    def frames_without_person(self) -> int:
        return int((~self.has_person).sum())


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def _stem(video: str) -> str:
    name = Path(video.rstrip("/\\")).name
    stem = Path(name).stem if Path(name).suffix else name
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:80] or "video"


class MaskCache:
    """Per-video mask files under ``root`` (see the module docstring for the layout).

    ``min_area`` is the human fraction of a frame below which the frame counts as
    "no person"; it is stored with each entry.
    """

    def __init__(self, root: str | Path, min_area: float = DEFAULT_MIN_PERSON_AREA) -> None:
        self.root = Path(root)
        self.min_area = float(min_area)

    @staticmethod
    def key_fields(
        video: str | Path, backend: str, options: dict[str, Any], **extra: Any
    ) -> dict[str, Any]:
        """The identity of an entry; ``extra`` holds e.g. the read window (start/end)."""
        fields: dict[str, Any] = {
            "video": os.path.realpath(os.fspath(video)),
            "backend": backend,
            "options": options,
        }
        fields.update({k: v for k, v in extra.items() if v is not None})
        return fields

    def path_for(
        self, video: str | Path, backend: str, options: dict[str, Any], **extra: Any
    ) -> Path:
        fields = self.key_fields(video, backend, options, **extra)
        digest = hashlib.sha1(_canonical(fields).encode("utf-8")).hexdigest()
        safe_backend = re.sub(r"[^A-Za-z0-9._-]+", "_", backend)
        return self.root / safe_backend / f"{_stem(os.fspath(video))}-{digest[:16]}.npz"

    def exists(
        self, video: str | Path, backend: str, options: dict[str, Any], **extra: Any
    ) -> bool:
        return self.path_for(video, backend, options, **extra).is_file()

    def load(
        self, video: str | Path, backend: str, options: dict[str, Any], **extra: Any
    ) -> CachedMasks | None:
        """The cached entry, or None when absent, unreadable or keyed differently."""
        path = self.path_for(video, backend, options, **extra)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                entry = CachedMasks(
                    masks=data["masks"],
                    indices=data["indices"],
                    has_person=data["has_person"],
                    area=data["area"],
                    meta=meta,
                    path=path,
                )
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as err:
            log.warning("ignoring unreadable mask cache file %s: %s", path, err)
            return None
        expected = json.loads(_canonical(self.key_fields(video, backend, options, **extra)))
        if meta.get("key") != expected:
            log.warning("ignoring mask cache file %s: it belongs to another key", path)
            return None
        return entry

    def save(
        self,
        video: str | Path,
        backend: str,
        options: dict[str, Any],
        masks: np.ndarray,
        indices: np.ndarray | None = None,
        **extra: Any,
    ) -> CachedMasks:
        """Quantise ``masks`` to uint8, compute person bookkeeping, write atomically."""
        byte_masks = as_byte_masks(masks)
        num = byte_masks.shape[0]
        idx = np.arange(num, dtype=np.int64) if indices is None else np.asarray(indices, np.int64)
        if idx.shape != (num,):
            raise ValueError(f"indices has shape {idx.shape}, expected ({num},)")
        area = person_area(byte_masks).astype(np.float32)
        present = area >= self.min_area
        meta = {
            "format": CACHE_FORMAT,
            "key": json.loads(_canonical(self.key_fields(video, backend, options, **extra))),
            "num_frames": num,
            "height": int(byte_masks.shape[1]),
            "width": int(byte_masks.shape[2]),
            "min_area": self.min_area,
            "frames_without_person": int((~present).sum()),
        }
        path = self.path_for(video, backend, options, **extra)
        atomic_save_npz(
            path,
            masks=byte_masks,
            indices=idx,
            has_person=present,
            area=area,
            meta=np.array(json.dumps(meta, sort_keys=True)),
        )
        return CachedMasks(byte_masks, idx, present, area, meta, path)


def atomic_save_npz(path: str | Path, **arrays: np.ndarray) -> Path:
    """``np.savez_compressed`` written atomically (see `actionbias.fileio`)."""
    with atomic_open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)
    return Path(path)


# ------------------------------------------------------------------------------ the run


@dataclass
class SegmentStats:
    """What a `segment_videos` run did; the numbers a report needs."""

    videos: int = 0  # in this shard
    computed: int = 0
    reused: int = 0  # cache file already there (resume)
    failed: int = 0
    frames: int = 0  # frames of computed + reused videos
    frames_without_person: int = 0
    videos_without_person: int = 0  # no frame with a person at all
    failures: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    cache_files: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The summary's fields: every count, in field order, and the failures as
        ``{path, reason}`` objects; the cache files (one per video, all in the cache
        folder) stay out."""
        out = asdict(self)
        del out["cache_files"]
        out["failures"] = [{"path": p, "reason": r} for p, r in self.failures]
        return out


FrameReader = Callable[[Any], tuple[np.ndarray, np.ndarray]]
"""``read(item) -> (frames T x H x W x 3 uint8, source indices (T,))``."""


def _item_path(item: Any) -> str:
    return os.fspath(item.path if hasattr(item, "path") else item)


def _item_window(item: Any) -> dict[str, Any]:
    return {"start": getattr(item, "start", None), "end": getattr(item, "end", None)}


def read_item_frames(item: Any) -> tuple[np.ndarray, np.ndarray]:
    """Every frame of a video path or record (honouring the record's start/end)."""
    from actionbias.video import read_all_frames

    clip = read_all_frames(_item_path(item), **_item_window(item))
    return clip.frames, np.asarray(clip.indices, dtype=np.int64)


def segment_videos(
    items: Iterable[Any],
    segmenter: PersonSegmenter,
    cache: MaskCache,
    shard: tuple[int, int] = (0, 1),
    read_frames: FrameReader | None = None,
    progress: Callable[[Any, str], None] | None = None,
) -> SegmentStats:
    """Compute and cache masks for the shard's videos; resume by skipping cached ones.

    ``items`` are video paths/frame folders or dataset records (``.path``, optional
    ``.start``/``.end`` and ``.extras``, handed to the backend as ``record``).
    Videos that fail to decode or segment (`BadInputError`, which includes
    `VideoReadError`) are logged at WARNING, counted in ``failed`` and skipped.
    ``progress(item, status)`` is called after each video with ``"computed"``,
    ``"reused"`` or ``"failed"``.
    """
    reader = read_frames or read_item_frames
    mine = shard_items(list(items), *shard)
    stats = SegmentStats(videos=len(mine))
    options = segmenter.options()
    for item in mine:
        path = _item_path(item)
        window = _item_window(item)
        entry = cache.load(path, segmenter.name, options, **window)
        status = "reused"
        if entry is None:
            try:
                frames, indices = reader(item)
                masks = segmenter.segment(frames, indices=indices, record=item)
            except BadInputError as err:
                log.warning("skipping %s: %s", path, err)
                stats.failed += 1
                stats.failures.append((path, str(err)))
                if progress:
                    progress(item, "failed")
                continue
            entry = cache.save(path, segmenter.name, options, masks, indices, **window)
            status = "computed"
            stats.computed += 1
        else:
            stats.reused += 1
        stats.frames += entry.num_frames
        stats.frames_without_person += entry.frames_without_person
        stats.videos_without_person += int(not entry.has_person.any())
        stats.cache_files.append(os.fspath(entry.path))
        if progress:
            progress(item, status)
    return stats
