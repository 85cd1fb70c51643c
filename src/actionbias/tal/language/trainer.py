"""Algorithm 1: alternating vision-only and vision-language epochs over an `ActionVLM`.

A vision-only epoch trains the detector on F_vis alone and fills the class-wise
vision-loss table; the vision-language epoch after it trains the language branch
and the advantage head against that table's targets
(`actionbias.tal.language.advantage`). The total loss is
L = L_det + lambda_tg*L_tg + lambda_adv*L_adv (Eq. 9). An ablation without L_adv
needs no vision-only epochs, so all its epochs are vision-language. `fit` in
`actionbias.tal.train` runs this trainer with the schedule, EMA and resumable state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from actionbias.tal.language.advantage import (
    AdvantageDiagnostics,
    ClassLossMeter,
    advantage_loss,
    advantage_targets,
    per_frame_detection_loss,
)
from actionbias.tal.language.aggregation import ActionVLM
from actionbias.tal.losses import DetectionLossConfig, detection_loss

VISION, VISION_LANGUAGE = "vision", "vision_language"


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
