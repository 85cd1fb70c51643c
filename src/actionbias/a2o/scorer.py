"""A trained A2O model as an audit scorer, and the accuracy summary of its predictions.

Evaluation on any split (test / swap / mimetic) goes through `A2OScorer`, a
scorer with ``predict_records`` that the audit runner accepts:
`TrainEnvironment.evaluate_checkpoint(..., out_dir=...)` writes a regular audit
run directory (predictions.jsonl, metrics.json) that ``actionbias report`` reads
like any other model's. `summarise` turns (record, scores) pairs into overall and
class-wise accuracy and one prediction row per clip.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from actionbias.a2o.data import FrameCache, MapClipDataset, MapLoader, make_loader, prepare
from actionbias.data import SkipLog, VideoRecord
from actionbias.errors import BadInputError
from actionbias.train.clips import ClipSpec
from actionbias.train.dataset import SKIPPED


@dataclass
class A2OEvalResult:
    """Accuracy of trained weights on one split, with every clip's prediction."""

    accuracy: float
    classwise: dict[str, float]
    predictions: list[dict[str, Any]]
    skipped: int
    ms_per_clip: float
    run_dir: str | None = None
    metrics: dict[str, Any] | None = None

    @property
    def clips(self) -> int:
        return len(self.predictions)


class A2OScorer:
    """A trained model as an audit scorer: records -> class scores, maps included.

    ``predict_records`` decodes each clip with the training preprocessing, loads its
    maps for ``objects`` from the store and runs the model; `run_audit` calls it, and
    `TrainEnvironment` uses it directly. Every yielded batch is also kept in
    ``results`` (record, scores) and the time of the forward passes in
    ``forward_seconds``.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        classes: Sequence[str],
        spec: ClipSpec,
        objects: Sequence[str] = (),
        store: MapLoader | None = None,
        name: str = "a2o",
        frames: FrameCache | None = None,
        spec_info: dict[str, Any] | None = None,
    ) -> None:
        if objects and store is None:
            raise BadInputError("objects were given but no map store", where="objects")
        self.model = model
        self.classes = list(classes)
        self.class_names = self.classes
        self.spec_clip = spec
        self.objects = list(objects)
        self.store = store
        self.name = name
        self.default_frames = spec.num_frames
        self.spec = {"type": "a2o", "id": name, "objects": self.objects, **(spec_info or {})}
        self.frames = frames
        self.results: list[tuple[VideoRecord, np.ndarray]] = []
        self.forward_seconds = 0.0

    def _device(self) -> torch.device:
        return next(self.model.parameters()).device

    def predict_records(
        self, records: Sequence[VideoRecord], batch_size: int, frames: int, on_skip: Any
    ) -> Iterator[tuple[list[VideoRecord], np.ndarray]]:
        spec = self.spec_clip
        cache = self.frames
        if frames != spec.num_frames:
            spec = dataclasses.replace(spec, num_frames=int(frames))
            cache = None
        skip_log = SkipLog()
        records = list(records)
        if cache is not None:
            # In-memory path: decode (or reuse) everything, then batch.
            kept, clips = prepare(records, cache, self.store, self.objects, skip_log)
            dataset = MapClipDataset(kept, spec, self.objects, self.store, clips)
            for item in skip_log.items:
                on_skip(next(r for r in records if r.id == item.id), item.reason)
        else:
            dataset = MapClipDataset(records, spec, self.objects, self.store)
        by_id = {r.id: r for r in records}
        device = self._device()
        self.model.eval()
        for batch in make_loader(dataset, batch_size, shuffle=False):
            for record_id, _path, reason in batch.get(SKIPPED, ()):
                on_skip(by_id[record_id], reason)
            if "label" not in batch:
                continue
            inputs = {
                key: batch[key].to(device, non_blocking=True)
                for key in ("video", "maps")
                if key in batch
            }
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            started = time.perf_counter()
            with torch.inference_mode():
                logits = self.model(inputs)
            scores = logits.float().cpu().numpy()
            self.forward_seconds += time.perf_counter() - started
            chosen = [dataset.record_of(int(i)) for i in batch["index"].tolist()]
            self.results.extend(zip(chosen, scores, strict=True))
            yield chosen, scores


def summarise(
    results: Sequence[tuple[VideoRecord, np.ndarray]], classes: Sequence[str]
) -> tuple[float, dict[str, float], list[dict[str, Any]]]:
    """Overall accuracy, accuracy per class present, and one prediction row per clip."""
    rows: list[dict[str, Any]] = []
    per_class: dict[int, list[float]] = {}
    for record, scores in results:
        predicted = int(np.argmax(scores))
        correct = record.label_id is not None and predicted == record.label_id
        rows.append(
            {
                "id": record.id,
                "label": record.label,
                "label_id": record.label_id,
                "predicted": classes[predicted],
                "predicted_id": predicted,
                "correct": bool(correct),
                "scores": [float(s) for s in scores],
            }
        )
        if record.label_id is not None:
            per_class.setdefault(record.label_id, []).append(float(correct))
    labelled = [row["correct"] for row in rows if row["label_id"] is not None]
    accuracy = float(np.mean(labelled)) if labelled else float("nan")
    classwise = {
        classes[c]: float(np.mean(per_class[c])) for c in range(len(classes)) if c in per_class
    }
    return accuracy, classwise, rows
