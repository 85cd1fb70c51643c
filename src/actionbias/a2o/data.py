"""Clips plus detector maps as batches: ``video``, ``maps``, ``label``, ``index``.

The batch is the training package's (`actionbias.train.dataset.ClipDataset`) with
one more key, ``maps``: ``Q x T x H x W`` likelihoods for the clip's own frames
(``clip.indices`` from `actionbias.video.read_clip`), brought to the decoded frame
size the way `actionbias.train.masks.fit_masks` brings person masks (area
averaging when shrinking; another aspect ratio is refused) and cut by the same
centre crop. Pixels and maps therefore never disagree about geometry.

Why frames and maps are held apart: an ICRL run trains one model per proposed
object set on the same clips. `FrameCache` decodes each clip once for the whole
run; only the maps change from trial to trial, and those come from the map store's
disk cache. Both are held as uint8 (the store quantises to 8 bits anyway).

Broken media never crash a run: a clip that cannot be decoded or has no maps is
skipped and counted (`SkipLog` when preloading, the ``"skipped"`` marker of
`actionbias.train.dataset.collate` inside a loader).

`few_shot` draws the k-shot training subsets of the paper's few-shot protocol.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader

from actionbias.data import Manifest, SkipLog, VideoRecord
from actionbias.errors import BadInputError
from actionbias.train.clips import ClipSpec, normalise
from actionbias.train.dataset import (
    EpochSampler,
    RecordDataset,
    collate,
    item_targets,
    skip_marker,
    skip_reason,
)
from actionbias.train.masks import fit_masks

log = logging.getLogger(__name__)


class MapLoader(Protocol):
    """What the data needs of `actionbias.a2o.maps.MapStore`."""

    def load(
        self, record: VideoRecord, indices: Sequence[int], queries: Sequence[str]
    ) -> np.ndarray: ...


@dataclass
class DecodedFrames:
    """Cropped uint8 frames ``T x H x W x 3``, their source frame numbers and the crop.

    ``resized`` is the frame size after the short-side resize and before the crop
    (``height, width``); ``origin`` the crop's top-left corner in it.
    """

    frames: np.ndarray
    indices: np.ndarray
    resized: tuple[int, int]
    origin: tuple[int, int]

    @property
    def nbytes(self) -> int:
        return int(self.frames.nbytes)


def decode_frames(record: VideoRecord, spec: ClipSpec) -> DecodedFrames:
    """Decode, resize and centre-crop one record exactly like `train.clips.decode_record`."""
    from actionbias.train.clips import crop_origin, read_spec_clip

    clip = read_spec_clip(record, spec)
    frames = clip.frames
    height, width = int(frames.shape[1]), int(frames.shape[2])
    top = left = 0
    if spec.crop_size is not None:
        size = spec.crop_size
        top, left = crop_origin(height, width, size, record.path)
        frames = frames[:, top : top + size, left : left + size]
    return DecodedFrames(
        np.ascontiguousarray(frames),
        np.asarray(clip.indices, dtype=np.int64),
        (height, width),
        (top, left),
    )


def align_maps(maps: np.ndarray, decoded: DecodedFrames, source: str) -> np.ndarray:
    """Store maps ``Q x T x h x w`` in [0, 1] -> uint8 ``Q x T x H x W`` on the cropped frames."""
    maps = np.asarray(maps, dtype=np.float32)
    frames = decoded.frames
    if maps.ndim != 4 or maps.shape[1] != frames.shape[0]:
        raise BadInputError(
            f"maps of shape {maps.shape} for a clip of {frames.shape[0]} frames "
            "(expected Q x T x h x w)",
            source=source,
        )
    queries, steps = maps.shape[:2]
    height, width = decoded.resized
    flat = fit_masks(maps.reshape(queries * steps, *maps.shape[2:]), height, width, source)
    top, left = decoded.origin
    crop_h, crop_w = frames.shape[1:3]
    flat = flat[:, top : top + crop_h, left : left + crop_w]
    unit = np.clip(flat, 0.0, 1.0).reshape(queries, steps, crop_h, crop_w)
    return np.rint(unit * 255.0).astype(np.uint8)


def load_maps(
    record: VideoRecord, decoded: DecodedFrames, store: MapLoader, queries: Sequence[str]
) -> np.ndarray:
    """The clip's maps from ``store``, aligned with its decoded frames (uint8)."""
    maps = store.load(record, decoded.indices.tolist(), list(queries))
    if maps.shape[0] != len(queries):
        raise BadInputError(
            f"the map store returned {maps.shape[0]} maps for {len(queries)} queries",
            source=record.path,
        )
    return align_maps(maps, decoded, record.path)


class FrameCache:
    """Decoded clips by record id, decoded at most once per process (thread-safe).

    Failures are remembered too, so a broken clip costs one decode attempt per run.
    """

    def __init__(self, spec: ClipSpec) -> None:
        self.spec = spec
        self._clips: dict[str, DecodedFrames | BadInputError] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._clips)

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self._clips.values() if isinstance(c, DecodedFrames))

    def get(self, record: VideoRecord) -> DecodedFrames:
        """The decoded clip; raises the clip's `BadInputError` when it cannot be read."""
        with self._lock:
            hit = self._clips.get(record.id)
        if hit is None:
            try:
                hit = decode_frames(record, self.spec)
            except BadInputError as err:
                hit = err
            with self._lock:
                self._clips[record.id] = hit
        if isinstance(hit, BadInputError):
            raise hit
        return hit


@dataclass
class PreparedClip:
    """One usable training item: frames plus (when queries are given) its maps."""

    frames: DecodedFrames
    maps: np.ndarray | None


def prepare(
    records: Sequence[VideoRecord],
    frames: FrameCache,
    store: MapLoader | None,
    queries: Sequence[str],
    skip_log: SkipLog,
    workers: int = 1,
    label: str = "clips",
) -> tuple[list[VideoRecord], list[PreparedClip]]:
    """Decode (or reuse) every clip and load its maps; broken ones go to ``skip_log``.

    Order is kept. Threads overlap PyAV decoding and map-file reads; both release
    the GIL for most of their work.
    """
    if queries and store is None:
        raise ValueError("object queries were given but no map store")
    started = time.perf_counter()

    def load(record: VideoRecord) -> PreparedClip | BadInputError:
        try:
            decoded = frames.get(record)
            maps = load_maps(record, decoded, store, queries) if queries else None  # type: ignore[arg-type]
        except BadInputError as err:
            return err
        return PreparedClip(decoded, maps)

    kept: list[VideoRecord] = []
    clips: list[PreparedClip] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for record, result in zip(records, pool.map(load, records), strict=True):
            if isinstance(result, BadInputError):
                skip_log.add(record, skip_reason(result))
            else:
                kept.append(record)
                clips.append(result)
    megabytes = (
        sum(c.frames.nbytes + (c.maps.nbytes if c.maps is not None else 0) for c in clips) / 2**20
    )
    log.info(
        "%s: %d clips with %d maps each in memory (%.1f MB) in %.1f s; %d skipped",
        label,
        len(clips),
        len(queries),
        megabytes,
        time.perf_counter() - started,
        len(records) - len(kept),
    )
    return kept, clips


class MapClipDataset(RecordDataset):
    """``video`` (+ ``maps`` when there are queries), ``label``, ``index`` per record.

    With ``clips`` (from `prepare`) everything is in memory; without, each item is
    decoded and its maps loaded in the loader (worker processes get a copy of the
    store, which is picklable) and a broken one becomes a skip marker.
    """

    clip_kind = "prepared"

    def __init__(
        self,
        records: Sequence[VideoRecord],
        spec: ClipSpec,
        queries: Sequence[str] = (),
        store: MapLoader | None = None,
        clips: Sequence[PreparedClip] | None = None,
    ) -> None:
        super().__init__(records, spec, clips)
        if queries and store is None and clips is None:
            raise ValueError("object queries were given but no map store")
        self.queries = tuple(queries)
        self.store = store

    def __len__(self) -> int:
        return len(self.records)

    def record_of(self, index: int) -> VideoRecord:
        return self.records[index]

    def __getitem__(self, index: int) -> dict[str, Any]:
        record = self.records[index]
        if self.clips is not None:
            clip = self.clips[index]
        else:
            try:
                decoded = decode_frames(record, self.spec)
                maps = (
                    load_maps(record, decoded, self.store, self.queries)  # type: ignore[arg-type]
                    if self.queries
                    else None
                )
            except BadInputError as err:
                return skip_marker(record, err)
            clip = PreparedClip(decoded, maps)
        item: dict[str, Any] = {
            "video": normalise(clip.frames.frames, self.spec.mean, self.spec.std)
        }
        if self.queries:
            assert clip.maps is not None
            item["maps"] = torch.from_numpy(clip.maps).float().div_(255.0)
        return {**item, **item_targets(record, index)}


def make_loader(
    dataset: MapClipDataset,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    num_workers: int = 0,
    worker_start: str = "spawn",
) -> DataLoader:
    """The project's loader: seeded epoch order, skip markers collated, no workers in RAM."""
    workers = 0 if dataset.clips is not None else num_workers
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=EpochSampler(len(dataset), seed, shuffle=shuffle),
        num_workers=workers,
        collate_fn=collate,
        persistent_workers=workers > 0,
        multiprocessing_context=worker_start if workers > 0 else None,
        drop_last=False,
    )


class A2ODataModule(L.LightningDataModule):
    """Training/validation loaders for one object set (one ICRL trial).

    ``preload``: True keeps decoded clips and maps in RAM (`prepare`), False
    decodes in the loader, ``None`` preloads when the uint8 clips and maps fit in
    ``cache_limit_mb``. ``frames`` lets trials share one `FrameCache` per split.
    """

    def __init__(
        self,
        train: Manifest | None,
        val: Manifest | None,
        spec: ClipSpec,
        queries: Sequence[str] = (),
        store: MapLoader | None = None,
        batch_size: int = 8,
        eval_batch_size: int | None = None,
        seed: int = 0,
        num_workers: int = 0,
        skip_log: SkipLog | None = None,
        preload: bool | None = None,
        cache_limit_mb: float = 4096.0,
        frames: dict[str, FrameCache] | None = None,
    ) -> None:
        super().__init__()
        if train is None and val is None:
            raise ValueError("give a training or a validation manifest")
        self.manifests = {"train": train, "val": val}
        self.spec = spec
        self.queries = tuple(queries)
        self.store = store
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or batch_size
        self.seed = seed
        self.num_workers = num_workers
        self.skip_log = skip_log if skip_log is not None else SkipLog()
        self.preload = preload
        self.cache_limit_mb = cache_limit_mb
        self.frames = frames if frames is not None else {}
        self.datasets: dict[str, MapClipDataset] = {}

    def fits(self, count: int) -> bool:
        """Whether ``count`` clips (frames + maps, uint8) are to be kept in memory."""
        if self.preload is not None:
            return self.preload
        per_clip = self.spec.clip_bytes(False) * (1 + len(self.queries) / 3)
        return count * per_clip <= self.cache_limit_mb * 2**20

    def dataset(self, split: str) -> MapClipDataset:
        if split in self.datasets:
            return self.datasets[split]
        manifest = self.manifests[split]
        if manifest is None:
            raise ValueError(f"no {split} manifest given")
        records = manifest.records
        clips = None
        if self.fits(len(records)):
            cache = self.frames.setdefault(split, FrameCache(self.spec))
            name = f"{manifest.name or split} ({split})"
            records, clips = prepare(
                records, cache, self.store, self.queries, self.skip_log, self.num_workers or 1, name
            )
            if not records:
                first = self.skip_log.items[0] if self.skip_log.items else None
                raise BadInputError(
                    f"every {split} clip was skipped"
                    + (f" (first: {first.path}: {first.reason})" if first else ""),
                    source=manifest.source or None,
                )
        dataset = MapClipDataset(records, self.spec, self.queries, self.store, clips)
        self.datasets[split] = dataset
        return dataset

    def setup(self, stage: str | None = None) -> None:
        for split, manifest in self.manifests.items():
            if manifest is not None:
                self.dataset(split)

    def train_dataloader(self) -> DataLoader:
        return make_loader(
            self.dataset("train"), self.batch_size, True, self.seed, self.num_workers
        )

    def val_dataloader(self) -> DataLoader:
        return make_loader(
            self.dataset("val"), self.eval_batch_size, False, self.seed, self.num_workers
        )


def few_shot(manifest: Manifest, shots: int, seed: int = 0) -> Manifest:
    """``shots`` clips per class drawn with ``seed`` (the paper's 2/4/8-shot subsets).

    Every class of ``manifest.classes`` must have at least ``shots`` labelled clips;
    the drawn clips keep their order in the manifest. Each (k, seed) is its own
    draw: the 4-shot subset need not contain the 2-shot one. Unlabelled clips are
    never drawn.
    """
    if isinstance(shots, bool) or not isinstance(shots, int) or shots < 1:
        raise BadInputError(f"shots must be a positive integer, got {shots!r}", where="shots")
    rng = np.random.default_rng(seed)
    chosen: set[int] = set()
    for class_id, name in enumerate(manifest.classes):
        members = [i for i, r in enumerate(manifest.records) if r.label_id == class_id]
        if len(members) < shots:
            raise BadInputError(
                f"class {name!r} has {len(members)} labelled clips, fewer than {shots} shots",
                source=manifest.source or None,
            )
        picked = rng.choice(len(members), size=shots, replace=False)
        chosen.update(members[int(i)] for i in picked)
    records = [r for i, r in enumerate(manifest.records) if i in chosen]
    name = f"{manifest.name or 'manifest'} {shots}-shot seed {seed}"
    return Manifest(records=records, classes=manifest.classes, name=name, source=manifest.source)
