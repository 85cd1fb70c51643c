"""One interface for every person-mask backend, and the registry that builds them.

A backend turns the decoded frames of one video (uint8 ``T x H x W x 3`` RGB) into
soft person masks (float32 ``T x H x W`` in [0, 1]). Its ``name`` and ``options()``
together identify its output, which is what the mask cache keys on: two runs with
the same backend name and options on the same video may share cached masks, any
change of option must change ``options()``.

Backends are built by name so that the command line stays thin:
``build_segmenter("mediapipe", model="pose")``, ``build_segmenter("oracle")``,
``build_segmenter("yolo-sam2", detector=..., sam2=...)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np


class PersonSegmenter(ABC):
    """Per-frame soft person masks for one video at a time.

    ``segment`` receives the frames, their 0-based ``indices`` in the source video
    (so temporal filters know where the gaps are, and the oracle can pick the same
    frames from its stored masks) and the dataset ``record`` of the video (anything
    with an ``extras`` mapping, e.g. ``actionbias.data.VideoRecord``), from which
    backends that rely on side information read it.
    """

    name: ClassVar[str]

    @abstractmethod
    def options(self) -> dict[str, Any]:
        """JSON-serialisable parameters that determine the output (cache key part)."""

    def segment(
        self,
        frames: np.ndarray,
        indices: np.ndarray | None = None,
        record: Any = None,
    ) -> np.ndarray:
        """Return float32 ``T x H x W`` masks in [0, 1] for ``frames``.

        The frames are checked here (`check_frames`), once for every backend, and
        handed C-contiguous to the backend's `_segment`.
        """
        return self._segment(check_frames(frames), indices, record)

    def _segment(self, frames: np.ndarray, indices: np.ndarray | None, record: Any) -> np.ndarray:
        """The backend's masks for checked ``frames`` (a backend overrides this or `segment`)."""
        raise NotImplementedError(f"{type(self).__name__} computes no masks")

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release model resources (the mediapipe graphs); the default holds none."""

    def __enter__(self) -> PersonSegmenter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_frames(frames: np.ndarray) -> np.ndarray:
    """Validate decoded frames (uint8, T x H x W x 3) and return them C-contiguous."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be T x H x W x 3, got shape {frames.shape}")
    if frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 RGB, got {frames.dtype}")
    return np.ascontiguousarray(frames)


_REGISTRY: dict[str, Callable[..., PersonSegmenter]] = {}


def register_segmenter(name: str, factory: Callable[..., PersonSegmenter]) -> None:
    """Make ``factory(**options)`` available as ``build_segmenter(name, **options)``."""
    _REGISTRY[name] = factory


def segmenter_names() -> list[str]:
    """Names accepted by `build_segmenter`."""
    _ensure_builtin()
    return sorted(_REGISTRY)


def build_segmenter(name: str, **options: Any) -> PersonSegmenter:
    """Build a backend by name; unknown names raise ``ValueError`` listing the choices."""
    _ensure_builtin()
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown segmentation backend {name!r}; choose from {', '.join(sorted(_REGISTRY))}"
        ) from None
    return factory(**options)


def _ensure_builtin() -> None:
    # Imported here, not at module top, to avoid an import cycle: the backends import
    # this module for the base class. Neither import pulls in mediapipe itself.
    if "mediapipe" not in _REGISTRY:
        from actionbias.segment.mediapipe_backend import MediapipeSegmenter

        register_segmenter("mediapipe", MediapipeSegmenter)
    if "oracle" not in _REGISTRY:
        from actionbias.segment.oracle import OracleSegmenter

        register_segmenter("oracle", OracleSegmenter)
    if "yolo-sam2" not in _REGISTRY:  # transformers is imported only when one is built
        from actionbias.segment.yolo_sam2 import YoloSam2Segmenter

        register_segmenter("yolo-sam2", YoloSam2Segmenter)
