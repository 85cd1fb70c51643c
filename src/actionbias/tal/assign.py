"""Which pyramid points learn which action: centre sampling and regression ranges.

A point is positive for a ground-truth segment when it lies within
`radius * stride` of the segment centre (and inside the segment), and the
larger of its distances to the two boundaries falls in its level's regression
range -- short actions are learnt on fine levels, long ones on coarse levels.
A point inside several segments takes the shortest; segments of identical
extent but different classes give a multi-hot target (THUMOS has such pairs,
e.g. CliffDiving inside Diving).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F


def assign_targets(
    points: Tensor,
    segments: Tensor,
    labels: Tensor,
    num_classes: int,
    radius: float = 1.5,
) -> tuple[Tensor, Tensor]:
    """Targets for one video.

    points: (P, 4) = (position, range_lo, range_hi, stride) over all levels;
    segments: (N, 2) in feature-grid units; labels: (N,).
    Returns cls targets (P, K) in {0, 1} and regression targets (P, 2) =
    (left, right) distances divided by the point's stride (valid where positive).
    """
    num_points = points.shape[0]
    if segments.numel() == 0:
        return points.new_zeros(num_points, num_classes), points.new_zeros(num_points, 2)
    pos = points[:, 0:1]  # (P, 1)
    stride = points[:, 3:4]
    starts, ends = segments[:, 0][None], segments[:, 1][None]  # (1, N)
    left = pos - starts
    right = ends - pos
    lengths = (ends - starts).expand(num_points, -1)
    if radius > 0:
        centre = 0.5 * (starts + ends)
        lo = torch.maximum(centre - stride * radius, starts)
        hi = torch.minimum(centre + stride * radius, ends)
        inside = torch.minimum(pos - lo, hi - pos) > 0
    else:
        inside = torch.minimum(left, right) > 0
    reach = torch.maximum(left, right)
    in_range = (reach >= points[:, 1:2]) & (reach <= points[:, 2:3])
    lengths = lengths.masked_fill(~(inside & in_range), float("inf"))
    min_len, best = lengths.min(dim=1)  # (P,)
    chosen = (lengths <= min_len[:, None] + 1e-3) & torch.isfinite(lengths)
    one_hot = F.one_hot(labels.long(), num_classes).to(points.dtype)  # (N, K)
    cls_targets = (chosen.to(points.dtype) @ one_hot).clamp(max=1.0)
    idx = torch.arange(num_points, device=points.device)
    reg = torch.stack([left[idx, best], right[idx, best]], dim=1) / stride
    return cls_targets, reg
