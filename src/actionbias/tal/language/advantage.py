"""The learned language advantage's training signal (paper 3.3-3.4, Algorithm 1, l. 2-9).

A vision-only epoch runs the detector on F_vis and records every frame's detection
loss under the frame's ground-truth class (`ClassLossMeter`); the class-wise means
are the stable proxy for the vision-only loss. In the following vision-language
epoch each frame's target advantage is A = mean_vision_loss(class of the frame) -
vision_language_loss(frame) (`advantage_targets`, Eq. 1), which the [adv] state
regresses (A_hat = FC(F_adv), MSE `advantage_loss`, Eq. 3). How A_hat weights the
language features is `actionbias.tal.language.aggregation`; the alternating epochs
are `actionbias.tal.language.trainer`.

Per-frame losses: the detector's own `detection_loss` is a normalised scalar,
so the per-frame loss the advantage needs is computed here from its output:
ActionFormer's label assignment on every pyramid point, sigmoid focal loss
summed over classes plus the 1-D DIoU loss at positive points, each point's
loss charged to the frames it covers and summed over levels. The same function
gives L_v (vision-only epochs) and L_vl (vision-language epochs), so the two are
on one scale. Background frames (no action) form their own bucket C in the
class-wise means, so they get a target too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from actionbias.tal.assign import assign_targets
from actionbias.tal.losses import diou_loss_1d, sigmoid_focal_loss


def frame_buckets(
    gt_segments: Sequence[Tensor], gt_labels: Sequence[Tensor], num_frames: int, num_classes: int
) -> Tensor:
    """(B, T) class bucket of every frame: the label of the shortest action covering it.

    Segments are (N, 2) in feature-grid units; frames outside every action get
    the background bucket `num_classes`.
    """
    bucket = torch.full((len(gt_segments), num_frames), num_classes, dtype=torch.long)
    pos = torch.arange(num_frames, dtype=torch.float32)
    for i, (segs, labels) in enumerate(zip(gt_segments, gt_labels, strict=True)):
        segs = segs.detach().float().cpu().reshape(-1, 2)
        order = torch.argsort(segs[:, 1] - segs[:, 0], descending=True, stable=True)
        for j in order.tolist():  # longest first, so shorter actions overwrite
            inside = (pos >= segs[j, 0]) & (pos <= segs[j, 1])
            bucket[i, inside] = int(labels[j])
    return bucket


def per_frame_detection_loss(
    out: Any,
    gt_segments: Sequence[Tensor],
    gt_labels: Sequence[Tensor],
    mask: Tensor,
    *,
    loc_weight: float = 1.0,
    center_radius: float = 1.5,
) -> tuple[Tensor, Tensor]:
    """(B, T) per-frame detection loss (Eq. 6 before normalisation) and the (B, T) class bucket.

    `out` is the detector's `DetectorOutput` (per-level `cls_logits` (B, T_l, C),
    `offsets` (B, T_l, 2) in strides, `masks`, `points`). Every pyramid point's
    loss -- focal loss summed over classes, plus `loc_weight` * DIoU when the
    point is positive under the detector's own assignment (`actionbias.tal.assign`)
    -- is charged to each frame the point covers (a point at stride s covers s
    frames), and a frame's loss is the sum over levels. Padded frames are 0.
    """
    t = mask.shape[1]
    num_classes = out.cls_logits[0].shape[-1]
    points = torch.cat(list(out.points), dim=0)
    sizes = [x.shape[1] for x in out.cls_logits]
    logits = torch.cat(list(out.cls_logits), dim=1)  # (B, P, C)
    offsets = torch.cat(list(out.offsets), dim=1)  # (B, P, 2)
    valid = torch.cat(list(out.masks), dim=1)  # (B, P)
    per_point = []
    for i in range(len(gt_segments)):
        segs = gt_segments[i].to(points).reshape(-1, 2)
        labels = gt_labels[i].to(points.device)
        cls_t, dist = assign_targets(points, segs, labels, num_classes, center_radius)
        loss = sigmoid_focal_loss(logits[i].float(), cls_t).sum(-1)
        if loc_weight:
            positive = cls_t.sum(-1) > 0
            diou = diou_loss_1d(offsets[i].float(), dist)
            loss = loss + loc_weight * torch.where(positive, diou, torch.zeros_like(diou))
        per_point.append(loss * valid[i].to(loss.dtype))
    per_level = torch.stack(per_point).split(sizes, dim=1)
    frame_loss = torch.zeros(mask.shape, dtype=per_level[0].dtype, device=per_level[0].device)
    for level_loss, level_points in zip(per_level, out.points, strict=True):
        stride = int(level_points[0, 3]) if len(level_points) else 1
        covered = level_loss.repeat_interleave(stride, dim=1)[:, :t]
        frame_loss[:, : covered.shape[1]] += covered
    bucket = frame_buckets(gt_segments, gt_labels, t, num_classes).to(mask.device)
    return frame_loss * mask.to(frame_loss.dtype), bucket


class ClassLossMeter:
    """Class-wise mean per-frame vision-only loss over one vision-only epoch (Alg. 1, l. 2-5).

    Buckets 0..C-1 are action classes, bucket C is background. `means()` gives
    the means of the last finished epoch (`finish()`); a class never seen in it
    falls back to the mean over all frames, so every frame gets a target.
    """

    def __init__(self, num_classes: int):
        self.num_classes = int(num_classes)
        self._sum = torch.zeros(num_classes + 1, dtype=torch.float64)
        self._count = torch.zeros(num_classes + 1, dtype=torch.float64)
        self._means: Tensor | None = None

    def reset(self) -> None:
        self._sum.zero_()
        self._count.zero_()

    def update(self, frame_loss: Tensor, bucket: Tensor, mask: Tensor) -> None:
        valid = mask.bool()
        loss = frame_loss.detach().double().cpu()[valid.cpu()]
        idx = bucket.cpu()[valid.cpu()]
        self._sum.index_add_(0, idx, loss)
        self._count.index_add_(0, idx, torch.ones_like(loss))

    def finish(self) -> Tensor:
        """Freeze this epoch's means (used by the following vision-language epochs)."""
        if self._count.sum() == 0:
            raise RuntimeError("a vision-only epoch recorded no frames")
        overall = self._sum.sum() / self._count.sum()
        means = torch.where(self._count > 0, self._sum / self._count.clamp_min(1), overall)
        self._means = means.float()
        return self._means

    @property
    def ready(self) -> bool:
        return self._means is not None

    def means(self) -> Tensor:
        if self._means is None:
            raise RuntimeError("no vision-only epoch has finished yet: run one before VL epochs")
        return self._means

    def state_dict(self) -> dict[str, Tensor | None]:
        return {"sum": self._sum.clone(), "count": self._count.clone(), "means": self._means}

    def load_state_dict(self, state: dict[str, Tensor | None]) -> None:
        self._sum = state["sum"].clone()
        self._count = state["count"].clone()
        self._means = state["means"]


class AdvantageDiagnostics:
    """Per-bucket statistics of one vision-language epoch: is language earning its weight?

    For each bucket (classes, then background) it accumulates the target
    advantage A (mean and std; a positive mean means the class's vision-language
    loss fell below its vision-only mean), the predicted A_hat and the applied
    lambda, plus the share of frames where lambda > 0 -- the figures that show
    why lambda stays near 0 when it does.
    """

    def __init__(self, num_classes: int):
        self.num_classes = int(num_classes)
        size = (5, num_classes + 1)  # rows: count, sum A, sum A^2, sum A_hat, sum lambda
        self._acc = torch.zeros(size, dtype=torch.float64)
        self._on = torch.zeros(num_classes + 1, dtype=torch.float64)
        self._vision_means: Tensor | None = None

    def update(
        self, target: Tensor, a_hat: Tensor, lam: Tensor, bucket: Tensor, mask: Tensor
    ) -> None:
        valid = mask.bool().cpu()
        idx = bucket.cpu()[valid]
        values = [
            torch.ones(idx.shape, dtype=torch.float64),
            target.detach().double().cpu()[valid],
            target.detach().double().cpu()[valid] ** 2,
            a_hat.detach().double().cpu()[valid],
            lam.detach().double().cpu()[valid],
        ]
        for row, v in enumerate(values):
            self._acc[row].index_add_(0, idx, v)
        self._on.index_add_(0, idx, (lam.detach().cpu()[valid] > 0).double())

    def set_vision_means(self, means: Tensor) -> None:
        self._vision_means = means.detach().double().cpu().clone()

    def summary(self, class_names: Sequence[str] | None = None) -> dict[str, Any]:
        """{"per_bucket": {name: {...}}, "overall": {...}}; buckets without frames are left out."""
        if class_names is None:
            class_names = [str(c) for c in range(self.num_classes)]
        names = [*class_names, "background"]
        count, s_a, s_a2, s_hat, s_lam = self._acc

        def stats(n, sa, sa2, sh, sl, on, vision) -> dict[str, float]:
            mean = sa / n
            row = {
                "frames": int(n),
                "target_mean": float(mean),
                "target_std": float(max(sa2 / n - mean**2, 0.0) ** 0.5),
                "a_hat_mean": float(sh / n),
                "lambda_mean": float(sl / n),
                "lambda_positive_share": float(on / n),
            }
            if vision is not None:
                row["vision_loss_mean"] = float(vision)
                row["vl_loss_mean"] = float(vision - mean)
            return row

        per_bucket = {}
        for c, name in enumerate(names):
            if count[c] > 0:
                vision = None if self._vision_means is None else self._vision_means[c]
                per_bucket[name] = stats(
                    count[c], s_a[c], s_a2[c], s_hat[c], s_lam[c], self._on[c], vision
                )
        total = count.sum()
        overall = (
            stats(total, s_a.sum(), s_a2.sum(), s_hat.sum(), s_lam.sum(), self._on.sum(), None)
            if total > 0
            else {}
        )
        return {"per_bucket": per_bucket, "overall": overall}


def advantage_targets(class_means: Tensor, bucket: Tensor, vl_frame_loss: Tensor) -> Tensor:
    """Eq. 1: A(l) = mean_vision_loss(class of l) - vision_language_loss(l), no gradient."""
    return class_means.to(vl_frame_loss)[bucket] - vl_frame_loss.detach()


def advantage_loss(a_hat: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Eq. 3: mean squared error over the valid frames."""
    m = mask.to(a_hat.dtype)
    return ((a_hat - target) ** 2 * m).sum() / m.sum().clamp_min(1.0)


def advantage_by_class(
    values: Tensor, bucket: Tensor, mask: Tensor, class_names: Sequence[str]
) -> dict[str, Tensor]:
    """Per-frame values (A_hat or lambda, (B, T)) grouped by the frames' ground-truth class.

    Feeds `actionbias.metrics.lap.advantage_by_group` (Table 3's mLA); background
    frames are left out. Call per batch and concatenate, or on a whole split.
    """
    valid = mask.bool()
    flat_v = values.detach().float().cpu()[valid.cpu()]
    flat_b = bucket.cpu()[valid.cpu()]
    return {name: flat_v[flat_b == c] for c, name in enumerate(class_names)}
