"""Temporal action localisation metrics: tIoU, per-class AP and mAP over tIoU thresholds.

The numbers must be the ones papers report, so the semantics are those of the
ActivityNet / ActionFormer evaluation (`ANETdetection`):

* ground truth is de-duplicated per video: a segment whose start and end lie
  within 1e-3 s of an earlier *kept* segment of the same label is dropped;
* per class, predictions are visited by decreasing score -- ties broken exactly
  as the reference does, by reversing NumPy's default ``argsort`` of the class's
  scores in input order, so results agree bit-for-bit on the same NumPy;
* at each tIoU threshold a prediction takes the not-yet-matched ground truth of
  its video with the highest tIoU >= threshold (tIoU ties again in reversed
  ``argsort`` order); a prediction without such a segment, or on a video with no
  ground truth of its class, is a false positive -- that includes every
  prediction on a video of another subset or absent from the annotation file
  (the reference never filters predictions by video);
* AP is the all-point interpolated AP of VOC 2011 (``interpolated_prec_rec``);
  mAP is the mean over classes present in the (de-duplicated) ground truth, so a
  class without predictions scores 0 and predicted classes absent from the
  ground truth are ignored.

Why it is fast: the greedy matching decomposes into independent (class, video)
blocks; we advance all blocks of a class in lock-step (the r-th prediction of
every block at once) for all thresholds together, so the Python loop runs over
the largest block size instead of over every prediction.

Deliberate differences: a prediction and a ground-truth segment that are both
zero-length and share the same point have tIoU 0 here (the reference divides by
zero and gets NaN, which then compares as a match); a predicted label absent
from the evaluated ground truth is left out by name (ActionFormer's integer-id
remapping can let such an id collide with a remapped one; ActivityNet's raises).
Dropping the predictions on videos outside the evaluated subset is available as
an explicit option (`ignore_unknown_videos`), never the default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat

import numpy as np

DUPLICATE_TOLERANCE = 1e-3


def parse_tiou_thresholds(spec: str) -> np.ndarray:
    """``"0.3:0.7:5"`` -> linspace(0.3, 0.7, 5); ``"0.5"`` or ``"0.3,0.5"`` -> those values."""
    text = spec.strip()
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError
            lo, hi, num = float(parts[0]), float(parts[1]), int(parts[2])
            if num < 1:
                raise ValueError
            values = np.linspace(lo, hi, num)
        else:
            values = np.array([float(p) for p in text.split(",") if p.strip()], dtype=np.float64)
    except ValueError:
        raise ValueError(
            f"tIoU thresholds must look like 'start:stop:count' or '0.3,0.5', got {spec!r}"
        ) from None
    if values.size == 0 or np.any(values < 0) or np.any(values > 1):
        raise ValueError(f"tIoU thresholds must lie in [0, 1], got {spec!r}")
    return values


def segment_tiou(segments: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Pairwise temporal IoU of (N, 2) `segments` and (M, 2) `candidates` -> (N, M).

    Computed with the reference's formula and operation order (so values are
    bit-identical); a zero union gives 0.
    """
    seg = np.asarray(segments, dtype=np.float64).reshape(-1, 2)
    cand = np.asarray(candidates, dtype=np.float64).reshape(-1, 2)
    lo = np.maximum(seg[:, None, 0], cand[None, :, 0])
    hi = np.minimum(seg[:, None, 1], cand[None, :, 1])
    inter = (hi - lo).clip(0)
    union = (cand[None, :, 1] - cand[None, :, 0]) + (seg[:, None, 1] - seg[:, None, 0]) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        out = inter / union
    out[union <= 0] = 0.0
    return out


def interpolated_average_precision(precision: np.ndarray, recall: np.ndarray) -> float:
    """All-point interpolated AP (VOC 2011): area under the monotone precision envelope."""
    mprec = np.hstack([[0.0], np.asarray(precision, dtype=np.float64), [0.0]])
    mrec = np.hstack([[0.0], np.asarray(recall, dtype=np.float64), [1.0]])
    mprec = np.maximum.accumulate(mprec[::-1])[::-1]
    idx = np.where(mrec[1:] != mrec[:-1])[0] + 1
    return float(np.sum((mrec[idx] - mrec[idx - 1]) * mprec[idx]))


def deduplicate_ground_truth(
    videos: Sequence[str],
    starts: np.ndarray,
    ends: np.ndarray,
    labels: Sequence[str],
    tol: float = DUPLICATE_TOLERANCE,
) -> np.ndarray:
    """Indices of the ground truth kept after ActionFormer's duplicate removal.

    THUMOS14 lists some instances twice; counting both would cap recall at 50 %
    for them. The first occurrence wins; later ones are compared with kept ones only.
    """
    kept: dict[tuple[str, str], list[int]] = {}
    keep: list[int] = []
    for i, (video, label) in enumerate(zip(videos, labels, strict=True)):
        bucket = kept.setdefault((video, label), [])
        if any(abs(starts[i] - starts[j]) <= tol and abs(ends[i] - ends[j]) <= tol for j in bucket):
            continue
        bucket.append(i)
        keep.append(i)
    return np.asarray(keep, dtype=np.int64)


@dataclass
class DetectionEvaluation:
    """AP per (tIoU threshold, class), with the means papers report."""

    tiou_thresholds: np.ndarray
    classes: list[str]
    ap: np.ndarray  # (num_thresholds, num_classes)
    num_ground_truth: int
    num_predictions: int
    ignored_predictions: int = 0  # dropped by ``ignore_unknown_videos``
    # predictions on videos outside the evaluated subset (or, without a subset list,
    # on videos without any ground truth): false positives unless ignored
    unknown_video_predictions: int = 0
    # kept predictions of an evaluated class on a video without ground truth of that
    # class (each is a false positive at every threshold; includes the unknown videos')
    no_ground_truth_predictions: int = 0
    # predictions whose label has no ground truth in the evaluation (not scored)
    unscored_label_predictions: int = 0
    ignore_unknown_videos: bool = False
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def map_per_tiou(self) -> np.ndarray:
        if self.ap.shape[1] == 0:
            return np.zeros(len(self.tiou_thresholds))
        return self.ap.mean(axis=1)

    @property
    def average_map(self) -> float:
        return float(self.map_per_tiou.mean())

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary: mAP per threshold (keyed "0.50"), average, per-class AP."""
        keys = [f"{t:.2f}" for t in self.tiou_thresholds]
        return {
            "tiou_thresholds": [float(t) for t in self.tiou_thresholds],
            "mAP": {k: float(v) for k, v in zip(keys, self.map_per_tiou, strict=True)},
            "average_mAP": self.average_map,
            "per_class_AP": {
                name: {k: float(v) for k, v in zip(keys, self.ap[:, c], strict=True)}
                for c, name in enumerate(self.classes)
            },
            "num_ground_truth": self.num_ground_truth,
            "num_predictions": self.num_predictions,
            "unknown_videos": "ignored" if self.ignore_unknown_videos else "false positives",
            "unknown_video_predictions": self.unknown_video_predictions,
            "ignored_predictions": self.ignored_predictions,
            "no_ground_truth_predictions": self.no_ground_truth_predictions,
            "unscored_label_predictions": self.unscored_label_predictions,
            **self.extras,
        }


def _reference_order(values: np.ndarray) -> np.ndarray:
    """Descending order with ties resolved as the reference resolves them."""
    return np.argsort(values)[::-1]


def _class_ap(
    gt_video: np.ndarray,
    gt_seg: np.ndarray,
    pred_video: np.ndarray,
    pred_seg: np.ndarray,
    pred_score: np.ndarray,
    thresholds: np.ndarray,
) -> np.ndarray:
    """AP at every threshold for one class (videos as integer codes)."""
    n_thr = len(thresholds)
    npos = len(gt_video)
    num_pred = len(pred_video)
    if num_pred == 0:
        return np.zeros(n_thr)
    order = _reference_order(pred_score)
    pv = pred_video[order]
    ps = pred_seg[order]

    # ground truth of this class grouped by video, in input order
    gt_order = np.argsort(gt_video, kind="stable")
    gvid_sorted = gt_video[gt_order]
    uniq, first, counts = np.unique(gvid_sorted, return_index=True, return_counts=True)
    gmax = int(counts.max())
    slot = np.searchsorted(uniq, pv)
    slot_clip = np.minimum(slot, len(uniq) - 1)
    has_gt = uniq[slot_clip] == pv

    tp = np.zeros((n_thr, num_pred), dtype=bool)
    idx_g = np.flatnonzero(has_gt)
    if idx_g.size:
        blocks = slot_clip[idx_g]
        # padded table of global GT indices per prediction: (P', gmax), -1 = padding
        cols = np.arange(gmax)
        valid = cols[None, :] < counts[blocks][:, None]
        gt_idx = np.where(valid, gt_order[np.minimum(first[blocks][:, None] + cols, npos - 1)], -1)
        lo = np.maximum(ps[idx_g, 0][:, None], gt_seg[gt_idx, 0])
        hi = np.minimum(ps[idx_g, 1][:, None], gt_seg[gt_idx, 1])
        inter = (hi - lo).clip(0)
        union = (
            (gt_seg[gt_idx, 1] - gt_seg[gt_idx, 0]) + (ps[idx_g, 1] - ps[idx_g, 0])[:, None] - inter
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            tiou = inter / union
        tiou[union <= 0] = 0.0
        tiou[~valid] = -np.inf
        # GT preference per prediction: descending tIoU; rows with tied valid values
        # re-sorted exactly like the reference (reverse argsort of the unpadded row)
        rank = np.argsort(-tiou, axis=1, kind="stable")
        srt = np.take_along_axis(tiou, rank, axis=1)
        # (only ties a threshold can reach matter: below every threshold nothing matches)
        reach = np.isfinite(srt[:, 1:]) & (srt[:, 1:] >= thresholds.min())
        tied = np.any((srt[:, 1:] == srt[:, :-1]) & reach, axis=1)
        for r in np.flatnonzero(tied):
            n = int(counts[blocks[r]])
            rank[r, :n] = _reference_order(tiou[r, :n])
        srt = np.take_along_axis(tiou, rank, axis=1)
        pref_gt = np.take_along_axis(gt_idx, rank, axis=1)  # (P', gmax); -1 padding at the end

        # rank of each prediction inside its (video) block, in score order
        block_order = np.argsort(blocks, kind="stable")
        sorted_blocks = blocks[block_order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_blocks)) + 1]
        within = np.arange(len(blocks)) - np.repeat(starts, np.diff(np.r_[starts, len(blocks)]))
        step_of = np.empty(len(blocks), dtype=np.int64)
        step_of[block_order] = within

        locked = np.zeros((n_thr, npos + 1), dtype=bool)  # last column: padding sink
        locked[:, npos] = True
        above = srt[None, :, :] >= thresholds[:, None, None]  # (T, P', gmax)
        steps = np.argsort(step_of, kind="stable")
        bounds = np.r_[0, np.cumsum(np.bincount(step_of))]
        thr_ix = np.arange(n_thr)[:, None]
        for s in range(len(bounds) - 1):
            rows = steps[bounds[s] : bounds[s + 1]]
            cand = pref_gt[rows]  # (A, gmax)
            ok = above[:, rows, :] & ~locked[:, cand]  # (T, A, gmax)
            hit = ok.any(axis=2)
            choice = cand[np.arange(len(rows))[None, :], ok.argmax(axis=2)]  # (T, A)
            choice = np.where(hit, choice, npos)
            locked[thr_ix, choice] = True
            locked[:, npos] = True
            tp[:, idx_g[rows]] = hit
    fp = ~tp
    tp_cum = np.cumsum(tp, axis=1).astype(np.float64)
    fp_cum = np.cumsum(fp, axis=1).astype(np.float64)
    recall = tp_cum / float(npos)
    precision = tp_cum / (tp_cum + fp_cum)
    return np.array([interpolated_average_precision(precision[t], recall[t]) for t in range(n_thr)])


def evaluate_detection(
    gt_videos: Sequence[str],
    gt_segments: np.ndarray,
    gt_labels: Sequence[str],
    pred_videos: Sequence[str],
    pred_segments: np.ndarray,
    pred_labels: Sequence[str],
    pred_scores: np.ndarray,
    tiou_thresholds: Sequence[float] | np.ndarray = (0.3, 0.4, 0.5, 0.6, 0.7),
    *,
    video_ids: Sequence[str] | None = None,
    ignore_unknown_videos: bool = False,
    deduplicate: bool = True,
) -> DetectionEvaluation:
    """mAP of detections against ground truth (ActivityNet/ActionFormer semantics).

    Inputs are flat, in file order (the order only matters for exact ties).
    `video_ids`: the evaluated subset (videos without ground truth included); a
    prediction on any other video is an *unknown-video* prediction (without
    `video_ids`: one on a video without any ground truth). As in the reference
    these are false positives and counted in ``unknown_video_predictions``;
    ``ignore_unknown_videos=True`` drops them instead (``ignored_predictions``).
    """
    thresholds = np.asarray(tiou_thresholds, dtype=np.float64).reshape(-1)
    gt_seg = np.asarray(gt_segments, dtype=np.float64).reshape(-1, 2)
    pred_seg = np.asarray(pred_segments, dtype=np.float64).reshape(-1, 2)
    scores = np.asarray(pred_scores, dtype=np.float64).reshape(-1)
    gt_videos = list(map(str, gt_videos))
    gt_labels = list(map(str, gt_labels))
    pred_videos = list(map(str, pred_videos))
    pred_labels = list(map(str, pred_labels))
    if not (len(gt_videos) == len(gt_labels) == len(gt_seg)):
        raise ValueError("ground truth videos, segments and labels differ in length")
    if not (len(pred_videos) == len(pred_labels) == len(pred_seg) == len(scores)):
        raise ValueError("prediction videos, segments, labels and scores differ in length")

    if deduplicate and len(gt_videos):
        keep = deduplicate_ground_truth(gt_videos, gt_seg[:, 0], gt_seg[:, 1], gt_labels)
        gt_videos = [gt_videos[i] for i in keep]
        gt_labels = [gt_labels[i] for i in keep]
        gt_seg = gt_seg[keep]

    known = set(gt_videos) if video_ids is None else {str(v) for v in video_ids} | set(gt_videos)
    inside = np.fromiter(map(known.__contains__, pred_videos), dtype=bool, count=len(pred_videos))
    unknown = int(len(pred_videos) - inside.sum())
    ignored = 0
    if ignore_unknown_videos and unknown:
        ignored = unknown
        sel = np.flatnonzero(inside)
        pred_videos = [pred_videos[i] for i in sel]
        pred_labels = [pred_labels[i] for i in sel]
        pred_seg = pred_seg[sel]
        scores = scores[sel]

    classes = sorted(set(gt_labels))
    class_code = {name: i for i, name in enumerate(classes)}
    # integer codes; which code a video gets does not matter (blocks are independent)
    code = {v: i for i, v in enumerate(dict.fromkeys(chain(gt_videos, pred_videos)))}
    gvid = np.fromiter(map(code.__getitem__, gt_videos), dtype=np.int64, count=len(gt_videos))
    pvid = np.fromiter(map(code.__getitem__, pred_videos), dtype=np.int64, count=len(pred_videos))
    glab = np.fromiter(map(class_code.__getitem__, gt_labels), dtype=np.int64, count=len(gt_labels))
    plab = np.fromiter(
        map(class_code.get, pred_labels, repeat(-1)), dtype=np.int64, count=len(pred_labels)
    )
    # per class, the rows in input order (stable sorts keep it: it decides exact ties)
    gorder = np.argsort(glab, kind="stable")
    porder = np.argsort(plab, kind="stable")
    wanted = np.arange(len(classes))
    gbounds = np.searchsorted(glab[gorder], np.r_[wanted, len(classes)])
    pbounds = np.searchsorted(plab[porder], np.r_[wanted, len(classes)])
    ap = np.zeros((len(thresholds), len(classes)))
    no_gt = 0
    for c in range(len(classes)):
        gsel = gorder[gbounds[c] : gbounds[c + 1]]
        psel = porder[pbounds[c] : pbounds[c + 1]]
        no_gt += int((~np.isin(pvid[psel], gvid[gsel])).sum())
        ap[:, c] = _class_ap(
            gvid[gsel], gt_seg[gsel], pvid[psel], pred_seg[psel], scores[psel], thresholds
        )
    scored = int(pbounds[-1] - pbounds[0])
    return DetectionEvaluation(
        tiou_thresholds=thresholds,
        classes=classes,
        ap=ap,
        num_ground_truth=len(gt_videos),
        num_predictions=len(pred_videos) + ignored,
        ignored_predictions=ignored,
        unknown_video_predictions=unknown,
        no_ground_truth_predictions=no_gt,
        unscored_label_predictions=len(pred_videos) - scored,
        ignore_unknown_videos=ignore_unknown_videos,
    )
