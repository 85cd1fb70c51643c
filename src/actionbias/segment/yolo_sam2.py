"""The paper's person-mask pipeline: one detector box, then SAM2 video propagation.

"Seeing Beyond the Scene" (appendix A.2, "Segmented Input") ran YOLOv5 on the video,
kept the highest-confidence box labelled "person" and gave it to SAM2, whose video
predictor propagated the segmentation through all frames. This backend does the
same with Hugging Face ``transformers`` (>= 5):

1. Any ``AutoModelForObjectDetection`` checkpoint (YOLOS, DETR, RT-DETR, ...) runs
   frame by frame, in batches of ``detect_batch``, until the first frame with a
   detection whose label matches ``person_label`` (case-insensitive, looked up in the
   detector's ``id2label``) and whose score is at least ``score_threshold``. The
   highest-scoring person box of that frame is the prompt. YOLOv5 itself is an
   ultralytics model that needs torchvision, which does not install beside this
   project's pinned CPU torch, so it is not offered; a YOLOS checkpoint ("You Only
   Look at One Sequence") is the closest drop-in.
2. ``Sam2VideoModel`` is prompted with that box on that frame and propagates it
   forward to the last frame and, when the box was found after frame 0, backward to
   frame 0 (transformers' ``propagate_in_video_iterator(reverse=True)``), so every
   frame gets a mask.

Output: float32 ``T x H x W`` soft masks, the sigmoid of SAM2's mask logits resized
to the frame size. SAM2 writes a large negative logit where its object-presence head
says the person is gone, so those frames come out (near) zero. A video in which the
detector never finds a person gives all-zero masks, which the mask cache counts as
frames without a person.

Why SAM2's preprocessing is done here rather than by ``Sam2VideoProcessor``: in
transformers 5 that processor's image half imports torchvision. What it does is
simple and is reproduced exactly: frames are resized (bilinear, antialiased) to the
model's square ``image_size``, scaled to [0, 1] and normalised with the ImageNet
mean and standard deviation; box corners are scaled by ``image_size / W`` and
``image_size / H``; low-resolution mask logits are upsampled to ``image_size`` and
then to the frame size. The detector keeps its own image processor (YOLOS and DETR
fall back to their PIL processors without torchvision).

Weights are the user's: ``detector`` and ``sam2`` are local directories or hub ids
passed to ``from_pretrained`` (e.g. ``hustvl/yolos-small`` and
``facebook/sam2.1-hiera-tiny``). Memory: every frame is stored preprocessed
(3 x 1024 x 1024 in the session dtype, 12 MB per frame in float32 for the released
checkpoints) in host memory for the whole video, as SAM2's video predictor needs
random access to frames for backward propagation.

transformers is imported only when this backend is built; importing
``actionbias.segment`` does not import it (nor torch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from actionbias.errors import BadInputError
from actionbias.segment.backend import PersonSegmenter, check_frames

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
DTYPES: tuple[str, ...] = ("float32", "float16", "bfloat16")
# the constructor options `options` reports, in its order; device and detect_batch are
# left out of it (where and in what batches the models run)
MASK_OPTIONS = ("detector", "sam2", "person_label", "score_threshold", "dtype")
# SAM2's prompt-encoder labels for the two corners of a box prompt.
BOX_CORNER_LABELS: tuple[int, int] = (2, 3)
_OBJECT_ID = 1
_INSTALL_HINT = "pip install transformers  (version 5 or later)"


def import_transformers() -> Any:
    """Import transformers with SAM2 video support, or explain how to get it."""
    try:
        import transformers
    except ImportError as err:
        raise ImportError(
            f"the 'yolo-sam2' segmentation backend needs Hugging Face transformers "
            f"({_INSTALL_HINT}): {err}"
        ) from err
    if not hasattr(transformers, "Sam2VideoModel"):
        raise ImportError(
            f"transformers {transformers.__version__} has no Sam2VideoModel; "
            f"the 'yolo-sam2' backend needs a newer one ({_INSTALL_HINT})"
        )
    return transformers


def transformers_available() -> bool:
    """True when a transformers with ``Sam2VideoModel`` can be imported."""
    try:
        import_transformers()
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class PersonBox:
    """The detector's prompt for SAM2: where the person was first seen.

    ``frame`` is the position in the frames given to ``segment`` (not the source
    video index); ``box`` is ``(x0, y0, x1, y1)`` in pixels of that frame.
    """

    frame: int
    score: float
    box: tuple[float, float, float, float]


def person_label_ids(
    id2label: Mapping[Any, str], person_label: str = "person", source: str | None = None
) -> list[int]:
    """Class ids whose name is ``person_label`` (case and surrounding space ignored).

    A detector without such a class cannot drive this backend: `BadInputError`
    naming the detector and some of its labels.
    """
    wanted = person_label.strip().lower()
    ids = sorted(int(i) for i, name in id2label.items() if str(name).strip().lower() == wanted)
    if not ids:
        names = [str(name) for _, name in sorted(id2label.items(), key=lambda kv: int(kv[0]))]
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        raise BadInputError(
            f"detector has no {person_label!r} class (its labels: {shown or 'none'})",
            source=source,
            where="person_label",
        )
    return ids


def _as_numpy(values: Any) -> np.ndarray:
    if hasattr(values, "detach"):  # a torch tensor, possibly bf16 or on a GPU
        values = values.detach().float().cpu().numpy()
    return np.asarray(values)


def best_person_box(
    detections: Sequence[Mapping[str, Any]],
    person_ids: Sequence[int],
    score_threshold: float = 0.0,
    first_frame: int = 0,
) -> PersonBox | None:
    """The highest-scoring person box of the first frame that has one, else None.

    ``detections`` holds one mapping per frame, in frame order, with ``scores``
    (N), ``labels`` (N) and ``boxes`` (N x 4, x0 y0 x1 y1 pixels): what
    ``post_process_object_detection`` returns. ``first_frame`` is the frame number of
    ``detections[0]`` (batches after the first one start later).
    """
    person = np.asarray(list(person_ids), dtype=np.int64)
    for offset, det in enumerate(detections):
        scores = _as_numpy(det["scores"]).reshape(-1).astype(np.float64)
        labels = _as_numpy(det["labels"]).reshape(-1).astype(np.int64)
        boxes = _as_numpy(det["boxes"]).reshape(-1, 4).astype(np.float64)
        keep = np.isin(labels, person) & (scores >= score_threshold)
        if not keep.any():
            continue
        best = int(np.flatnonzero(keep)[np.argmax(scores[keep])])
        x0, y0, x1, y1 = (float(v) for v in boxes[best])
        return PersonBox(first_frame + offset, float(scores[best]), (x0, y0, x1, y1))
    return None


def box_prompt(box: Sequence[float], height: int, width: int, image_size: int) -> np.ndarray:
    """Box corners in SAM2's input coordinates: a ``2 x 2`` array ``[[x0, y0], [x1, y1]]``.

    The box is clipped to the frame first (detectors may overshoot the border).
    """
    x0, y0, x1, y1 = (float(v) for v in box)
    x0, x1 = np.clip([x0, x1], 0.0, float(width))
    y0, y1 = np.clip([y0, y1], 0.0, float(height))
    scale = np.array([image_size / width, image_size / height])
    return np.array([[x0, y0], [x1, y1]]) * scale


def logits_to_masks(logits: Any, height: int, width: int, image_size: int) -> np.ndarray:
    """SAM2 low-resolution mask logits (``N x 1 x h x w`` tensor) -> ``N x H x W`` in [0, 1].

    Upsampled to ``image_size`` first and then to the frame, as transformers'
    ``Sam2VideoProcessor.post_process_masks`` does, so thresholds carry over.
    """
    import torch
    import torch.nn.functional as F

    x = logits.float()
    x = F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False)
    x = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False)
    return torch.sigmoid(x[:, 0]).cpu().numpy().astype(np.float32)


class YoloSam2Segmenter(PersonSegmenter):
    """Detector box on the first frame with a person, propagated by SAM2 (module docstring).

    ``detector`` and ``sam2`` are local paths or hub ids for ``from_pretrained``.
    ``device`` is a torch device string; ``dtype`` (``"float32"``, ``"float16"``,
    ``"bfloat16"``) is used for both models (half precision is for GPUs).

    After each ``segment`` call, ``last_detection`` holds the prompt box (or None when
    no person was found) and ``last_tracked_frames`` how many frames SAM2 produced.
    """

    name = "yolo-sam2"

    def __init__(
        self,
        detector: str | Path | None = None,
        sam2: str | Path | None = None,
        person_label: str = "person",
        score_threshold: float = 0.5,
        device: str = "cpu",
        dtype: str = "float32",
        detect_batch: int = 8,
    ) -> None:
        if not detector or not sam2:
            raise BadInputError(
                "the yolo-sam2 backend needs detector=<path or hub id of an object detector> "
                "and sam2=<path or hub id of a SAM2 video checkpoint>",
                where="detector" if not detector else "sam2",
            )
        if dtype not in DTYPES:
            raise BadInputError(
                f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}", None, "dtype"
            )
        if not 0.0 <= float(score_threshold) <= 1.0:
            raise BadInputError(
                f"score_threshold must be in [0, 1], got {score_threshold}", None, "score_threshold"
            )
        if int(detect_batch) < 1:
            raise BadInputError(
                f"detect_batch must be >= 1, got {detect_batch}", None, "detect_batch"
            )
        self.detector = str(detector)
        self.sam2 = str(sam2)
        self.person_label = person_label
        self.score_threshold = float(score_threshold)
        self.dtype = dtype
        self.detect_batch = int(detect_batch)
        self._transformers = import_transformers()
        import torch

        try:
            self.device = torch.device(device)
        except (RuntimeError, TypeError) as err:
            raise BadInputError(f"not a torch device: {device!r} ({err})", None, "device") from err
        self._torch_dtype = getattr(torch, dtype)
        self._load_models()
        self.last_detection: PersonBox | None = None
        self.last_tracked_frames = 0

    def _load_models(self) -> None:
        tf = self._transformers
        try:
            self._det_processor = tf.AutoImageProcessor.from_pretrained(self.detector)
            self._det_model = tf.AutoModelForObjectDetection.from_pretrained(
                self.detector, dtype=self._torch_dtype
            )
        except (OSError, ValueError, KeyError) as err:
            raise BadInputError(
                f"cannot load the object detector: {err}", source=self.detector
            ) from err
        self._person_ids = person_label_ids(
            self._det_model.config.id2label, self.person_label, source=self.detector
        )
        try:
            self._sam2_model = tf.Sam2VideoModel.from_pretrained(self.sam2, dtype=self._torch_dtype)
        except (OSError, ValueError, KeyError) as err:
            raise BadInputError(
                f"cannot load the SAM2 video model: {err}", source=self.sam2
            ) from err
        self._det_model.to(self.device).eval()
        self._sam2_model.to(self.device).eval()
        size = self._sam2_model.config.image_size
        self._image_size = int(size if isinstance(size, int) else size[0])

    def options(self) -> dict[str, Any]:
        """The constructor options in `MASK_OPTIONS`, how SAM2 is prompted and the
        transformers version: this backend's part of the mask cache key."""
        return {
            **{name: getattr(self, name) for name in MASK_OPTIONS},
            "prompt": "best-person-box-first-detected-frame",
            "transformers": self._transformers.__version__,
        }

    def detect_first_person(self, frames: np.ndarray) -> PersonBox | None:
        """Run the detector in batches until a frame has a person; the best box there."""
        import torch

        frames = check_frames(frames)
        height, width = frames.shape[1:3]
        with torch.inference_mode():
            for start in range(0, len(frames), self.detect_batch):
                batch = list(frames[start : start + self.detect_batch])
                inputs = self._det_processor(images=batch, return_tensors="pt")
                inputs = {
                    k: v.to(self.device, self._torch_dtype)
                    if v.is_floating_point()
                    else v.to(self.device)
                    for k, v in inputs.items()
                    if hasattr(v, "to")
                }
                outputs = self._det_model(**inputs)
                for key, value in outputs.items():
                    if hasattr(value, "is_floating_point") and value.is_floating_point():
                        outputs[key] = value.float()
                results = self._det_processor.post_process_object_detection(
                    outputs,
                    threshold=self.score_threshold,
                    target_sizes=[(height, width)] * len(batch),
                )
                found = best_person_box(results, self._person_ids, self.score_threshold, start)
                if found is not None:
                    return found
        return None

    def _new_session(self, frames: np.ndarray) -> Any:
        """A SAM2 inference session holding the preprocessed frames (host memory)."""
        import torch
        import torch.nn.functional as F
        from transformers.models.sam2_video.modeling_sam2_video import Sam2VideoInferenceSession

        num, height, width = frames.shape[:3]
        session = Sam2VideoInferenceSession(
            video=None,
            video_height=height,
            video_width=width,
            inference_device=self.device,
            inference_state_device=self.device,
            video_storage_device=torch.device("cpu"),
            dtype=self._torch_dtype,
        )
        size = self._image_size
        mean = torch.tensor(IMAGENET_MEAN, device=self.device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, device=self.device).view(1, 3, 1, 1)
        for start in range(0, num, self.detect_batch):
            chunk = torch.from_numpy(frames[start : start + self.detect_batch]).to(self.device)
            chunk = chunk.permute(0, 3, 1, 2).float()
            chunk = F.interpolate(
                chunk, size=(size, size), mode="bilinear", align_corners=False, antialias=True
            )
            chunk = (chunk / 255.0 - mean) / std
            for offset, frame in enumerate(chunk):
                session.add_new_frame(frame, frame_idx=start + offset)
        return session

    def track(self, frames: np.ndarray, prompt: PersonBox) -> np.ndarray:
        """SAM2 masks for every frame from one box prompt (forward, then backward)."""
        import torch

        frames = check_frames(frames)
        num, height, width = frames.shape[:3]
        if not 0 <= prompt.frame < num:
            raise ValueError(f"prompt frame {prompt.frame} outside a {num}-frame clip")
        masks = np.zeros((num, height, width), dtype=np.float32)
        tracked: set[int] = set()
        model = self._sam2_model
        with torch.inference_mode():
            session = self._new_session(frames)
            corners = box_prompt(prompt.box, height, width, self._image_size)
            obj_idx = session.obj_id_to_idx(_OBJECT_ID)
            session.add_point_inputs(
                obj_idx,
                prompt.frame,
                {
                    "point_coords": torch.tensor(corners, dtype=torch.float32).view(1, 1, 2, 2),
                    "point_labels": torch.tensor(BOX_CORNER_LABELS, dtype=torch.int32).view(
                        1, 1, 2
                    ),
                },
            )
            session.obj_with_new_inputs = [_OBJECT_ID]
            passes = [False, True] if prompt.frame > 0 else [False]
            for reverse in passes:
                for out in model.propagate_in_video_iterator(
                    session, start_frame_idx=prompt.frame, reverse=reverse
                ):
                    logits = out.pred_masks[:1]  # the single tracked object
                    masks[out.frame_idx] = logits_to_masks(logits, height, width, self._image_size)[
                        0
                    ]
                    tracked.add(int(out.frame_idx))
        self.last_tracked_frames = len(tracked)
        return masks

    def _segment(self, frames: np.ndarray, indices: np.ndarray | None, record: Any) -> np.ndarray:
        self.last_tracked_frames = 0
        self.last_detection = self.detect_first_person(frames)
        if self.last_detection is None:
            return np.zeros(frames.shape[:3], dtype=np.float32)
        masks = self.track(frames, self.last_detection)
        return np.clip(masks, 0.0, 1.0, out=masks)

    def close(self) -> None:
        for attr in ("_det_model", "_sam2_model", "_det_processor"):
            if hasattr(self, attr):
                delattr(self, attr)
        if self.device.type == "cuda":
            import torch

            torch.cuda.empty_cache()
