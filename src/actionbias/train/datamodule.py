"""The Lightning data module: manifests in, batches of exactly the model's inputs out.

The same code serves SynthAct and real datasets; what differs is only where masks
come from (`MaskSource`) and whether the clips fit in memory. Masks are loaded only
when the model reads ``human`` or ``mask`` or scene swap is on, so a Slow-only
baseline on Kinetics needs no segmentation at all.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import lightning as L
from torch.utils.data import DataLoader

from actionbias.data import Manifest, SkipLog
from actionbias.errors import BadInputError
from actionbias.train.clips import ClipSpec
from actionbias.train.config import DataConfig
from actionbias.train.dataset import ClipDataset, EpochSampler, collate, preload
from actionbias.train.masks import MaskSource

log = logging.getLogger(__name__)


def needs_masks(needs: Sequence[str], scene_swap: bool = False) -> bool:
    return scene_swap or "human" in needs or "mask" in needs


def build_mask_source(
    data: DataConfig, needs: Sequence[str], manifest: Manifest, scene_swap: bool = False
) -> MaskSource | None:
    """The mask source when one is needed; fail now (not per clip) if none can work."""
    if not needs_masks(needs, scene_swap):
        return None
    why = "scene swap" if scene_swap and not needs_masks(needs) else f"inputs {list(needs)}"
    if data.masks == "none":
        raise BadInputError(
            f"masks: none, but person masks are needed ({why})", where="field data.masks"
        )
    source = MaskSource(
        data.masks, data.mask_cache, data.mask_backend, dict(data.mask_backend_options)
    )
    first = manifest.records[0]
    if source.describe(first) is None:
        raise BadInputError(
            f"person masks are needed ({why}) but record {first.id!r} offers none for "
            f"masks: {data.masks} (no mask_path/seg_dir in its extras; set data.mask_cache "
            "to a folder written by `actionbias segment`)",
            source=manifest.source or None,
            where="field data.masks",
        )
    return source


def build_scene_swap(data: DataConfig, seed: int = 0) -> Any:
    """The scene-swap callable: each clip's person on one background drawn from
    ``(seed, clip id)`` (`actionbias.segment.SceneSwapAugment` with p = 1), or None."""
    if not data.scene_swap:
        return None
    from actionbias.segment import SceneSwapAugment
    from actionbias.train.scenes import scene_backgrounds

    size = data.crop_size or data.short_side or 224
    train = str(data.train) if data.train is not None else None
    backgrounds = scene_backgrounds(data.scenes, size, data.scene_variants, seed, train)
    return SceneSwapAugment(backgrounds, p=1.0, seed=seed)


def should_cache(data: DataConfig, spec: ClipSpec, count: int, with_mask: bool) -> bool:
    if isinstance(data.cache_clips, bool):
        return data.cache_clips
    return count * spec.clip_bytes(with_mask) <= data.cache_limit_mb * 2**20


def should_keep_items(data: DataConfig, spec: ClipSpec, needs: Sequence[str], count: int) -> bool:
    """Keep the float model inputs of in-memory clips when they fit ``cache_limit_mb``
    too (each float input is four times its uint8 clip)."""
    float_inputs = sum(1 for key in ("video", "human") if key in needs)
    per_item = spec.clip_bytes(False) * 4 * float_inputs
    if "mask" in needs:
        per_item += spec.clip_bytes(False) // 3 * 4
    return count * per_item <= data.cache_limit_mb * 2**20


class VideoDataModule(L.LightningDataModule):
    """Training and validation loaders over manifests (see the module docstring).

    ``skip_log`` collects the clips skipped while preloading; clips that fail later
    inside a loader reach it through the LightningModule (`collate` markers). With
    ``data.scene_swap`` the training set (only) gets its scene-swapped copies.
    """

    def __init__(
        self,
        data: DataConfig,
        needs: Sequence[str],
        train: Manifest | None,
        val: Manifest | None,
        skip_log: SkipLog,
        seed: int = 0,
        pin_memory: bool = False,
    ) -> None:
        super().__init__()
        self.data = data
        self.needs = tuple(needs)
        self.spec = ClipSpec.from_config(data)
        self.train_manifest = train
        self.val_manifest = val
        self.skip_log = skip_log
        self.seed = seed
        self.augment = build_scene_swap(data, seed) if train is not None else None
        self.pin_memory = pin_memory
        reference = train if train is not None else val
        if reference is None:
            raise ValueError("give a training or a validation manifest")
        self.masks = build_mask_source(data, self.needs, reference, self.augment is not None)
        self.train_set: ClipDataset | None = None
        self.val_set: ClipDataset | None = None
        self._cached = False

    def _dataset(self, manifest: Manifest, name: str, augment: object | None) -> ClipDataset:
        records = manifest.records
        with_mask = self.masks is not None
        clips = None
        if should_cache(self.data, self.spec, len(records), with_mask):
            records, clips = preload(
                records,
                self.spec,
                self.masks,
                self.skip_log,
                self.data.num_workers,
                name,
                self.data.clip_cache,
            )
            self._cached = True
            if not records:
                raise BadInputError(
                    f"every {name} clip was skipped as unreadable "
                    f"(first: {self.skip_log.items[0].path}: {self.skip_log.items[0].reason})",
                    source=manifest.source or None,
                )
        keep = clips is not None and should_keep_items(
            self.data, self.spec, self.needs, len(records) * (2 if augment is not None else 1)
        )
        return ClipDataset(records, self.spec, self.needs, self.masks, clips, augment, keep)  # type: ignore[arg-type]

    def setup(self, stage: str | None = None) -> None:
        if self.train_manifest is not None and self.train_set is None:
            self.train_set = self._dataset(self.train_manifest, "training", self.augment)
        if self.val_manifest is not None and self.val_set is None:
            self.val_set = self._dataset(self.val_manifest, "validation", None)

    def _loader(self, dataset: ClipDataset, batch_size: int, shuffle: bool) -> DataLoader:
        # In-memory clips need no worker processes (forking them costs more than
        # the normalisation they would parallelise).
        workers = 0 if dataset.clips is not None else self.data.num_workers
        return DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=EpochSampler(len(dataset), self.seed, shuffle=shuffle),
            num_workers=workers,
            collate_fn=collate,
            pin_memory=self.pin_memory,
            persistent_workers=workers > 0,
            multiprocessing_context=self.data.worker_start if workers > 0 else None,
            drop_last=False,
        )

    def train_dataloader(self) -> DataLoader:
        assert self.train_set is not None, "setup() first"
        return self._loader(self.train_set, self.data.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        assert self.val_set is not None, "setup() first"
        size = self.data.eval_batch_size or self.data.batch_size
        return self._loader(self.val_set, size, shuffle=False)
