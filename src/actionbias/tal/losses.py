"""Detection losses: sigmoid focal loss, 1-D distance-IoU, and their EMA normaliser.

Both losses are summed over points and divided by an exponential moving
average of the number of positive points (ActionFormer: momentum 0.9, initial
value 100): a per-batch count would make the loss scale jump with how many
actions happened to fall in the crop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor
from torch.nn import functional as F

from actionbias.tal.assign import assign_targets
from actionbias.tal.detector import DetectorOutput


def sigmoid_focal_loss(
    logits: Tensor, targets: Tensor, alpha: float = 0.25, gamma: float = 2.0
) -> Tensor:
    """Element-wise focal loss (Lin et al., 2017) on sigmoid outputs (no reduction)."""
    prob = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p_t = prob * targets + (1 - prob) * (1 - targets)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return loss


def diou_loss_1d(pred: Tensor, target: Tensor, eps: float = 1e-8) -> Tensor:
    """1-D DIoU loss between (N, 2) left/right distances from the same points (no reduction).

    1 - IoU + (centre distance / enclosing length)^2: the centre term still
    gives a gradient when the segments do not overlap.
    """
    lp, rp = pred[:, 0], pred[:, 1]
    lt, rt = target[:, 0], target[:, 1]
    inter = torch.minimum(lp, lt) + torch.minimum(rp, rt)
    union = (lp + rp) + (lt + rt) - inter
    iou = inter / union.clamp(min=eps)
    enclosing = torch.maximum(lp, lt) + torch.maximum(rp, rt)
    rho = 0.5 * ((rp - lp) - (rt - lt))
    return 1.0 - iou + rho**2 / enclosing.clamp(min=eps) ** 2


@dataclass
class EMANormaliser:
    """Running average of the positive count; updated only when gradients are on."""

    value: float = 100.0
    momentum: float = 0.9

    def update(self, num_pos: int) -> float:
        if torch.is_grad_enabled():
            self.value = self.momentum * self.value + (1 - self.momentum) * max(num_pos, 1)
        return self.value


@dataclass
class DetectionLossConfig:
    """Loss options; `normaliser` carries the EMA state across steps."""

    center_sample_radius: float = 1.5
    focal_alpha: float = 0.25
    focal_gamma: float = 2.0
    reg_weight: float = 1.0
    label_smoothing: float = 0.0
    normaliser: EMANormaliser = field(default_factory=EMANormaliser)


def detection_loss(
    out: DetectorOutput,
    gt_segments: list[Tensor],
    gt_labels: list[Tensor],
    cfg: DetectionLossConfig | None = None,
) -> dict[str, Tensor]:
    """{"cls", "reg", "total"}; segments per video in feature-grid units."""
    cfg = cfg or DetectionLossConfig()
    points = torch.cat(out.points, dim=0)
    logits = torch.cat(out.cls_logits, dim=1)  # (B, P, K)
    offsets = torch.cat(out.offsets, dim=1)  # (B, P, 2)
    valid = torch.cat(out.masks, dim=1)  # (B, P)
    num_classes = logits.shape[-1]
    cls_t, reg_t = [], []
    with torch.no_grad():
        for segs, labs in zip(gt_segments, gt_labels, strict=True):
            c, r = assign_targets(
                points,
                segs.to(points),
                labs.to(points.device),
                num_classes,
                cfg.center_sample_radius,
            )
            cls_t.append(c)
            reg_t.append(r)
    cls_targets = torch.stack(cls_t)
    reg_targets = torch.stack(reg_t)
    pos = (cls_targets.sum(-1) > 0) & valid
    norm = cfg.normaliser.update(int(pos.sum()))
    targets = cls_targets[valid]
    if cfg.label_smoothing > 0:
        targets = targets * (1 - cfg.label_smoothing) + cfg.label_smoothing / (num_classes + 1)
    cls_loss = (
        sigmoid_focal_loss(logits[valid], targets, cfg.focal_alpha, cfg.focal_gamma).sum() / norm
    )
    if pos.any():
        reg_loss = diou_loss_1d(offsets[pos], reg_targets[pos]).sum() / norm
    else:
        reg_loss = offsets.sum() * 0.0
    return {"cls": cls_loss, "reg": reg_loss, "total": cls_loss + cfg.reg_weight * reg_loss}
