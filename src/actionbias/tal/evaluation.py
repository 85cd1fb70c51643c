"""Reading ActivityNet-format detection results and scoring them against annotations."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from actionbias.data.activitynet import TemporalAnnotations
from actionbias.errors import BadInputError
from actionbias.metrics.tal import DetectionEvaluation, evaluate_detection


def read_predictions_json(
    path: str | Path, label_names: dict[int, str] | None = None
) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """(videos, segments (N, 2), labels, scores) from ``{"results": {video: [...]}}``.

    Integer labels (ActionFormer writes label ids) are mapped through `label_names`.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInputError("predictions file not found", source=path) from None
    except json.JSONDecodeError as err:
        raise BadInputError(
            f"invalid JSON: {err.msg}", source=path, where=f"line {err.lineno}"
        ) from err
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, dict):
        raise BadInputError("expected an object with a 'results' object", source=path)
    videos, segs, labels, scores = [], [], [], []
    for video, items in results.items():
        if not isinstance(items, list):
            raise BadInputError("must be a list", source=path, where=f"results.{video}")
        for i, item in enumerate(items):
            where = f"results.{video}[{i}]"
            labels.append(_label(item, label_names, path, where))
            seg = item.get("segment")
            if not isinstance(seg, (list, tuple)) or len(seg) != 2:
                raise BadInputError("'segment' must be [start, end]", source=path, where=where)
            start, end = _num(seg[0], path, where), _num(seg[1], path, where)
            if end < start:
                raise BadInputError(
                    f"segment [{start}, {end}] ends first", source=path, where=where
                )
            segs.append((start, end))
            scores.append(_num(item.get("score"), path, where, "score"))
            videos.append(str(video))
    return videos, np.array(segs, dtype=np.float64).reshape(-1, 2), labels, np.array(scores)


def _num(value: Any, path: Path, where: str, what: str = "segment bound") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadInputError(
            f"{what} must be a finite number, got {value!r}", source=path, where=where
        )
    return float(value)


def _label(item: Any, names: dict[int, str] | None, path: Path, where: str) -> str:
    if not isinstance(item, dict):
        raise BadInputError("prediction must be an object", source=path, where=where)
    label = item.get("label", item.get("label_id"))
    if isinstance(label, str) and label:
        return label
    if isinstance(label, int) and not isinstance(label, bool):
        if names is None or label not in names:
            raise BadInputError(
                f"label id {label} is not in the ground truth", source=path, where=where
            )
        return names[label]
    raise BadInputError("missing 'label'", source=path, where=where)


def evaluate_files(
    annotations: TemporalAnnotations,
    predictions_path: str | Path,
    tiou_thresholds: np.ndarray,
    *,
    ignore_unknown_videos: bool = False,
    subset: str | None = None,
) -> DetectionEvaluation:
    """Score a results file on the videos of `annotations` (one subset, named `subset`).

    Every prediction in the file is scored, as in the reference: one on a video
    outside `annotations` is a false positive unless `ignore_unknown_videos`.
    """
    id_to_name = {i: name for name, i in annotations.label_map().items()}
    videos, segs, labels, scores = read_predictions_json(predictions_path, id_to_name)
    gt = [(v.id, s.start, s.end, s.label) for v in annotations for s in v.segments]
    result = evaluate_detection(
        [g[0] for g in gt],
        np.array([[g[1], g[2]] for g in gt], dtype=np.float64).reshape(-1, 2),
        [g[3] for g in gt],
        videos,
        segs,
        labels,
        scores,
        tiou_thresholds,
        video_ids=[v.id for v in annotations],
        ignore_unknown_videos=ignore_unknown_videos,
    )
    result.extras["subset"] = subset if subset is not None else "all"
    result.extras["num_videos"] = len(annotations)
    return result
