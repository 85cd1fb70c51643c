"""`pose`: body-part likelihood maps from mediapipe pose landmarks (also PC3D++'s skeleton maps).

mediapipe 0.10.14's `mp.solutions.pose` (bundled, offline; see
`actionbias.segment.mediapipe_backend`) gives 33 landmarks per frame with a
visibility in [0, 1]. Each body part is drawn from them as a thick line segment (upper
arm, forearm, thigh, shin, neck), a filled polygon (torso, pelvis band, hand, foot) or a
disc (head), with the part's visibility (the smaller of its landmarks') as the value,
so an occluded limb gives a weak map instead of a confident one. Thickness scales with
the body (the torso diagonal), so a small person gets thin limbs.

"person" is mediapipe's segmentation mask when `segmentation=True`, else the union of
all parts. Queries are answered from the part names with the same vocabulary rules as
the oracle ("arm" -> both upper arms and forearms, "leg" -> thighs + shins, "human" ->
person); anything that is not a body part gives an empty map.

Frames of one call are treated as one video (tracking mode, a fresh graph per call);
`static=True` runs every frame on its own.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from actionbias.a2o.maps.backend import LazyModelBackend
from actionbias.a2o.maps.vocabulary import DEFAULT_THRESHOLD, RegionVocabulary
from actionbias.errors import BadInputError

# mediapipe pose landmark numbers.
NOSE, L_EAR, R_EAR, MOUTH_L, MOUTH_R = 0, 7, 8, 9, 10
L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 11, 12, 13, 14, 15, 16
L_PINKY, R_PINKY, L_INDEX, R_INDEX, L_THUMB, R_THUMB = 17, 18, 19, 20, 21, 22
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 23, 24, 25, 26, 27, 28
L_HEEL, R_HEEL, L_FOOT, R_FOOT = 29, 30, 31, 32
FACE = tuple(range(11))

#: part name -> ("segment" | "polygon", landmark numbers, thickness as a fraction of body size)
PARTS: dict[str, tuple[str, tuple[int, ...], float]] = {
    "neck": ("segment", (-1, -2), 0.12),  # -1: shoulder midpoint, -2: mouth midpoint
    "torso": ("polygon", (L_SHOULDER, R_SHOULDER, R_HIP, L_HIP), 0.06),
    "pelvis": ("polygon", (L_HIP, R_HIP), 0.18),
    "left upper arm": ("segment", (L_SHOULDER, L_ELBOW), 0.12),
    "left forearm": ("segment", (L_ELBOW, L_WRIST), 0.10),
    "left hand": ("polygon", (L_WRIST, L_PINKY, L_INDEX, L_THUMB), 0.08),
    "right upper arm": ("segment", (R_SHOULDER, R_ELBOW), 0.12),
    "right forearm": ("segment", (R_ELBOW, R_WRIST), 0.10),
    "right hand": ("polygon", (R_WRIST, R_PINKY, R_INDEX, R_THUMB), 0.08),
    "left thigh": ("segment", (L_HIP, L_KNEE), 0.16),
    "left shin": ("segment", (L_KNEE, L_ANKLE), 0.12),
    "left foot": ("polygon", (L_ANKLE, L_HEEL, L_FOOT), 0.08),
    "right thigh": ("segment", (R_HIP, R_KNEE), 0.16),
    "right shin": ("segment", (R_KNEE, R_ANKLE), 0.12),
    "right foot": ("polygon", (R_ANKLE, R_HEEL, R_FOOT), 0.08),
}
PART_NAMES: tuple[str, ...] = ("person", "head", *PARTS)


class PoseMapBackend(LazyModelBackend):
    name = "pose"
    #: What made the maps, as the LLM policy's prompt names it.
    label = "MediaPipe Pose"
    _model_attrs = ("_mp",)

    def __init__(
        self,
        segmentation: bool = False,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        width_scale: float = 1.0,
        static: bool = False,
        threshold: float = DEFAULT_THRESHOLD,
        input_size: int | None = 256,
    ) -> None:
        if float(width_scale) <= 0:
            raise BadInputError(f"width_scale must be > 0, got {width_scale}", where="width_scale")
        self.segmentation = bool(segmentation)
        self.min_detection_confidence = float(min_detection_confidence)
        self.min_tracking_confidence = float(min_tracking_confidence)
        self.width_scale = float(width_scale)
        self.static = bool(static)
        self.input_size = None if input_size is None else int(input_size)
        self.vocabulary = RegionVocabulary(threshold=threshold)
        self._mp: Any = None

    def cache_key(self) -> dict:
        return {
            "model": "mediapipe-pose-full",
            "segmentation": self.segmentation,
            "min_detection_confidence": self.min_detection_confidence,
            "min_tracking_confidence": self.min_tracking_confidence,
            "width_scale": self.width_scale,
            "static": self.static,
            "vocabulary": self.vocabulary.options(),
        }

    def _graph(self) -> Any:
        if self._mp is None:
            from actionbias.segment.mediapipe_backend import import_mediapipe

            self._mp = import_mediapipe()
        return self._mp.solutions.pose.Pose(
            static_image_mode=self.static,
            model_complexity=1,  # the only pose model inside the 0.10.14 wheel
            enable_segmentation=self.segmentation,
            smooth_segmentation=self.segmentation and not self.static,
            min_detection_confidence=self.min_detection_confidence,
            min_tracking_confidence=self.min_tracking_confidence,
        )

    def landmarks(self, frames: np.ndarray) -> list[tuple[np.ndarray | None, np.ndarray | None]]:
        """Per frame: (33 x 3 array of pixel x, pixel y, visibility) or None, and the mask."""
        frames = self.check_frames(frames)
        height, width = frames.shape[1:3]
        out: list[tuple[np.ndarray | None, np.ndarray | None]] = []
        graph = self._graph()
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*GetPrototype.*", category=UserWarning)
                for frame in frames:
                    result = graph.process(np.ascontiguousarray(frame))
                    points = None
                    if result.pose_landmarks is not None:
                        points = np.array(
                            [
                                (lm.x * width, lm.y * height, lm.visibility)
                                for lm in result.pose_landmarks.landmark
                            ],
                            dtype=np.float32,
                        )
                    mask = getattr(result, "segmentation_mask", None)
                    out.append((points, None if mask is None else np.asarray(mask, np.float32)))
        finally:
            graph.close()
        return out

    def part_maps(self, frames: np.ndarray) -> dict[str, np.ndarray]:
        """{part name: float32 T x H x W} for every name in `PART_NAMES`."""
        frames = self.check_frames(frames)
        num, height, width = frames.shape[:3]
        maps = {name: np.zeros((num, height, width), dtype=np.float32) for name in PART_NAMES}
        for t, (points, mask) in enumerate(self.landmarks(frames)):
            if points is None:
                continue
            drawn = draw_parts(points, height, width, self.width_scale)
            for name, image in drawn.items():
                maps[name][t] = image
            if self.segmentation and mask is not None:
                if mask.shape != (height, width):
                    mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR)
                maps["person"][t] = np.clip(mask, 0.0, 1.0)
        return maps

    def _maps(
        self, record: Any, frames: np.ndarray, queries: list[str], indices: Sequence[int] | None
    ) -> np.ndarray:
        out = np.zeros((len(queries), *frames.shape[:3]), dtype=np.float32)
        matches = [self.vocabulary.match(q, PART_NAMES) for q in queries]
        if not any(m.regions for m in matches):
            return out  # nothing asked is a body part: skip the model
        parts = self.part_maps(frames)
        for q, match in enumerate(matches):
            for region in match.regions:
                np.maximum(out[q], parts[region], out=out[q])
        return out


def _point(points: np.ndarray, index: int) -> tuple[np.ndarray, float]:
    """(x, y), visibility of a landmark or of a derived midpoint (-1 shoulders, -2 mouth)."""
    pairs = {-1: (L_SHOULDER, R_SHOULDER), -2: (MOUTH_L, MOUTH_R)}
    if index in pairs:
        a, b = pairs[index]
        return (points[a, :2] + points[b, :2]) / 2, float(min(points[a, 2], points[b, 2]))
    return points[index, :2], float(points[index, 2])


def draw_parts(points: np.ndarray, height: int, width: int, width_scale: float = 1.0) -> dict:
    """Every part of one frame's landmarks (33 x 3: x px, y px, visibility) as float maps.

    Drawn on an 8x sub-pixel grid (cv2 `shift`) so thin limbs of small people keep
    their width; values are the part's visibility, clipped to [0, 1].
    """
    shoulders = (points[L_SHOULDER, :2] + points[R_SHOULDER, :2]) / 2
    hips = (points[L_HIP, :2] + points[R_HIP, :2]) / 2
    body = max(float(np.linalg.norm(shoulders - hips)), 1.0)
    frac = 3  # cv2 fixed-point bits
    scale = 1 << frac
    maps: dict[str, np.ndarray] = {}
    for name, (kind, ids, thick) in PARTS.items():
        coords, vis = zip(*(_point(points, i) for i in ids), strict=True)
        value = float(np.clip(min(vis), 0.0, 1.0))
        canvas = np.zeros((height, width), dtype=np.uint8)
        pts = np.round(np.array(coords, dtype=np.float64) * scale).astype(np.int32)
        size = max(1, round(thick * body * width_scale))
        if kind == "segment" or len(pts) == 2:
            cv2.line(canvas, tuple(pts[0]), tuple(pts[1]), 255, size, cv2.LINE_8, frac)
        else:
            hull = cv2.convexHull(pts)
            cv2.fillPoly(canvas, [hull], 255, cv2.LINE_8, frac)
            cv2.polylines(canvas, [hull], True, 255, size, cv2.LINE_8, frac)
        maps[name] = canvas.astype(np.float32) * (value / 255.0)
    # Head: a disc around the face landmarks, radius from the ear distance.
    face = points[list(FACE)]
    centre = face[:, :2].mean(axis=0)
    ears = float(np.linalg.norm(points[L_EAR, :2] - points[R_EAR, :2]))
    radius = max(ears * 0.75, 0.18 * body, 1.0) * width_scale
    canvas = np.zeros((height, width), dtype=np.uint8)
    cv2.circle(
        canvas,
        tuple(np.round(centre * scale).astype(np.int32)),
        round(radius * scale),
        255,
        -1,
        cv2.LINE_8,
        frac,
    )
    head_vis = float(np.clip(np.median(face[:, 2]), 0.0, 1.0))
    maps["head"] = canvas.astype(np.float32) * (head_vis / 255.0)
    person = np.zeros((height, width), dtype=np.float32)
    for image in maps.values():
        np.maximum(person, image, out=person)
    maps["person"] = person
    return maps
