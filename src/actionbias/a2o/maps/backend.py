"""What a likelihood-map backend is, the registry that builds one by name, and shared helpers.

A backend turns the frames of one video and a list of text queries into maps
M(u, v) in [0, 1] per query and frame (Section 3.2 of the A2O paper). It is pure with
respect to its options: `cache_key()` lists every option that changes the output, so
`MapStore` can cache results per (video, query, backend options). Heavy models load
lazily on the first `compute` and are dropped when the backend is pickled, so a store
can be sent to DataLoader workers and each worker loads its own copy only if it has to
detect something.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from actionbias.errors import BadInputError

#: name -> "module:Class", imported on demand (transformers/mediapipe stay unimported otherwise).
_BACKENDS: dict[str, str] = {
    "synth-oracle": "actionbias.a2o.maps.oracle:OracleMapBackend",
    "pose": "actionbias.a2o.maps.pose:PoseMapBackend",
    "owlv2": "actionbias.a2o.maps.owlv2:Owlv2MapBackend",
    "grounding-dino": "actionbias.a2o.maps.grounding_dino:GroundingDinoMapBackend",
}


@runtime_checkable
class MapBackend(Protocol):
    """Frames + queries -> float32 Q x T x H x W likelihood maps in [0, 1].

    `input_size` is the short side (pixels) the backend wants its frames decoded at,
    None to let the caller choose. `compute` may take `indices=` (source frame numbers
    of `frames`, default 0..T-1): backends tied to per-frame annotations need them.
    """

    name: str
    input_size: int | None

    def cache_key(self) -> dict: ...

    def compute(
        self, record: Any, frames: np.ndarray, queries: Sequence[str], **kwargs: Any
    ) -> np.ndarray: ...


def list_backends() -> list[str]:
    return sorted(_BACKENDS)


def backend_class(name: str) -> type:
    if name not in _BACKENDS:
        raise BadInputError(
            f"unknown map backend {name!r} (choose from {', '.join(list_backends())})",
            where="backend",
        )
    module_name, _, cls_name = _BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module_name), cls_name)


def build_backend(name: str, **options: Any) -> MapBackend:
    """A backend by registry name; an unknown name or option is a one-line BadInputError."""
    cls = backend_class(name)
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise BadInputError(
            f"map backend {name!r} has no option {', '.join(map(repr, unknown))} "
            f"(options: {', '.join(sorted(accepted))})",
            where="backend options",
        )
    return cls(**options)


class LazyModelBackend:
    """Shared plumbing: input checks, lazy model loading, pickling without the model."""

    name = "base"
    input_size: int | None = None
    _model_attrs: tuple[str, ...] = ()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for attr in self._model_attrs:
            state[attr] = None
        return state

    def compute(
        self,
        record: Any,
        frames: np.ndarray,
        queries: Sequence[str],
        indices: Sequence[int] | None = None,
    ) -> np.ndarray:
        """float32 Q x T x H x W maps of `queries` on `frames` (uint8 T x H x W x 3).

        The frames and queries are checked here, once for every backend; the
        backend's `_maps` draws the maps.
        """
        return self._maps(record, self.check_frames(frames), check_queries(queries), indices)

    def _maps(
        self, record: Any, frames: np.ndarray, queries: list[str], indices: Sequence[int] | None
    ) -> np.ndarray:
        raise TypeError(f"{type(self).__name__} must define _maps()")

    @staticmethod
    def check_frames(frames: np.ndarray) -> np.ndarray:
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(
                f"frames must be uint8 T x H x W x 3, got {frames.dtype} {tuple(frames.shape)}"
            )
        return frames


MASK_MODES = ("box", "sam2")


class BoxDetectorBackend(LazyModelBackend):
    """Open-vocabulary box detectors (OWLv2, Grounding DINO): shared loading and boxes -> maps.

    Subclasses name their transformers classes (`model_classes`) and implement
    `detect(frames, queries)` -> per frame (boxes N x 4 pixel corners, scores N x Q);
    the map of a query is the max over its detections above ``threshold`` of score x
    region. The region is the box (``mask="box"``) or, as in the paper's Grounded
    SAM2, the box refined to a pixel mask by SAM 2 (``mask="sam2"``, see
    `actionbias.a2o.maps.sam2`). ``joint`` False detects each query alone (Q
    detector passes), so a query's map cannot depend on which other queries were
    asked with it; a SAM 2 mask depends only on the frame and its box, so masks
    keep that independence.
    """

    _model_attrs = ("_model", "_processor")
    model_id: str
    threshold: float
    batch_size: int
    device: str | None
    dtype: str | None
    joint: bool = True
    mask: str = "box"
    refiner: Any = None
    _model: Any = None
    _processor: Any = None
    #: The detector's own name ("OWLv2"); `label` adds SAM 2 when masks are refined.
    box_label: str = "boxes"
    sam2_label: str = "boxes + SAM 2"

    def __init__(
        self,
        model: str,
        threshold: float,
        batch_size: int,
        device: str | None,
        dtype: str | None,
        input_size: int | None,
        mask: str | None,
        sam2: str | None,
        sam2_batch_size: int,
    ) -> None:
        """The options every box detector takes; a subclass still spells out its own
        signature, with its defaults, because `build_backend` reads options from it."""
        if not 0.0 <= float(threshold) < 1.0:
            raise BadInputError(f"threshold must be in [0, 1), got {threshold}", where="threshold")
        self.model_id = str(model)
        self.threshold = float(threshold)
        self.batch_size = max(1, int(batch_size))
        self.device = device
        self.dtype = dtype
        self.input_size = None if input_size is None else int(input_size)
        self._model = None
        self._processor = None
        self.init_masks(mask, sam2, sam2_batch_size)

    @property
    def label(self) -> str:
        return self.sam2_label if self.mask == "sam2" else self.box_label

    def init_masks(self, mask: str | None, sam2: str | None, sam2_batch_size: int) -> None:
        """Choose the region: masks when a SAM 2 model is given or ``mask="sam2"``, else boxes."""
        if mask is None:
            mask = "sam2" if sam2 else "box"
        if mask not in MASK_MODES:
            raise BadInputError(
                f"mask must be one of {', '.join(MASK_MODES)}, got {mask!r}", where="mask"
            )
        if mask == "box" and sam2:
            raise BadInputError("a SAM 2 model has no use with mask=box", where="sam2")
        self.mask = mask
        self.refiner = None
        if mask == "sam2":
            from actionbias.a2o.maps.sam2 import DEFAULT_SAM2, Sam2Refiner

            self.refiner = Sam2Refiner(
                sam2 or DEFAULT_SAM2, self.device, self.dtype, batch_size=sam2_batch_size
            )

    def mask_key(self) -> dict[str, Any]:
        """The region's part of `cache_key` (the mask mode, and SAM 2's own settings)."""
        key: dict[str, Any] = {"mask": self.mask}
        if self.refiner is not None:
            key.update(self.refiner.cache_key())
        return key

    def model_classes(self) -> tuple[Any, Any]:
        """(model class, processor class) from transformers."""
        raise TypeError(f"{type(self).__name__} must define model_classes()")

    def detect(self, frames: np.ndarray, queries: Sequence[str]) -> list[tuple[Any, Any]]:
        raise TypeError(f"{type(self).__name__} must define detect()")

    def dtype_name(self) -> str:
        """The dtype that really runs (device "auto"/None picks cuda + fp16 when present)."""
        return str(resolve_torch_device(self.device, self.dtype)[1]).removeprefix("torch.")

    def load(self) -> tuple[Any, Any]:
        """(model, processor), loaded once with `from_pretrained(id or folder)`."""
        if self._model is None:
            model_class, processor_class = self.model_classes()
            device, dtype = resolve_torch_device(self.device, self.dtype)
            self._processor = processor_class.from_pretrained(self.model_id)
            model = model_class.from_pretrained(self.model_id, dtype=dtype)
            self._model = model.to(device).eval()
        return self._model, self._processor

    def set_model(self, model: Any, processor: Any) -> None:
        """Use an already-built model (tests, notebooks) instead of `from_pretrained`."""
        self._model, self._processor = model.eval(), processor

    def forward_batches(
        self, frames: np.ndarray, inputs: Callable[[Any, list[np.ndarray]], Any]
    ) -> Iterator[tuple[int, Any]]:
        """(frames in the batch, model outputs) per `batch_size` frames; ``inputs(processor,
        frames)`` makes the processor's tensors, moved here to the model's device and dtype."""
        import torch

        model, processor = self.load()
        device = next(model.parameters()).device
        dtype = next(model.parameters()).dtype
        for part in batched(len(frames), self.batch_size):
            chunk = list(frames[part])
            tensors = {
                k: v.to(device, dtype=dtype) if v.is_floating_point() else v.to(device)
                for k, v in inputs(processor, chunk).items()
            }
            with torch.inference_mode():
                outputs = model(**tensors)
            yield len(chunk), outputs

    def _maps(
        self, record: Any, frames: np.ndarray, queries: list[str], indices: Sequence[int] | None
    ) -> np.ndarray:
        num, height, width = frames.shape[:3]
        out = np.zeros((len(queries), num, height, width), dtype=np.float32)
        if not queries or not num:
            return out
        groups = [list(range(len(queries)))] if self.joint else [[q] for q in range(len(queries))]
        # Per frame: every kept (query, box, score) of every group, so that SAM 2 encodes
        # each frame once however many detector passes there were.
        kept: list[list[tuple[int, np.ndarray, float]]] = [[] for _ in range(num)]
        for group in groups:
            detections = self.detect(frames, [queries[q] for q in group])
            for t, (boxes, scores) in enumerate(detections):
                for j, q in enumerate(group):
                    for i in np.flatnonzero((scores[:, j] > self.threshold).numpy()):
                        kept[t].append((q, boxes[i].numpy(), float(scores[i, j])))
        masks = None
        if self.refiner is not None:
            prompts = [np.array([r[1] for r in rows], np.float32).reshape(-1, 4) for rows in kept]
            masks = self.refiner.refine(frames, prompts)
        for t, rows in enumerate(kept):
            for q in range(len(queries)):
                mine = [k for k, r in enumerate(rows) if r[0] == q]
                out[q, t] = boxes_to_map(
                    np.array([rows[k][1] for k in mine], np.float32).reshape(-1, 4),
                    np.array([rows[k][2] for k in mine], np.float32),
                    height,
                    width,
                    masks=None if masks is None else masks[t][mine],
                )
        return out


def detector_label(backend: Any) -> str:
    """The detector's name as the LLM policy's prompt states it (Listing 2's "Grounded SAM2").

    A backend's ``label`` when it has one (OWLv2, Grounding DINO, their SAM 2
    refinements, the pose landmarks, the SynthAct oracle), else its registry name.
    """
    label = getattr(backend, "label", None)
    return str(label) if label else str(getattr(backend, "name", type(backend).__name__))


def stable_seed(*parts: Any) -> int:
    """A 63-bit seed from text parts (SHA-256), equal across processes and Python versions.

    Python's `hash()` of a string is salted per process, so it cannot seed anything
    that must repeat in a DataLoader worker or a later run.
    """
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") >> 1


def box_indicator(box: Sequence[float], height: int, width: int) -> tuple[slice, slice]:
    """Rows/columns whose pixel centres lie inside the box (x0, y0, x1, y1), clipped."""
    x0, y0, x1, y1 = (float(v) for v in box)

    def span(lo: float, hi: float, size: int) -> slice:
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return slice(0, 0)
        first = min(max(math.ceil(lo - 0.5), 0), size)
        stop = min(max(math.ceil(hi - 0.5), 0), size)
        return slice(first, max(first, stop))

    return span(y0, y1, height), span(x0, x1, width)


def boxes_to_map(
    boxes: np.ndarray,
    scores: np.ndarray,
    height: int,
    width: int,
    masks: np.ndarray | None = None,
) -> np.ndarray:
    """max over detections of score x (box indicator, or the detection's mask if given)."""
    out = np.zeros((height, width), dtype=np.float32)
    for i, (box, score) in enumerate(zip(np.asarray(boxes), np.asarray(scores), strict=True)):
        score = float(np.clip(score, 0.0, 1.0))
        if score <= 0:
            continue
        if masks is not None:
            np.maximum(out, score * np.asarray(masks[i], dtype=np.float32), out=out)
            continue
        rows, cols = box_indicator(box, height, width)
        region = out[rows, cols]
        np.maximum(region, score, out=region)
    return out


def check_queries(queries: Sequence[str]) -> list[str]:
    queries = [str(q) for q in queries]
    for q in queries:
        if not q.strip():
            raise BadInputError("an empty query cannot be detected", where="queries")
    return queries


def batched(items: int, size: int) -> list[slice]:
    return [slice(i, min(i + size, items)) for i in range(0, items, max(1, size))]


def resolve_torch_device(device: str | None, dtype: str | None) -> tuple[Any, Any]:
    """(torch.device, torch.dtype): "auto" picks cuda when present; fp16 only on cuda."""
    import torch

    name = device or "auto"
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(name)
    choices: dict[str, Callable[[], Any]] = {
        "float32": lambda: torch.float32,
        "float16": lambda: torch.float16,
        "bfloat16": lambda: torch.bfloat16,
    }
    key = dtype or ("float16" if dev.type == "cuda" else "float32")
    if key not in choices:
        raise BadInputError(f"dtype must be one of {sorted(choices)}, got {dtype!r}", where="dtype")
    return dev, choices[key]()
