"""Per-class Gaussian soft-NMS for 1-D segments, vectorised over classes (no C++ build).

Soft-NMS decays the scores of overlapping segments by exp(-tIoU^2 / sigma)
instead of deleting them, which is what TAL detectors are evaluated with
(mAP over several tIoU thresholds rewards keeping near-duplicates at lower
scores). All classes advance together: iteration i picks the i-th best segment
of every class at once, so the Python loop runs at most `max_segments` times.
A class never needs more picks than `max_segments`: its later picks score below
its earlier ones, so they could not enter the overall top `max_segments`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def soft_nms(
    segments: Tensor,
    scores: Tensor,
    labels: Tensor,
    *,
    sigma: float = 0.5,
    min_score: float = 1e-3,
    max_segments: int = 200,
) -> tuple[Tensor, Tensor, Tensor]:
    """Returns kept (segments (M, 2), decayed scores (M,), labels (M,)), best first.

    Runs in NumPy on the CPU whatever the input device: the loop is made of
    many tiny operations, where NumPy's per-call overhead is far lower than
    torch's; results go back to the input's device and dtype.
    """
    if segments.numel() == 0:
        return segments.reshape(0, 2), scores.reshape(0), labels.reshape(0)
    idx, kept_scores = soft_nms_numpy(
        segments.detach().cpu().double().numpy(),
        scores.detach().cpu().double().numpy(),
        labels.detach().cpu().numpy(),
        sigma=sigma,
        min_score=min_score,
        max_segments=max_segments,
    )
    index = torch.from_numpy(idx).to(segments.device)
    decayed = torch.from_numpy(kept_scores).to(device=scores.device, dtype=scores.dtype)
    return segments[index], decayed, labels[index]


def soft_nms_numpy(
    segments: np.ndarray,
    scores: np.ndarray,
    labels: np.ndarray,
    *,
    sigma: float = 0.5,
    min_score: float = 1e-3,
    max_segments: int = 200,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the kept segments and their decayed scores, best first."""
    classes, inverse = np.unique(labels, return_inverse=True)
    inverse = inverse.reshape(-1)
    num_classes = len(classes)
    counts = np.bincount(inverse, minlength=num_classes)
    width = int(counts.max())
    order = np.argsort(inverse, kind="stable")
    slot = np.arange(len(labels)) - np.repeat(np.cumsum(counts) - counts, counts)
    table = np.full((num_classes, width), -1, dtype=np.int64)
    table[inverse[order], slot] = order
    present = table >= 0
    live = np.where(present, scores[np.maximum(table, 0)], -1.0)
    live[live < min_score] = -1.0
    seg = segments[np.maximum(table, 0)]  # (C, W, 2)
    starts, ends = seg[..., 0], seg[..., 1]
    lengths = np.maximum(ends - starts, 0.0)
    rows = np.arange(num_classes)
    picked_idx, picked_score = [], []
    for _ in range(min(width, max_segments)):
        best = live.argmax(axis=1)
        best_score = live[rows, best]
        active = best_score >= min_score
        if not active.any():
            break
        picked_idx.append(np.where(active, table[rows, best], -1))
        picked_score.append(best_score)
        live[rows, best] = -1.0
        b_start, b_end = starts[rows, best][:, None], ends[rows, best][:, None]
        inter = np.maximum(np.minimum(ends, b_end) - np.maximum(starts, b_start), 0.0)
        union = lengths + np.maximum(b_end - b_start, 0.0) - inter
        with np.errstate(divide="ignore", invalid="ignore"):
            tiou = np.where(union > 0, inter / union, 0.0)
        alive = live >= 0
        live = np.where(alive, live * np.exp(-(tiou**2) / sigma), live)
        live[alive & (live < min_score)] = -1.0
    if not picked_idx:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    idx = np.stack(picked_idx, 1).reshape(-1)
    sc = np.stack(picked_score, 1).reshape(-1)
    keep = idx >= 0
    idx, sc = idx[keep], sc[keep]
    top = np.argsort(-sc, kind="stable")[:max_segments]
    return idx[top], sc[top]
