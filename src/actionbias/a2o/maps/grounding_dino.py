"""`grounding-dino`: Grounding DINO (transformers) boxes scored per query from token-span logits.

The queries go into one prompt, lowercased and joined as "a. b. c." (the form
Grounding DINO was trained on). The model scores every predicted box against every
prompt token; a query's score for a box is the sigmoid of the max logit over that
query's tokens, and the map is the max over boxes above `threshold` of score x box
indicator (or x the box's SAM 2 mask: with ``sam2=`` this is Grounded SAM2). Token
spans come from tokenising each query alone and checking that the pieces, with the
separators, rebuild the prompt's token ids exactly -- a tokenizer that
merges across the "." would make spans wrong, and is refused instead.

Unlike OWLv2, the text encoder attends across the whole prompt, so in one joint prompt
a query's map depends slightly on the other queries of the call. ICRL compares object
sets, and `MapStore` caches per query, so the default runs one prompt per query
(exactly set-independent maps, Q detector passes); ``joint=True`` puts all queries
in one prompt (one pass; the cache then keeps the map of the set that asked first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from actionbias.a2o.maps.backend import BoxDetectorBackend
from actionbias.errors import BadInputError

DEFAULT_GROUNDING_DINO = "IDEA-Research/grounding-dino-tiny"


def clean_query(query: str) -> str:
    """Lowercase, no dots (they separate queries in the prompt), single spaces."""
    return " ".join(str(query).lower().replace(".", " ").split())


def build_prompt(queries: Sequence[str]) -> str:
    return " ".join(f"{clean_query(q)}." for q in queries)


def token_spans(tokenizer: Any, queries: Sequence[str]) -> tuple[list[int], list[tuple[int, int]]]:
    """Prompt token ids (with special tokens) and each query's [start, stop) token span."""
    prompt = build_prompt(queries)
    ids = tokenizer(prompt, add_special_tokens=True)["input_ids"]
    dot = tokenizer(".", add_special_tokens=False)["input_ids"]
    pieces: list[int] = []
    spans: list[tuple[int, int]] = []
    plain = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    offset = ids.index(plain[0]) if plain and plain[0] in ids else 0
    for query in queries:
        toks = tokenizer(clean_query(query), add_special_tokens=False)["input_ids"]
        start = offset + len(pieces)
        spans.append((start, start + len(toks)))
        pieces += toks + dot
    if pieces != plain or ids[offset : offset + len(plain)] != plain:
        raise BadInputError(
            "the Grounding DINO tokenizer does not split the prompt at the query boundaries; "
            "cannot score queries separately",
            where="queries",
        )
    return ids, spans


class GroundingDinoMapBackend(BoxDetectorBackend):
    name = "grounding-dino"
    box_label = "Grounding DINO"
    sam2_label = "Grounded SAM2"

    def __init__(
        self,
        model: str = DEFAULT_GROUNDING_DINO,
        threshold: float = 0.25,
        batch_size: int = 4,
        device: str | None = None,
        dtype: str | None = None,
        joint: bool = False,
        input_size: int | None = 480,
        mask: str | None = None,
        sam2: str | None = None,
        sam2_batch_size: int = 4,
    ) -> None:
        self.joint = bool(joint)
        super().__init__(
            model, threshold, batch_size, device, dtype, input_size, mask, sam2, sam2_batch_size
        )

    def cache_key(self) -> dict:
        # The dtype that will really run (device "auto"/None picks cuda + fp16 when present).
        dtype = self.dtype_name()
        return {
            "model": self.model_id,
            "threshold": self.threshold,
            "joint": self.joint,
            "dtype": dtype,
            **self.mask_key(),
        }

    def model_classes(self) -> tuple[Any, Any]:
        from transformers import AutoProcessor, GroundingDinoForObjectDetection

        return GroundingDinoForObjectDetection, AutoProcessor

    def detect(self, frames: np.ndarray, queries: Sequence[str]) -> list[tuple[Any, Any]]:
        """Per frame: (boxes N x 4 pixel corners, per-query scores N x Q)."""
        import torch

        _, spans = token_spans(self.load()[1].tokenizer, queries)
        prompt = build_prompt(queries)
        height, width = frames.shape[1:3]
        scale = torch.tensor([width, height, width, height], dtype=torch.float32)

        def inputs(processor: Any, chunk: list[np.ndarray]) -> Any:
            return processor(images=chunk, text=[prompt] * len(chunk), return_tensors="pt")

        results: list[tuple[Any, Any]] = []
        for count, outputs in self.forward_batches(frames, inputs):
            logits = outputs.logits.float().cpu()  # B x N x text_len
            boxes = outputs.pred_boxes.float().cpu()  # B x N x (cx, cy, w, h) relative
            per_query = torch.stack([logits[..., a:b].max(-1).values for a, b in spans], dim=-1)
            cx, cy, w, h = boxes.unbind(-1)
            corners = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1) * scale
            for b in range(count):
                results.append((corners[b], torch.sigmoid(per_query[b])))
        return results
