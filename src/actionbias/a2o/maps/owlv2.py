"""`owlv2`: open-vocabulary boxes from OWLv2 (transformers) -> likelihood maps.

Per frame and query the map is the max over detections of score x box indicator, or
score x the box's SAM 2 mask with ``sam2=`` / ``mask="sam2"`` (see `BoxDetectorBackend`).
Scores are per (box, query): OWLv2 embeds each query on its own and scores every
predicted box against every query independently (sigmoid of the class logit). We keep
that independence instead of the processor's one-label-per-box post-processing
(argmax over queries): a query's map must not change when another query is added,
otherwise the per-query cache of `MapStore` would serve maps that depend on which set
was asked first. Boxes are converted exactly as the processor's post-processing does
(centre -> corners, scaled by the longer image side, because OWLv2 pads each image to
a square at the bottom/right before resizing); the tests check that equality.

The processor is the real `Owlv2Processor` (its PIL image backend needs no
torchvision). `device="cuda"` with `dtype="float16"` runs the model in half precision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from actionbias.a2o.maps.backend import BoxDetectorBackend
from actionbias.errors import BadInputError

DEFAULT_OWLV2 = "google/owlv2-base-patch16-ensemble"


def corners_from_centers(boxes: Any, height: int, width: int) -> Any:
    """(cx, cy, w, h) relative to the padded square -> (x0, y0, x1, y1) pixels of the image."""
    side = max(height, width)
    cx, cy, w, h = boxes.unbind(-1)
    import torch

    corners = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)
    return corners * side


class Owlv2MapBackend(BoxDetectorBackend):
    name = "owlv2"
    box_label = "OWLv2"
    sam2_label = "OWLv2 + SAM 2"

    def __init__(
        self,
        model: str = DEFAULT_OWLV2,
        threshold: float = 0.1,
        batch_size: int = 8,
        device: str | None = None,
        dtype: str | None = None,
        query_template: str = "a photo of a {}",
        input_size: int | None = 480,
        mask: str | None = None,
        sam2: str | None = None,
        sam2_batch_size: int = 4,
    ) -> None:
        super().__init__(
            model, threshold, batch_size, device, dtype, input_size, mask, sam2, sam2_batch_size
        )
        if "{}" not in query_template:
            raise BadInputError("query_template must contain '{}'", where="query_template")
        self.query_template = query_template

    def cache_key(self) -> dict:
        return {
            "model": self.model_id,
            "threshold": self.threshold,
            "query_template": self.query_template,
            "dtype": self.dtype_name(),
            **self.mask_key(),
        }

    def model_classes(self) -> tuple[Any, Any]:
        from transformers import Owlv2ForObjectDetection, Owlv2Processor

        return Owlv2ForObjectDetection, Owlv2Processor

    def detect(self, frames: np.ndarray, queries: Sequence[str]) -> list[tuple[Any, Any]]:
        """Per frame: (boxes N x 4 pixel corners, scores N x Q), before thresholding."""
        import torch

        texts = [self.query_template.format(q.strip()) for q in queries]
        height, width = frames.shape[1:3]

        def inputs(processor: Any, chunk: list[np.ndarray]) -> Any:
            return processor(text=[texts] * len(chunk), images=chunk, return_tensors="pt")

        results: list[tuple[Any, Any]] = []
        for count, outputs in self.forward_batches(frames, inputs):
            logits = outputs.logits.float()  # B x P x Q
            boxes = corners_from_centers(outputs.pred_boxes.float(), height, width)
            for b in range(count):
                results.append((boxes[b].cpu(), torch.sigmoid(logits[b]).cpu()))
        return results
