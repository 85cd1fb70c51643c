"""From detector outputs to scored segments in seconds.

Per video: sigmoid scores above `score_threshold`, the `pre_nms_topk` best
(point, class) pairs per level, decoded to segments, too-short ones dropped,
per-class Gaussian soft-NMS, the `max_segments` best kept, mapped to seconds
through the video's feature grid and clipped to its duration.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from actionbias.tal.detector import DetectorOutput
from actionbias.tal.features import FeatureGrid
from actionbias.tal.nms import soft_nms


@dataclass
class InferenceConfig:
    score_threshold: float = 1e-3
    pre_nms_topk: int = 2000
    min_duration: float = 0.05  # feature-grid units
    nms_sigma: float = 0.5
    min_score: float = 1e-3
    max_segments: int = 200


@dataclass
class VideoDetections:
    """Detections of one video: segments (N, 2) in seconds, scores, class indices."""

    video_id: str
    segments: Tensor
    scores: Tensor
    labels: Tensor


def decode_video(
    out: DetectorOutput, index: int, cfg: InferenceConfig | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """Candidates of batch item `index` after soft-NMS, segments in grid units."""
    cfg = cfg or InferenceConfig()
    segs, scores, labels = [], [], []
    for logits, offsets, mask, points in zip(
        out.cls_logits, out.offsets, out.masks, out.points, strict=True
    ):
        prob = torch.sigmoid(logits[index]) * mask[index, :, None]
        flat = prob.flatten()
        keep = torch.nonzero(flat > cfg.score_threshold).squeeze(1)
        if keep.numel() > cfg.pre_nms_topk:
            keep = keep[torch.topk(flat[keep], cfg.pre_nms_topk).indices]
        num_classes = logits.shape[-1]
        pt, cls = keep // num_classes, keep % num_classes
        off = offsets[index, pt] * points[pt, 3:4]
        seg = torch.stack([points[pt, 0] - off[:, 0], points[pt, 0] + off[:, 1]], dim=1)
        ok = (seg[:, 1] - seg[:, 0]) > cfg.min_duration
        segs.append(seg[ok])
        scores.append(flat[keep][ok])
        labels.append(cls[ok])
    return soft_nms(
        torch.cat(segs),
        torch.cat(scores),
        torch.cat(labels),
        sigma=cfg.nms_sigma,
        min_score=cfg.min_score,
        max_segments=cfg.max_segments,
    )


def to_seconds(
    segments: Tensor, grid: FeatureGrid, duration: float | None, start_step: int = 0
) -> Tensor:
    """Grid units (relative to a crop starting at `start_step`) -> seconds within the video."""
    sec = grid.to_seconds(segments.double() + start_step)
    sec = sec.clamp(min=0.0)
    if duration is not None:
        sec = sec.clamp(max=duration)
    return sec.float()


@torch.no_grad()
def detect(
    model: torch.nn.Module,
    batch: dict,
    cfg: InferenceConfig | None = None,
    feats_loc: Tensor | None = None,
) -> list[VideoDetections]:
    """Run the detector on a collated batch and return detections in seconds."""
    return _batch_detections(model(batch["feats"], batch["mask"], feats_loc), batch, cfg)


def results_json(detections: list[VideoDetections], classes: list[str]) -> dict:
    """The ActivityNet results format: {"results": {video: [{label, score, segment}]}}."""
    results: dict[str, list[dict]] = {}
    for det in detections:
        results[det.video_id] = [
            {"label": classes[int(c)], "score": float(s), "segment": [float(a), float(b)]}
            for (a, b), s, c in zip(det.segments.tolist(), det.scores, det.labels, strict=True)
        ]
    return {"version": "actionbias", "results": results, "external_data": {}}


@torch.no_grad()
def detect_model(
    model: torch.nn.Module,
    batch: dict,
    cfg: InferenceConfig | None = None,
    language_inputs=None,
) -> list[VideoDetections]:
    """Detections of an `ActionVLM` (any ablation) on a collated batch, in seconds.

    `language_inputs(batch, train=False)` gives the language model's prompt
    (`actionbias.tal.language.inputs`); it is unused by a vision-only model.
    """
    language = getattr(model, "language", None)
    kwargs = language_inputs(batch, False) if language is not None and language_inputs else {}
    return _batch_detections(model(batch["feats"], batch["mask"], **kwargs).det, batch, cfg)


def _batch_detections(
    out: DetectorOutput, batch: dict, cfg: InferenceConfig | None
) -> list[VideoDetections]:
    """The detector output of a collated batch decoded per video, in seconds."""
    results = []
    for i, sample in enumerate(batch["samples"]):
        seg, score, label = decode_video(out, i, cfg)
        sec = to_seconds(seg, sample.grid, sample.duration, sample.start_step)
        results.append(VideoDetections(sample.video_id, sec, score, label))
    return results
