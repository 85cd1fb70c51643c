"""The learned language advantage and debiasing aggregation (paper 3.3-3.6, Algorithm 1).

Training alternates vision-only and vision-language epochs. A vision-only epoch
runs the detector on F_vis and records every frame's detection loss under the
frame's ground-truth class; the class-wise means are the stable proxy for the
vision-only loss. In the following vision-language epoch each frame's target
advantage is A = mean_vision_loss(class of the frame) - vision_language_loss(frame),
the [adv] state regresses it (A_hat = FC(F_adv), MSE L_adv), and the language
features enter the detector residually, F_cls = F_vis + lambda*F_lang,cls and
F_loc = F_vis + lambda*F_lang,loc, with lambda = 2*sigmoid(ReLU(A_hat)) - 1, so
language is only added where it is predicted to help. The total loss is
L = L_det + lambda_tg*L_tg + lambda_adv*L_adv.

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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from actionbias.tal.assign import assign_targets
from actionbias.tal.language.ablations import AblationConfig, ablation_config
from actionbias.tal.language.model import LanguageFeatures
from actionbias.tal.losses import (
    DetectionLossConfig,
    detection_loss,
    diou_loss_1d,
    sigmoid_focal_loss,
)

VISION, VISION_LANGUAGE = "vision", "vision_language"


def language_weight(a_hat: Tensor) -> Tensor:
    """Eq. 4: lambda = 2*sigmoid(ReLU(A_hat)) - 1, in [0, 1); exactly 0 where A_hat <= 0.

    Computed as tanh(ReLU(A_hat) / 2) (the same function, more accurate near 0)
    and kept below 1 in floating point: in float32 the sigmoid rounds to 1 for
    A_hat > ~17, which would hand language the full weight the formula never gives.
    """
    lam = torch.tanh(0.5 * F.relu(a_hat))
    below_one = torch.nextafter(torch.ones((), dtype=lam.dtype), torch.zeros((), dtype=lam.dtype))
    return torch.minimum(lam, below_one.to(lam.device))


def aggregate(
    f_vis: Tensor, f_lang_cls: Tensor, f_lang_loc: Tensor, lam: Tensor | float
) -> tuple[Tensor, Tensor]:
    """Eq. 5: (F_cls, F_loc) = (F_vis + lam*F_lang,cls, F_vis + lam*F_lang,loc).

    Features are (B, C, T); `lam` is a float, a scalar tensor or (B, T) per frame.
    """
    if isinstance(lam, Tensor) and lam.dim() == 2:
        lam = lam[:, None, :]
    return f_vis + lam * f_lang_cls, f_vis + lam * f_lang_loc


@dataclass(frozen=True)
class AlternatingSchedule:
    """Which kind each epoch is: `vision_epochs` vision-only then `language_epochs` VL, repeated.

    Starts with vision so the class-wise means exist before the first VL epoch.
    """

    vision_epochs: int = 1
    language_epochs: int = 1

    def __post_init__(self) -> None:
        if self.vision_epochs < 1 or self.language_epochs < 1:
            raise ValueError("both epoch counts of the alternating schedule must be >= 1")

    def mode(self, epoch: int) -> str:
        period = self.vision_epochs + self.language_epochs
        return VISION if epoch % period < self.vision_epochs else VISION_LANGUAGE


# ----------------------------------------------------------------------------- per-frame losses


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


# ----------------------------------------------------------------------------- the model


@dataclass
class ActionVLMOutput:
    det: Any  # the detector's DetectorOutput
    lang: LanguageFeatures | None
    a_hat: Tensor | None  # (B, T) predicted advantage
    lam: Tensor | None  # (B, T) language weight actually applied


class ActionVLM(nn.Module):
    """Detector + language branch + advantage head, with the weighting chosen by `ablation`.

    `detector` follows `actionbias.tal.detector.ActionFormer`'s contract:
    `detector(feats, mask, feats_loc=None)`. `language` is a backend from
    `actionbias.tal.language.model` (None only for the vision-only ablation).
    """

    def __init__(
        self,
        detector: nn.Module,
        language: nn.Module | None,
        ablation: AblationConfig | str = "full",
    ):
        super().__init__()
        self.ablation = ablation_config(ablation) if isinstance(ablation, str) else ablation
        if self.ablation.uses_language and language is None:
            raise ValueError(f"ablation {self.ablation.name!r} needs a language model")
        self.detector = detector
        self.language = language if self.ablation.uses_language else None
        hidden = int(language.hidden_size) if self.language is not None else 1
        self.adv_head = nn.Linear(hidden, 1)
        self.global_logit = nn.Parameter(torch.zeros(()))

    def frame_weight(self, lang: LanguageFeatures, mask: Tensor) -> tuple[Tensor, Tensor | None]:
        """(lambda (B, T), A_hat (B, T) or None) for the configured ablation."""
        shape = mask.shape
        mode = self.ablation.lambda_mode
        if mode == "advantage":
            a_hat = self.adv_head(lang.adv.float()).squeeze(-1)
            return language_weight(a_hat) * mask.to(a_hat.dtype), a_hat
        if mode == "global":
            return torch.sigmoid(self.global_logit).expand(shape) * mask, None
        return torch.full(shape, self.ablation.fixed_lambda, device=mask.device) * mask, None

    def forward(
        self, feats: Tensor, mask: Tensor, *, use_language: bool = True, **language_inputs: Any
    ) -> ActionVLMOutput:
        """Vision-only when `use_language` is False or the ablation has no language."""
        if self.language is None or not use_language:
            return ActionVLMOutput(self.detector(feats, mask), None, None, None)
        lang = self.language(feats, mask, **language_inputs)
        lam, a_hat = self.frame_weight(lang, mask)
        if self.ablation.use_vision:
            f_cls, f_loc = aggregate(feats, lang.cls, lang.loc, lam)
        else:
            f_cls, f_loc = lang.cls, lang.loc
        det = self.detector(f_cls, mask, feats_loc=f_loc)
        return ActionVLMOutput(det, lang, a_hat, lam)


# ----------------------------------------------------------------------------- training


@dataclass
class TALBatch:
    """One batch: features (B, C, T), mask (B, T), segments in grid units, labels, LM inputs."""

    feats: Tensor
    mask: Tensor
    segments: list[Tensor]
    labels: list[Tensor]
    language_inputs: dict[str, Any] = field(default_factory=dict)


_detector_loss = detection_loss  # the trainer's `detection_loss` argument shadows the name


@dataclass(frozen=True)
class LossWeights:
    """Eq. 9 weights: L = L_det + tg*L_tg + adv*L_adv (0.1 each in the paper)."""

    tg: float = 0.1
    adv: float = 0.1


class ActionVLMTrainer:
    """Runs Algorithm 1: alternating vision-only / vision-language epochs over `TALBatch`es.

    `detection_loss(out, segments, labels, det_cfg)` returns {"total", ...} (by
    default `actionbias.tal.losses.detection_loss` with a `DetectionLossConfig`
    whose EMA normaliser persists across steps); per-frame losses for the advantage come from
    `per_frame_detection_loss`. With an ablation that has no L_adv every epoch
    is vision-language (vision-only for the vision-only ablation).
    """

    def __init__(
        self,
        model: ActionVLM,
        optimizer: torch.optim.Optimizer,
        num_classes: int,
        *,
        det_cfg: Any = None,
        weights: LossWeights = LossWeights(),
        schedule: AlternatingSchedule = AlternatingSchedule(),
        detection_loss: Callable[..., dict[str, Tensor]] | None = None,
        grad_clip: float | None = 1.0,
        class_names: Sequence[str] | None = None,
    ):
        self.model = model
        self.optimizer = optimizer
        self.det_cfg = det_cfg if det_cfg is not None else DetectionLossConfig()
        self.weights = weights
        self.schedule = schedule
        self.detection_loss = detection_loss or _detector_loss
        self.grad_clip = grad_clip
        self.meter = ClassLossMeter(num_classes)
        self.num_classes = int(num_classes)
        self.class_names = list(class_names) if class_names is not None else None
        self.diagnostics: AdvantageDiagnostics | None = None

    def epoch_mode(self, epoch: int) -> str:
        ablation = self.model.ablation
        if not ablation.uses_language:
            return VISION
        if not ablation.needs_vision_epochs:
            return VISION_LANGUAGE
        return self.schedule.mode(epoch)

    def step(self, batch: TALBatch, mode: str) -> dict[str, float]:
        """One optimisation step; returns the loss terms as floats."""
        model = self.model
        ablation = model.ablation
        vision = mode == VISION
        out = model(batch.feats, batch.mask, use_language=not vision, **batch.language_inputs)
        det = self.detection_loss(out.det, batch.segments, batch.labels, self.det_cfg)
        total = det["total"]
        logs = {"det": float(det["total"].detach())}
        logs.update({k: float(det[k].detach()) for k in ("cls", "reg") if k in det})
        if vision and ablation.needs_vision_epochs:
            with torch.no_grad():
                frame_loss, bucket = per_frame_detection_loss(
                    out.det, batch.segments, batch.labels, batch.mask
                )
            self.meter.update(frame_loss, bucket, batch.mask)
        if not vision:
            if ablation.use_tg_loss and out.lang is not None and out.lang.tg_loss is not None:
                total = total + self.weights.tg * out.lang.tg_loss
                logs["tg"] = float(out.lang.tg_loss.detach())
            if ablation.use_adv_loss and out.a_hat is not None:
                with torch.no_grad():
                    frame_loss, bucket = per_frame_detection_loss(
                        out.det, batch.segments, batch.labels, batch.mask
                    )
                target = advantage_targets(self.meter.means(), bucket, frame_loss)
                if self.diagnostics is not None:
                    self.diagnostics.update(target, out.a_hat, out.lam, bucket, batch.mask)
                l_adv = advantage_loss(out.a_hat, target, batch.mask)
                total = total + self.weights.adv * l_adv
                logs["adv"] = float(l_adv.detach())
                logs["mean_lambda"] = float(
                    (out.lam.sum() / batch.mask.sum().clamp_min(1)).detach()
                )
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        if self.grad_clip:
            params = [p for p in model.parameters() if p.requires_grad]
            torch.nn.utils.clip_grad_norm_(params, self.grad_clip)
        self.optimizer.step()
        logs["total"] = float(total.detach())
        return logs

    def state_dict(self) -> dict[str, Any]:
        """What carries over between epochs besides the weights: the optimiser, the
        class-wise vision-loss table and the loss normaliser (for resuming a run)."""
        state: dict[str, Any] = {
            "optimizer": self.optimizer.state_dict(),
            "meter": self.meter.state_dict(),
        }
        normaliser = getattr(self.det_cfg, "normaliser", None)
        if normaliser is not None:
            state["normaliser"] = float(normaliser.value)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.meter.load_state_dict(state["meter"])
        if "normaliser" in state:
            self.det_cfg.normaliser.value = float(state["normaliser"])

    def run_epoch(
        self,
        batches: Iterable[TALBatch],
        epoch: int,
        after_step: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """One epoch of the schedule; returns the mean of each logged term and the mode.

        `after_step` runs after every optimiser step (the LR schedule, an EMA update)."""
        mode = self.epoch_mode(epoch)
        record_vision = mode == VISION and self.model.ablation.needs_vision_epochs
        if record_vision:
            self.meter.reset()
        track = mode == VISION_LANGUAGE and self.model.ablation.use_adv_loss
        self.diagnostics = AdvantageDiagnostics(self.num_classes) if track else None
        if self.diagnostics is not None and self.meter.ready:
            self.diagnostics.set_vision_means(self.meter.means())
        self.model.train()
        sums: dict[str, float] = {}
        n = 0
        for batch in batches:
            for key, value in self.step(batch, mode).items():
                sums[key] = sums.get(key, 0.0) + value
            n += 1
            if after_step is not None:
                after_step()
        if record_vision:
            self.meter.finish()
        result: dict[str, Any] = {k: v / max(n, 1) for k, v in sums.items()}
        result["mode"] = mode
        if self.diagnostics is not None:
            result["advantage"] = self.diagnostics.summary(self.class_names)
        return result


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
