"""Training the detector: AdamW, linear warm-up + cosine decay, model EMA, gradient clipping.

A plain loop rather than Lightning: the language branch alternates
vision-only and vision-language epochs and needs per-class losses between
epochs, which is easier to drive from an explicit loop; a TAL run on
pre-extracted features is single-device and small (THUMOS: ~200 videos), and
the loop keeps CPU tests fast and runs deterministic under a seed.
Checkpoints store the constructor options, so `load_detector` needs no config.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from actionbias.errors import BadInputError
from actionbias.fileio import atomic_path
from actionbias.tal.detector import ActionFormer
from actionbias.tal.features import collate_samples
from actionbias.tal.losses import DetectionLossConfig, detection_loss


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 2
    lr: float = 1e-4
    weight_decay: float = 0.05
    warmup_epochs: float = 5
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    seed: int = 0
    device: str = "cpu"
    num_workers: int = 0


@dataclass
class TrainResult:
    model: nn.Module
    ema_model: nn.Module
    history: list[dict[str, float]] = field(default_factory=list)


class ModelEMA:
    """Exponential moving average of the weights (buffers copied), evaluated in place of
    the raw model."""

    def __init__(self, model: nn.Module, decay: float = 0.999):
        self.module = copy.deepcopy(model).eval()
        self.decay = decay
        for p in self.module.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for ema_p, p in zip(self.module.parameters(), model.parameters(), strict=True):
            ema_p.mul_(self.decay).add_(p.detach(), alpha=1 - self.decay)
        for ema_b, b in zip(self.module.buffers(), model.buffers(), strict=True):
            ema_b.copy_(b)


def build_optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW with no decay on biases, norms and the per-level scales (1-D parameters)."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim > 1 else no_decay).append(p)
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr)


def warmup_cosine(step: int, total: int, warmup: int) -> float:
    """LR factor: linear from ~0 to 1 over `warmup` steps, then cosine to 0 at `total`."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def train_detector(
    model: ActionFormer,
    dataset: Dataset,
    cfg: TrainConfig | None = None,
    loss_cfg: DetectionLossConfig | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train on a `TALFeatureDataset` (train=True); returns the model and its EMA copy."""
    cfg = cfg or TrainConfig()
    loss_cfg = loss_cfg or DetectionLossConfig()
    torch.manual_seed(cfg.seed)
    device = torch.device(cfg.device)
    model.to(device).train()
    generator = torch.Generator().manual_seed(cfg.seed)
    loader = DataLoader(
        dataset,
        batch_size=cfg.batch_size,
        shuffle=True,
        generator=generator,
        num_workers=cfg.num_workers,
        collate_fn=lambda s: collate_samples(s, pad_to=model.max_stride),
        drop_last=False,
    )
    steps_per_epoch = max(1, len(loader))
    total = cfg.epochs * steps_per_epoch
    warmup = round(cfg.warmup_epochs * steps_per_epoch)
    optimizer = build_optimizer(model, cfg.lr, cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: warmup_cosine(s, total, warmup)
    )
    ema = ModelEMA(model, cfg.ema_decay)
    history = []
    for epoch in range(cfg.epochs):
        sums = {"cls": 0.0, "reg": 0.0, "total": 0.0}
        for batch in loader:
            out = model(batch["feats"].to(device), batch["mask"].to(device))
            segs = [s.to(device) for s in batch["segments"]]
            labs = [lab.to(device) for lab in batch["labels"]]
            losses = detection_loss(out, segs, labs, loss_cfg)
            optimizer.zero_grad(set_to_none=True)
            losses["total"].backward()
            if cfg.grad_clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            scheduler.step()
            ema.update(model)
            for k in sums:
                sums[k] += float(losses[k].detach())
        row = {k: v / steps_per_epoch for k, v in sums.items()}
        row["epoch"] = epoch
        row["lr"] = optimizer.param_groups[0]["lr"]
        history.append(row)
        if on_epoch is not None:
            on_epoch(epoch, row)
    model.eval()
    return TrainResult(model, ema.module, history)


def detector_options(model: ActionFormer) -> dict:
    """Constructor keyword options of a built detector (stored in checkpoints)."""
    return dict(model._options)  # type: ignore[attr-defined]


def build_detector(in_dim: int, num_classes: int, **options) -> ActionFormer:
    """`ActionFormer(...)` that remembers its options for `save_detector`."""
    model = ActionFormer(in_dim, num_classes, **options)
    model._options = {"in_dim": in_dim, "num_classes": num_classes, **options}  # type: ignore[attr-defined]
    return model


def save_detector(path: str | Path, model: ActionFormer, extra: dict | None = None) -> None:
    payload = {
        "options": detector_options(model),
        "state_dict": model.state_dict(),
        "extra": extra or {},
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_detector(path: str | Path) -> tuple[ActionFormer, dict]:
    """A detector and the `extra` dict saved with it (classes, grid options...)."""
    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
        options = dict(payload["options"])
        model = build_detector(options.pop("in_dim"), options.pop("num_classes"), **options)
        model.load_state_dict(payload["state_dict"])
    except (OSError, KeyError, RuntimeError, TypeError, EOFError) as err:
        raise BadInputError(f"not a detector checkpoint: {err}", source=path) from err
    return model.eval(), payload.get("extra", {})


def config_dict(cfg: TrainConfig) -> dict:
    return asdict(cfg)
