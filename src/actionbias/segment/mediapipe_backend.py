"""The default person-mask backend: mediapipe 0.10.14 legacy solutions, offline on CPU.

Two models ship inside the mediapipe 0.10.14 wheel and need no download:

* ``model="selfie"`` (default) — ``mp.solutions.selfie_segmentation``, a semantic
  person segmenter. ``selfie_model="general"`` (256x256 input, default) or
  ``"landscape"`` (144x256, faster, coarser).
* ``model="pose"`` — ``mp.solutions.pose`` with ``enable_segmentation=True`` and
  ``model_complexity=1`` (the only pose model bundled in the wheel). It first detects
  ONE person and then segments that person; when the detector finds nobody the mask
  is empty. On consecutive frames it runs in video mode (tracking, plus mediapipe's
  own mask smoothing, ``pose_smoothing``).

Why selfie/general is the default (measured on this project's machine, see
``benchmarks/segment.py``): on ``skimage.data.astronaut()`` both models give face and
torso mask means >= 0.98 and rocket/flag means 0.00; selfie/general runs at ~110
frames/s at 604x340 on one core against ~23 frames/s for pose (video mode), keeps
every person in the frame instead of one, and degrades gracefully for small people
(the astronaut pasted 150 px tall on a 604x340 scene: IoU 0.52 for selfie/general,
0.00 for pose, whose detector gives up). Pose is sharper on a large single person
(IoU 0.98 vs 0.85 at 220 px tall) and leaves hand-held objects out of the mask;
choose it for such footage. Against SynthAct's exact masks (default preset, 112x112,
40 test clips) the IoU is 0.79 (selfie/general), 0.79 (selfie/landscape), 0.81 (pose).

mediapipe's graphs ignore ``cv2.setNumThreads`` and start their own threads (we
measured 1.0-1.5 CPU-seconds per wall-second); pin the process with
``os.sched_setaffinity`` to bound it.

Install: ``pip install mediapipe==0.10.14`` (works with numpy 2). Newer mediapipe
(>= 0.10.30) no longer has ``mp.solutions``, and 0.10.15-0.10.21 need numpy < 2. Its
declared dependencies pull in opencv-contrib-python (a GUI build that overwrites the
``cv2`` of opencv-python-headless and needs libGL), jax, jaxlib and sounddevice; the
legacy solutions import only absl-py, attrs, flatbuffers, protobuf (< 5) and
matplotlib, so ``pip install --no-deps mediapipe==0.10.14`` plus those five keeps a
headless OpenCV.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import cv2
import numpy as np

from actionbias.segment.backend import PersonSegmenter
from actionbias.segment.smoothing import SmoothingMethod, TemporalSmoothing

MediapipeModel = Literal["selfie", "pose"]
_SELFIE_MODELS = {"general": 0, "landscape": 1}
MEDIAPIPE_VERSION = "0.10.14"


def import_mediapipe() -> Any:
    """Import mediapipe with its legacy solutions, or explain how to get them."""
    try:
        import mediapipe as mp
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"the 'mediapipe' segmentation backend needs mediapipe=={MEDIAPIPE_VERSION} "
            f"(pip install mediapipe=={MEDIAPIPE_VERSION}): {err}"
        ) from err
    if not hasattr(mp, "solutions"):  # pragma: no cover - depends on the environment
        raise ImportError(
            f"mediapipe {getattr(mp, '__version__', '?')} has no legacy `solutions`; "
            f"install mediapipe=={MEDIAPIPE_VERSION}"
        )
    return mp


def mediapipe_available() -> bool:
    """True when a mediapipe with the legacy solutions can be imported."""
    try:
        import_mediapipe()
    except ImportError:
        return False
    return True


class MediapipeSegmenter(PersonSegmenter):
    """Person masks from mediapipe selfie or pose segmentation, then temporal smoothing.

    ``smoothing`` is one of ``"median"`` (default, window 3), ``"ema"`` or ``"none"``
    (see `actionbias.segment.smoothing`); it runs after the model, on runs of
    consecutive frames only.
    """

    name = "mediapipe"

    def __init__(
        self,
        model: MediapipeModel = "selfie",
        selfie_model: Literal["general", "landscape"] = "general",
        smoothing: SmoothingMethod = "median",
        window: int = 3,
        alpha: float = 0.5,
        bidirectional: bool = True,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        pose_smoothing: bool = True,
    ) -> None:
        if model not in ("selfie", "pose"):
            raise ValueError(f"mediapipe model must be 'selfie' or 'pose', got {model!r}")
        if selfie_model not in _SELFIE_MODELS:
            raise ValueError(
                f"selfie_model must be one of {sorted(_SELFIE_MODELS)}, got {selfie_model!r}"
            )
        self.model = model
        self.selfie_model = selfie_model
        self.smoothing = TemporalSmoothing(smoothing, window, alpha, bidirectional)
        self.min_detection_confidence = float(min_detection_confidence)
        self.min_tracking_confidence = float(min_tracking_confidence)
        self.pose_smoothing = bool(pose_smoothing)
        self._mp = import_mediapipe()
        self._selfie: Any = None
        self._static_pose: Any = None

    def options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {"model": self.model, "mediapipe": self._mp.__version__}
        if self.model == "selfie":
            opts["selfie_model"] = self.selfie_model
        else:
            opts.update(
                model_complexity=1,
                min_detection_confidence=self.min_detection_confidence,
                min_tracking_confidence=self.min_tracking_confidence,
                pose_smoothing=self.pose_smoothing,
            )
        opts["smoothing"] = self.smoothing.options()
        return opts

    def _new_pose(self, static: bool) -> Any:
        return self._mp.solutions.pose.Pose(
            static_image_mode=static,
            model_complexity=1,
            enable_segmentation=True,
            smooth_segmentation=self.pose_smoothing and not static,
            min_detection_confidence=self.min_detection_confidence,
            min_tracking_confidence=self.min_tracking_confidence,
        )

    def _solution_for(self, consecutive: bool) -> tuple[Any, bool]:
        """The graph to run and whether it must be closed after this video."""
        if self.model == "selfie":
            if self._selfie is None:
                self._selfie = self._mp.solutions.selfie_segmentation.SelfieSegmentation(
                    model_selection=_SELFIE_MODELS[self.selfie_model]
                )
            return self._selfie, False
        if consecutive:
            # Video mode keeps tracking state: one fresh graph per video.
            return self._new_pose(static=False), True
        if self._static_pose is None:
            self._static_pose = self._new_pose(static=True)
        return self._static_pose, False

    def _segment(self, frames: np.ndarray, indices: np.ndarray | None, record: Any) -> np.ndarray:
        num, height, width = frames.shape[:3]
        consecutive = indices is None or bool(np.all(np.diff(np.asarray(indices)) == 1))
        solution, owned = self._solution_for(consecutive)
        raw = np.zeros((num, height, width), dtype=np.float32)
        try:
            with warnings.catch_warnings():
                # protobuf 4 warns about a deprecated call inside mediapipe on every frame.
                warnings.filterwarnings("ignore", message=".*GetPrototype.*", category=UserWarning)
                for t in range(num):
                    mask = solution.process(frames[t]).segmentation_mask
                    if mask is None:  # pose found nobody: empty mask
                        continue
                    if mask.shape != (height, width):
                        mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR)
                    raw[t] = mask
        finally:
            if owned:
                solution.close()
        np.clip(raw, 0.0, 1.0, out=raw)
        return self.smoothing(raw, indices=indices)

    def close(self) -> None:
        for attr in ("_selfie", "_static_pose"):
            solution = getattr(self, attr)
            if solution is not None:
                solution.close()
                setattr(self, attr, None)
