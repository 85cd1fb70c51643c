"""Clips as a torch Dataset: broken ones skipped and counted, small sets kept in memory.

Broken media never crash a run. In a DataLoader worker a clip that fails to decode
(or has no usable mask) comes back as a ``{"skipped": (id, path, reason)}`` marker;
`collate` drops it from the batch and forwards the marker, and the LightningModule
adds it to the run's `SkipLog` in the main process — a worker's own log would be
lost with the worker. A dataset that is decoded up front (`preload`) finds its
broken clips before training starts and simply leaves them out.

Scene swap doubles the dataset the way the paper did: item ``i < N`` is clip ``i``
as it is, item ``N + i`` is clip ``i`` with its person pasted on a background drawn
once from ``(seed, clip id)``, so the augmented copy is the same clip every epoch,
as in a materialised augmented dataset, and the same whichever worker loads it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler, default_collate

from actionbias.data import SkipLog, VideoRecord
from actionbias.errors import BadInputError, VideoReadError
from actionbias.train.clips import ClipSpec, DecodedClip, decode_record, model_inputs
from actionbias.train.masks import MaskSource

log = logging.getLogger(__name__)

SKIPPED = "skipped"


def skip_reason(err: BadInputError) -> str:
    """The reason without the path (the skip log stores the path separately)."""
    if isinstance(err, VideoReadError):
        return err.reason
    return str(err)


class RecordDataset(Dataset):
    """One clip per record: the records, their preprocessing ``spec`` and, when decoded
    up front, their ``clips`` (same order; a shorter or longer list is refused, since it
    would put every item under another record's label).

    What `ClipDataset` and A2O's `MapClipDataset` share, so that both give the batch
    format `collate` and the training module read: every item ends with ``label`` and
    ``index`` (`item_targets`), and a clip that fails to decode is a skip marker
    (`skip_marker`).
    """

    clip_kind = "decoded"
    """What the clips are called in the mismatch error."""

    def __init__(
        self,
        records: Sequence[VideoRecord],
        spec: ClipSpec,
        clips: Sequence[Any] | None = None,
    ) -> None:
        if clips is not None and len(clips) != len(records):
            raise ValueError(f"{len(clips)} {self.clip_kind} clips for {len(records)} records")
        self.records = list(records)
        self.spec = spec
        self.clips = list(clips) if clips is not None else None


def item_targets(record: VideoRecord, index: int) -> dict[str, torch.Tensor]:
    """The ``label`` (-1 for an unlabelled record) and ``index`` every item carries."""
    return {
        "label": torch.tensor(-1 if record.label_id is None else record.label_id, dtype=torch.long),
        "index": torch.tensor(index, dtype=torch.long),
    }


def skip_marker(record: VideoRecord, err: BadInputError) -> dict[str, Any]:
    """The item a broken clip becomes inside a loader (`collate` forwards it)."""
    return {SKIPPED: (record.id, record.path, skip_reason(err))}


class ClipDataset(RecordDataset):
    """Model inputs plus ``label`` and ``index`` (position in ``records``) per item.

    ``clips``, when given, holds the already decoded clip of every record (see
    `preload`). ``augment`` is a `SceneSwapAugment`-like callable
    ``(frames, mask, key) -> frames``; with it the dataset has two items per record.
    """

    def __init__(
        self,
        records: Sequence[VideoRecord],
        spec: ClipSpec,
        needs: Sequence[str],
        masks: MaskSource | None = None,
        clips: Sequence[DecodedClip] | None = None,
        augment: Callable[..., np.ndarray] | None = None,
        keep_items: bool = False,
    ) -> None:
        super().__init__(records, spec, clips)
        if (augment is not None or "human" in needs or "mask" in needs) and masks is None:
            raise ValueError("person masks are needed (model inputs or scene swap) but not given")
        self.needs = tuple(needs)
        self.masks = masks
        self.augment = augment
        # An item is a pure function of its index (the scene-swap draw included), so
        # with the clips in memory the float inputs can be built once instead of every
        # epoch: normalising, compositing the human-only clip and pasting the swapped
        # scene were ~7 % of a small model's training time.
        self._items: dict[int, dict[str, Any]] | None = (
            {} if keep_items and self.clips is not None else None
        )

    @property
    def num_records(self) -> int:
        return len(self.records)

    def __len__(self) -> int:
        return len(self.records) * (2 if self.augment is not None else 1)

    def record_of(self, index: int) -> VideoRecord:
        return self.records[index % len(self.records)]

    def __getitem__(self, index: int) -> dict[str, Any]:
        if self._items is not None:
            item = self._items.get(index)
            if item is None:
                item = self._items[index] = self._build(index)
            return dict(item)
        return self._build(index)

    def _build(self, index: int) -> dict[str, Any]:
        position = index % len(self.records)
        record = self.records[position]
        if self.clips is not None:
            clip = self.clips[position]
        else:
            try:
                clip = decode_record(record, self.spec, self.masks)
            except BadInputError as err:
                return skip_marker(record, err)
        if index >= len(self.records):
            assert self.augment is not None and clip.mask is not None
            clip = DecodedClip(self.augment(clip.frames, clip.mask, key=record.id), clip.mask)
        return {**model_inputs(clip, self.needs, self.spec), **item_targets(record, index)}


def collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack the good items; pass the skip markers on under ``"skipped"``."""
    skipped = [item[SKIPPED] for item in items if SKIPPED in item]
    good = [item for item in items if SKIPPED not in item]
    batch: dict[str, Any] = default_collate(good) if good else {}
    batch[SKIPPED] = skipped
    return batch


class EpochSampler(Sampler[int]):
    """A permutation that is a pure function of ``(seed, epoch)``.

    Lightning calls ``set_epoch`` before every epoch, so a resumed run visits the
    clips in the same order as an uninterrupted one would have.
    """

    def __init__(self, size: int, seed: int = 0, shuffle: bool = True) -> None:
        self.size = size
        self.seed = seed
        self.shuffle = shuffle
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[int]:
        if not self.shuffle:
            return iter(range(self.size))
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        return iter(torch.randperm(self.size, generator=generator).tolist())


def preload(
    records: Sequence[VideoRecord],
    spec: ClipSpec,
    masks: MaskSource | None,
    skip_log: SkipLog,
    workers: int = 1,
    label: str = "clips",
    cache_dir: str | None = None,
) -> tuple[list[VideoRecord], list[DecodedClip]]:
    """Decode every record once (threads; order kept); broken ones go to ``skip_log``.

    With ``cache_dir``, clips another run already decoded are loaded from there and
    what is decoded here is stored for the next (`actionbias.train.clip_cache`).
    """
    from actionbias.train import clip_cache

    started = time.perf_counter()
    key = clip_cache.cache_key(records, spec, masks) if cache_dir else None
    if key is not None:
        hit = clip_cache.load(cache_dir, key, records)  # type: ignore[arg-type]
        if hit is not None:
            positions, clips, skipped = hit
            for position, reason in skipped:
                skip_log.add(records[position], reason)
            log.info(
                "loaded %d %s from the clip cache in %.1f s; %d skipped",
                len(clips),
                label,
                time.perf_counter() - started,
                len(skipped),
            )
            return [records[p] for p in positions], clips

    def load(record: VideoRecord) -> DecodedClip | BadInputError:
        try:
            return decode_record(record, spec, masks)
        except BadInputError as err:
            return err

    kept: list[VideoRecord] = []
    positions = []
    clips = []
    skipped = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for position, (record, result) in enumerate(
            zip(records, pool.map(load, records), strict=True)
        ):
            if isinstance(result, BadInputError):
                reason = skip_reason(result)
                skip_log.add(record, reason)
                skipped.append((position, reason))
            else:
                kept.append(record)
                positions.append(position)
                clips.append(result)
    megabytes = sum(c.frames.nbytes + (c.mask.nbytes if c.mask is not None else 0) for c in clips)
    log.info(
        "decoded %d %s into memory (%.1f MB) in %.1f s; %d skipped",
        len(clips),
        label,
        megabytes / 2**20,
        time.perf_counter() - started,
        len(records) - len(kept),
    )
    if key is not None:
        clip_cache.store(cache_dir, key, len(records), positions, clips, skipped)  # type: ignore[arg-type]
    return kept, clips
