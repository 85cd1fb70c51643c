"""`evaluate(checkpoint, data)`: per-video predictions in the audit's file format.

The checkpoint carries the model name, its options, the class list and the
preprocessing it was trained with, so evaluation needs nothing else and decodes
clips exactly as training did. Each row is one video: id, label, prediction (class
names), the softmax scores in class order, the ``dataset`` group (``test``,
``swap``, ``mimetic`` for SynthAct; the split or manifest name otherwise) and, on
swap videos, ``background_label``. `actionbias.audit.summarize` turns the file into
accuracy, SHAcc, SBErr and their intervals.

Broken videos are skipped and counted (``EvalResult.skipped``, and a
``<name>.skipped.json`` beside the predictions file), never scored as wrong.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch

from actionbias.data import ClassLookup, Manifest, SkipLog, VideoRecord
from actionbias.data.predictions import NO_ANSWER, PredictionTable, write_predictions
from actionbias.errors import BadInputError
from actionbias.fileio import atomic_write_text
from actionbias.train.clips import ClipSpec
from actionbias.train.config import DataConfig, config_from_dict
from actionbias.train.datamodule import build_mask_source, should_cache
from actionbias.train.dataset import SKIPPED, ClipDataset, EpochSampler, collate
from actionbias.train.hardware import resolve_hardware
from actionbias.train.manifests import is_synthact, open_manifest, require_labels
from actionbias.train.module import ClassifierModule
from actionbias.train.runner import QUIET

log = logging.getLogger(__name__)

SYNTHACT_EVAL_SPLITS = ("test", "swap", "mimetic")


@dataclass
class EvalResult:
    table: PredictionTable
    path: Path | None
    skipped: SkipLog
    accuracy: dict[str, float]
    """Top-1 accuracy per dataset group (quick look; `summarize` gives intervals)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "predictions": str(self.path) if self.path else None,
            "videos": len(self.table),
            "accuracy": self.accuracy,
            "skipped": self.skipped.to_dict(),
        }


def load_classifier(checkpoint: str | Path) -> ClassifierModule:
    """A trained `ClassifierModule` from a checkpoint written by `train` (on CPU, eval mode)."""
    path = Path(checkpoint)
    if not path.is_file():
        raise BadInputError("checkpoint not found", source=path)
    try:
        module = ClassifierModule.load_from_checkpoint(str(path), map_location="cpu")
    except (KeyError, TypeError, RuntimeError, EOFError, OSError) as err:
        message = " ".join(str(err).split())[:200]
        raise BadInputError(
            f"not a checkpoint written by actionbias train: {message}", path
        ) from err
    return module.eval()


def _datasets(
    data: Manifest | str | Path,
    split: str | None,
    splits: Sequence[str] | None,
    dataset: str | None,
    config: DataConfig,
) -> list[tuple[str, Manifest]]:
    if isinstance(data, Manifest):
        if split is not None:
            data = data.by_split(split)
        return [(dataset or split or data.name or "all", data)]
    path = Path(data)
    common = {"format": config.format, "root": config.root, "classes": config.classes}
    if is_synthact(path) and split is None:
        names = tuple(splits or SYNTHACT_EVAL_SPLITS)
        return [(name, open_manifest(path, name, field="data", **common)) for name in names]
    if splits:
        return [(name, open_manifest(path, name, field="data", **common)) for name in splits]
    manifest = open_manifest(path, split, field="data", **common)
    return [(dataset or split or manifest.name or "all", manifest)]


def evaluate(
    checkpoint: str | Path,
    data: Manifest | str | Path,
    out: str | Path | None = None,
    *,
    split: str | None = None,
    splits: Sequence[str] | None = None,
    dataset: str | None = None,
    overrides: dict[str, Any] | None = None,
    accelerator: str = "auto",
    devices: int | str = 1,
    precision: str = "auto",
    progress: bool = False,
) -> EvalResult:
    """Predict every clip of ``data`` with a trained checkpoint; write ``out`` (JSONL).

    ``data`` is a `Manifest`, a manifest file, a HAT root or a SynthAct folder (all
    of ``splits``, default test, swap and mimetic, each its own ``dataset`` group).
    ``overrides`` replace data settings stored in the checkpoint, e.g. ``{"root":
    ..., "mask_cache": ..., "num_workers": 0, "eval_batch_size": 64}``.
    """
    module = load_classifier(checkpoint)
    stored = dict(module.hparams.get("data") or {})
    config = config_from_dict({"data": stored}, source=str(checkpoint)).data
    if overrides:
        config = config_from_dict({"data": {**stored, **overrides}}, source="overrides").data
    classes = list(module.classes)
    groups = _datasets(data, split, splits, dataset, config)
    hw = resolve_hardware(accelerator, precision, "auto", "auto")
    if hw.channels_last and not module.channels_last:
        module.channels_last = True
        module.model = module.model.to(memory_format=torch.channels_last_3d)

    trainer = L.Trainer(
        accelerator=accelerator,
        devices=devices,
        precision=hw.precision,  # type: ignore[arg-type]
        benchmark=hw.benchmark,
        logger=False,
        enable_progress_bar=progress,
        enable_model_summary=False,
    )
    skip_log = SkipLog()
    lookup = ClassLookup(classes)
    ids: list[str] = []
    labels: list[int] = []
    backgrounds: list[int] = []
    group_names: list[str] = []
    score_rows: list[np.ndarray] = []
    for name, manifest in groups:
        manifest = manifest.aligned_to(classes, name)
        require_labels(manifest, manifest.source or name)
        if len(manifest) == 0:
            continue
        source = build_mask_source(config, module.required_inputs, manifest)
        spec = ClipSpec.from_config(config)
        # A set small enough to keep in memory is read in this process: starting
        # worker processes (forkserver) would take longer than decoding it.
        small = should_cache(config, spec, len(manifest), source is not None)
        workers = 0 if small else config.num_workers
        dataset_ = ClipDataset(manifest.records, spec, module.required_inputs, source)
        loader = torch.utils.data.DataLoader(
            dataset_,
            batch_size=config.eval_batch_size or config.batch_size,
            sampler=EpochSampler(len(dataset_), shuffle=False),
            num_workers=workers,
            multiprocessing_context=config.worker_start if workers else None,
            collate_fn=collate,
            pin_memory=hw.cuda,
        )
        with warnings.catch_warnings():
            for pattern in QUIET:
                warnings.filterwarnings("ignore", message=pattern)
            outputs = trainer.predict(module, dataloaders=loader) or []
        index, logits, skipped = _gather(trainer, outputs)
        for record_id, path, reason in skipped:
            skip_log.add(VideoRecord(record_id, path, None, None), reason)
        probabilities = torch.softmax(logits.double(), dim=1).numpy()
        for position, scores in zip(index.tolist(), probabilities, strict=True):
            record = dataset_.record_of(position)
            ids.append(record.id)
            labels.append(int(record.label_id))  # type: ignore[arg-type]
            backgrounds.append(_background(record, lookup))
            group_names.append(name)
            score_rows.append(scores)

    if not ids:
        raise BadInputError(
            f"no clip could be evaluated ({skip_log.count} skipped as unreadable)",
            source=str(data) if not isinstance(data, Manifest) else data.source or None,
        )
    scores = np.stack(score_rows)
    table = PredictionTable(
        ids=ids,
        labels=np.asarray(labels, dtype=np.int64),
        predictions=scores.argmax(axis=1).astype(np.int64),
        backgrounds=np.asarray(backgrounds, dtype=np.int64),
        datasets=group_names,
        classes=classes,
        scores=scores,
        source=str(out) if out else "",
    )
    correct = table.predictions == table.labels
    groups_array = np.asarray(group_names)
    accuracy = {
        name: float(correct[groups_array == name].mean()) for name in dict.fromkeys(group_names)
    }
    path = None
    if out is not None and trainer.is_global_zero:
        path = Path(out)
        write_predictions(table, path)
        atomic_write_text(path.with_name(path.stem + ".skipped.json"), skip_log.to_json() + "\n")
    assert not (table.predictions == NO_ANSWER).any()
    return EvalResult(table=table, path=path, skipped=skip_log, accuracy=accuracy)


def _background(record: VideoRecord, lookup: ClassLookup) -> int:
    """Class index of a swap clip's background, -1 for ordinary clips."""
    name = record.extras.get("background_label")
    if not name:
        return -1
    index = lookup.find(str(name))
    if index is None:
        log.warning("%s: background class %r is not a model class; not a swap row", record.id, name)
        return -1
    return index


def _gather(
    trainer: L.Trainer, outputs: list[dict[str, Any]]
) -> tuple[torch.Tensor, torch.Tensor, list[tuple[str, str, str]]]:
    """Concatenate batch outputs; under DDP collect every rank's and drop sampler padding."""
    indices = [o["index"] for o in outputs if o["index"] is not None]
    logits = [o["logits"] for o in outputs if o["logits"] is not None]
    skipped = [s for o in outputs for s in o[SKIPPED]]
    local = (
        torch.cat(indices) if indices else torch.zeros(0, dtype=torch.long),
        torch.cat(logits) if logits else torch.zeros(0, 0),
        skipped,
    )
    if (
        trainer.world_size > 1
        and torch.distributed.is_available()
        and torch.distributed.is_initialized()
    ):
        parts: list[Any] = [None] * trainer.world_size
        torch.distributed.all_gather_object(parts, local)
        index_all = torch.cat([p[0] for p in parts if len(p[0])])
        logits_all = torch.cat([p[1] for p in parts if len(p[0])])
        skipped = list(dict.fromkeys(s for p in parts for s in p[2]))
        # DistributedSampler repeats a few items so every rank gets as many: keep one each.
        order = torch.argsort(index_all, stable=True)
        index_all, logits_all = index_all[order], logits_all[order]
        keep = torch.ones(len(index_all), dtype=torch.bool)
        keep[1:] = index_all[1:] != index_all[:-1]
        return index_all[keep], logits_all[keep], skipped
    order = torch.argsort(local[0], stable=True)
    return local[0][order], local[1][order], skipped
