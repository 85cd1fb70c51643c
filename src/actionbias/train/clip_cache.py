"""Decoded clips kept on disk, so a study decodes its data once, not once per training.

A study trains many models on the same clips (the demo: five models, with and
without scene swap, over several seeds). Each training decodes every clip into
memory before its first epoch (`actionbias.train.dataset.preload`); with
``data.clip_cache`` set, the first training stores what it decoded and the others
load it: one ``np.load`` instead of decoding hundreds of videos.

The cache is only used where its key can prove it is current. The key covers the
preprocessing (`ClipSpec`), whether person masks are stored, and each record's
path, span, label and the size and modification time of its video and of its mask
file. So records whose masks come from SynthAct's exact mask files (``oracle``) or
that need no mask qualify; masks from HAT ``seg/`` folders or a segmentation cache
(many files, another tool's state) do not, and are decoded as before. Clips of
different shapes (no centre crop) are not stored either.

Layout: ``CACHE/<key>/{frames.npy, masks.npy, index.json}``, written into a
temporary folder and renamed into place, so a reader sees a whole entry or none
and two trainings filling the same entry at once cannot corrupt it. ``index.json``
lists the records kept and the ones skipped with their reasons, so a run that
loads the cache reports the same skipped clips as the run that decoded them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from actionbias.data import VideoRecord
from actionbias.train.clips import ClipSpec, DecodedClip
from actionbias.train.masks import MaskSource

log = logging.getLogger(__name__)

FORMAT = "actionbias-clip-cache-1"


def _stat(path: str | os.PathLike[str]) -> list[int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns]


def cache_key(
    records: Sequence[VideoRecord], spec: ClipSpec, masks: MaskSource | None
) -> str | None:
    """The entry name for these clips, or None when the cache cannot vouch for them."""
    if spec.crop_size is None:
        return None
    rows: list[Any] = []
    for record in records:
        row: list[Any] = [
            record.path,
            record.start,
            record.end,
            record.label_id,
            _stat(record.path),
        ]
        if masks is not None:
            if masks.describe(record) != "oracle":
                return None
            mask_path = record.extras["mask_path"]
            row += [str(mask_path), _stat(mask_path)]
        rows.append(row)
    identity = {
        "format": FORMAT,
        "spec": dataclasses.asdict(spec),
        "masks": masks is not None,
        "records": rows,
    }
    text = json.dumps(identity, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def load(
    cache_dir: str | os.PathLike[str], key: str, records: Sequence[VideoRecord]
) -> tuple[list[int], list[DecodedClip], list[tuple[int, str]]] | None:
    """(kept record positions, their clips, skipped (position, reason)), or None on a miss."""
    entry = Path(cache_dir) / key
    if not (entry / "index.json").is_file():
        return None  # a plain miss: nobody stored these clips yet
    try:
        index = json.loads((entry / "index.json").read_text(encoding="utf-8"))
        if index.get("format") != FORMAT or index.get("count") != len(records):
            return None
        frames = np.load(entry / "frames.npy", allow_pickle=False)
        masks = np.load(entry / "masks.npy", allow_pickle=False) if index["masks"] else None
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as err:
        log.warning("clip cache %s unreadable (%s); decoding instead", entry, err)
        return None
    kept = [int(i) for i in index["kept"]]
    if len(frames) != len(kept) or (masks is not None and len(masks) != len(kept)):
        return None
    clips = [DecodedClip(frames[n], None if masks is None else masks[n]) for n in range(len(kept))]
    skipped = [(int(i), str(reason)) for i, reason in index["skipped"]]
    return kept, clips, skipped


def store(
    cache_dir: str | os.PathLike[str],
    key: str,
    count: int,
    kept: Sequence[int],
    clips: Sequence[DecodedClip],
    skipped: Sequence[tuple[int, str]],
) -> Path | None:
    """Write an entry (atomically); None when the clips differ in shape or it exists."""
    if not clips or len({c.frames.shape for c in clips}) != 1:
        return None
    with_masks = clips[0].mask is not None
    root = Path(cache_dir)
    entry = root / key
    if entry.exists():
        return None
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
    try:
        np.save(staging / "frames.npy", np.stack([c.frames for c in clips]), allow_pickle=False)
        if with_masks:
            stacked = np.stack([c.mask for c in clips])  # type: ignore[misc]
            np.save(staging / "masks.npy", stacked, allow_pickle=False)
        index = {
            "format": FORMAT,
            "count": count,
            "masks": with_masks,
            "kept": list(kept),
            "skipped": [list(item) for item in skipped],
        }
        (staging / "index.json").write_text(json.dumps(index) + "\n", encoding="utf-8")
        os.rename(staging, entry)
    except OSError:
        # Another training stored the same entry first (rename onto a non-empty
        # folder fails), or the disk is full: either way this run keeps its clips.
        shutil.rmtree(staging, ignore_errors=True)
        return entry if (entry / "index.json").is_file() else None
    return entry
