"""`ClassifierScorer`: a checkpoint of `actionbias train`, audited as it was trained.

It decodes the videos itself (`RecordScorer`) because segmented, dual-branch
and weighted-focus models need person masks aligned with the sampled frames,
which train's dataset code provides (the same decoding as in training, masks
included).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from actionbias.audit.scorers.base import SkipCallback, default_device
from actionbias.fileio import file_sha256

SMALL_RUN = 64
"""Videos below which a classifier audit decodes in the main process (no loader workers)."""


class ClassifierScorer:
    """A checkpoint of `actionbias train`, preprocessed exactly as in training.

    ``predict_records`` runs train's dataset code (decode, person masks from
    SynthAct / HAT ``seg/`` / the segment cache, resize, crop, human-only
    compositing, normalisation), so every registered model works, masks
    included. ``score(clips)`` is the lighter path for video-only models given
    decoded clips (resize + centre crop + normalise here).
    """

    def __init__(
        self,
        module: Any,
        device: str | None = None,
        overrides: dict[str, Any] | None = None,
        checkpoint: str | Path | None = None,
        num_workers: int | None = None,
    ) -> None:
        import torch

        from actionbias.train.config import config_from_dict

        self.device = torch.device(default_device(device))
        self.module = module.eval().to(self.device)
        self.classes = list(module.classes)
        stored = dict(module.hparams.get("data") or {})
        merged = {**stored, **(overrides or {})}
        self.data_config = config_from_dict({"data": merged}, source=str(checkpoint or "")).data
        self.needs = tuple(module.required_inputs)
        self.num_workers = num_workers
        model_name = str(module.hparams.get("model_name", "classifier"))
        self.name = model_name
        self.spec: dict[str, Any] = {"type": "classifier", "id": model_name}
        if checkpoint is not None:
            path = Path(checkpoint).resolve()
            self.spec.update(
                {"id": str(path), "model_name": model_name, "sha256": file_sha256(path)}
            )
        self.default_frames = int(self.data_config.num_frames)
        self._autocast = self.device.type == "cuda" and torch.cuda.is_bf16_supported()

    @classmethod
    def from_checkpoint(
        cls,
        path: str | Path,
        device: str | None = None,
        overrides: dict[str, Any] | None = None,
        num_workers: int | None = None,
    ) -> ClassifierScorer:
        from actionbias.train.evaluation import load_classifier

        return cls(load_classifier(path), device, overrides, path, num_workers)

    @property
    def needs_masks(self) -> bool:
        return "human" in self.needs or "mask" in self.needs

    def clip_spec(self, frames: int | None = None) -> Any:
        from actionbias.train.clips import ClipSpec

        spec = ClipSpec.from_config(self.data_config)
        if frames is not None and frames != spec.num_frames:
            spec = ClipSpec(**{**spec.__dict__, "num_frames": int(frames)})
        return spec

    def _forward(self, batch: dict[str, Any]) -> np.ndarray:
        import torch

        inputs = {
            k: v.to(self.device, non_blocking=True)
            for k, v in batch.items()
            if k in ("video", "human", "mask")
        }
        with torch.inference_mode():
            if self._autocast:
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    logits = self.module.model(inputs)
            else:
                logits = self.module.model(inputs)
            return torch.softmax(logits.double(), dim=1).cpu().numpy()

    def score(self, clips: list[np.ndarray]) -> np.ndarray:
        import torch

        from actionbias.train.clips import normalise
        from actionbias.video import center_crop, resize_short_side

        if self.needs_masks:
            raise ValueError(
                f"{self.name} reads person masks ({', '.join(self.needs)}); audit it on a "
                "dataset (run_audit) so masks are loaded with the frames"
            )
        spec = self.clip_spec()
        tensors = []
        for clip in clips:
            frames = clip
            if spec.resize_to is not None:
                frames = resize_short_side(frames, spec.resize_to)
            if spec.crop_size is not None:
                frames = center_crop(frames, spec.crop_size)
            tensors.append(normalise(frames, spec.mean, spec.std))
        return self._forward({"video": torch.stack(tensors)})

    def predict_records(
        self, records: Sequence[Any], batch_size: int, frames: int, on_skip: SkipCallback
    ) -> Iterator[tuple[list[Any], np.ndarray]]:
        import torch
        from torch.utils.data import DataLoader

        from actionbias.data import Manifest
        from actionbias.train.datamodule import build_mask_source
        from actionbias.train.dataset import SKIPPED, ClipDataset, EpochSampler, collate

        records = list(records)
        if not records:
            return
        by_id = {r.id: r for r in records}
        source = build_mask_source(self.data_config, self.needs, Manifest(records, self.classes))
        spec = self.clip_spec(frames)
        clips = None
        limit = self.data_config.cache_limit_mb * 2**20
        if (
            self.data_config.clip_cache
            and len(records) * spec.clip_bytes(source is not None) <= limit
        ):
            # A study audits many checkpoints on the same clips (the demo: ten): with
            # ``clip_cache`` (an override, e.g. the folder the trainings filled) the
            # first audit stores its decoded clips and the others load them. Only
            # when they fit ``cache_limit_mb`` in memory, as for training.
            from actionbias.data.skips import SkipLog
            from actionbias.train.dataset import preload

            skips = SkipLog()
            records, clips = preload(
                records, spec, source, skips, 1, "audit clips", self.data_config.clip_cache
            )
            for item in skips.items:
                on_skip(by_id[item.id], item.reason)
            if not records:
                return
        dataset = ClipDataset(records, spec, self.needs, source, clips)
        workers = self.num_workers
        if workers is None:
            # starting worker processes costs more than decoding a few dozen clips
            workers = 0 if len(records) < SMALL_RUN else int(self.data_config.num_workers)
        if clips is not None:
            workers = 0  # in memory already: nothing left for worker processes to do
        loader = DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=EpochSampler(len(dataset), shuffle=False),
            num_workers=workers,
            multiprocessing_context=self.data_config.worker_start if workers else None,
            collate_fn=collate,
            pin_memory=self.device.type == "cuda",
        )
        for batch in loader:
            for record_id, _path, reason in batch.get(SKIPPED, ()):
                on_skip(by_id[record_id], reason)
            if "label" not in batch:
                continue
            scores = self._forward(batch)
            index = batch["index"].tolist() if isinstance(batch["index"], torch.Tensor) else []
            yield [dataset.record_of(int(i)) for i in index], scores
