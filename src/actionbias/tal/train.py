"""Training TAL models: one loop for the vision-only detector and every ActionVLM variant.

`fit` trains an `ActionVLM` (`actionbias.tal.language.aggregation`): the vision-only
ActionFormer is the ``vision-only`` ablation, whose language branch is absent, so
`tal train`, `tal demo` and the library's `train_detector` all run this loop.
Per step: the `ActionVLMTrainer` step (detection loss, plus L_tg and L_adv in
vision-language epochs; vision-only epochs of the alternating schedule record
the class-wise losses the advantage target needs, Algorithm 1), gradient
clipping, AdamW with the paper's learning-rate groups (detection head and new
layers 1e-4; a pretrained language model's LoRA adapters 5e-6), linear warm-up
then cosine decay, and an optional EMA copy of the weights that is evaluated.

A plain loop rather than Lightning: ActionVLM alternates vision-only and
vision-language epochs and needs per-class losses between epochs, which is
easier to drive from an explicit loop; a TAL run on pre-extracted features is
single-device and small (THUMOS: ~200 videos), and the loop keeps CPU tests
fast and runs deterministic under a seed. Checkpoints store the constructor
options, so loading needs no config. With `state_path` the loop also saves its
full state after every epoch (`actionbias.tal.checkpoint`) and a rerun
continues from the last finished one.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from numpy.random import Generator as _NPGen
from torch import nn
from torch.utils.data import DataLoader, Dataset

from actionbias.errors import BadInputError
from actionbias.fileio import atomic_path
from actionbias.tal.checkpoint import TrainingCheckpoint, capture_rng, restore_rng
from actionbias.tal.detector import ActionFormer
from actionbias.tal.features import collate_samples
from actionbias.tal.language.aggregation import ActionVLM
from actionbias.tal.language.trainer import (
    ActionVLMTrainer,
    AlternatingSchedule,
    LossWeights,
    TALBatch,
)
from actionbias.tal.losses import DetectionLossConfig


@dataclass
class TALTrainConfig:
    epochs: int = 30
    batch_size: int = 2
    lr: float = 1e-4  # detection head and every layer trained from scratch (paper: 1e-4)
    language_lr: float = 5e-6  # LoRA adapters of a pretrained language model (paper: 5e-6)
    weight_decay: float = 0.05
    warmup_epochs: float = 5
    grad_clip: float = 1.0
    ema_decay: float | None = 0.999  # None or 0: evaluate the trained weights themselves
    loss_tg: float = 0.1  # lambda_tg of Eq. 9
    loss_adv: float = 0.1  # lambda_adv of Eq. 9
    vision_epochs: int = 1  # the alternating schedule (Algorithm 1): vision-only epochs ...
    language_epochs: int = 1  # ... then vision-language epochs, repeated
    seed: int = 0
    device: str = "cpu"
    num_workers: int = 0
    num_threads: int | None = None  # torch CPU threads while training; None keeps torch's


# keys of TALTrainConfig that change speed, not results: a run may resume with other values
RUNTIME_KEYS = ("device", "num_workers", "num_threads")


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run a block with `n` torch CPU threads (None: unchanged), restoring the count after.

    The demo's detectors are tiny (64 channels, ~30 steps): each op is a few
    microseconds of work, so a second thread only adds synchronisation, and on a
    machine whose cores are busy with other processes the waiting threads made a
    training step ~10x slower (2.0 s against 0.19 s measured on 2 shared cores).
    """
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass
class TALTrainResult:
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


def parameter_groups(
    model: nn.Module, lr: float, weight_decay: float, language_lr: float | None = None
) -> list[dict[str, Any]]:
    """AdamW groups: no decay on biases, norms and per-level scales (1-D parameters); the
    LoRA adapters of a pretrained language model (``model.language.lora_parameters()``)
    at `language_lr`, everything else -- detector, advantage head, projections and
    special tokens, a compact language model trained from scratch -- at `lr`."""
    language = getattr(model, "language", None)
    adapters = set()
    if language is not None and hasattr(language, "lora_parameters"):
        adapters = {id(p) for p in language.lora_parameters()}
    buckets: dict[tuple[str, bool], list[nn.Parameter]] = {}
    for p in model.parameters():
        if p.requires_grad:
            part = "language" if id(p) in adapters else "head"
            buckets.setdefault((part, p.ndim > 1), []).append(p)
    groups = []
    for part in ("head", "language"):
        for decay in (True, False):
            params = buckets.get((part, decay))
            if params:
                groups.append(
                    {
                        "params": params,
                        "name": f"{part}{'' if decay else '-no-decay'}",
                        "lr": language_lr if part == "language" and language_lr else lr,
                        "weight_decay": weight_decay if decay else 0.0,
                    }
                )
    return groups


def build_optimizer(
    model: nn.Module, lr: float, weight_decay: float, language_lr: float | None = None
) -> torch.optim.AdamW:
    """AdamW over `parameter_groups`."""
    return torch.optim.AdamW(parameter_groups(model, lr, weight_decay, language_lr), lr=lr)


def warmup_cosine(step: int, total: int, warmup: int) -> float:
    """LR factor: linear from ~0 to 1 over `warmup` steps, then cosine to 0 at `total`."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def _loss_settings(loss_cfg: DetectionLossConfig) -> dict[str, Any]:
    out = asdict(loss_cfg)
    out.pop("normaliser")
    out["normaliser_momentum"] = loss_cfg.normaliser.momentum
    return out


def training_settings(
    model: nn.Module,
    dataset: Dataset,
    cfg: TALTrainConfig,
    loss_cfg: DetectionLossConfig,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a resumed run must share with the interrupted one (speed-only keys left out)."""
    train = {k: v for k, v in asdict(cfg).items() if k not in RUNTIME_KEYS}
    detector = getattr(model, "detector", model)
    language = getattr(model, "language", None)
    ablation = getattr(model, "ablation", None)
    return {
        "train": train,
        "loss": _loss_settings(loss_cfg),
        "model": detector_options(detector) if hasattr(detector, "_options") else None,
        "ablation": ablation.name if ablation is not None else "vision-only",
        "language": type(language).__name__ if language is not None else None,
        "videos": len(dataset),  # type: ignore[arg-type]
        **(extra or {}),
    }


LanguageInputs = Callable[[dict[str, Any], bool], dict[str, Any]]


def fit(
    model: nn.Module,
    dataset: Dataset,
    cfg: TALTrainConfig | None = None,
    loss_cfg: DetectionLossConfig | None = None,
    on_epoch: Callable[[int, dict[str, Any]], None] | None = None,
    *,
    language_inputs: LanguageInputs | None = None,
    state_path: str | Path | None = None,
    settings: dict[str, Any] | None = None,
    stop_after: int | None = None,
) -> TALTrainResult:
    """Train an `ActionVLM` (any ablation, vision-only included) on a `TALFeatureDataset`.

    `language_inputs(batch, train)`: the language model's keyword inputs for a
    collated batch (prompt, and with ``train`` the text-generation targets; see
    `actionbias.tal.language.inputs`); unused by the vision-only ablation.
    `state_path`: save the loop's state there after every epoch and, when the
    file exists, continue after its last epoch (refused if `settings` -- the
    caller's own keys, merged with the training options -- differ). The weights
    at the end equal an uninterrupted run's. `stop_after`: return after that
    many epochs in total (the run can be resumed later); None trains to the end.
    Returns the model and its EMA copy (the model itself without EMA).
    """
    cfg = cfg or TALTrainConfig()
    loss_cfg = loss_cfg or DetectionLossConfig()
    with torch_threads(cfg.num_threads):
        return _fit(
            model, dataset, cfg, loss_cfg, on_epoch, language_inputs, state_path, settings,
            stop_after,
        )  # fmt: skip


def train_detector(
    model: ActionFormer,
    dataset: Dataset,
    cfg: TALTrainConfig | None = None,
    loss_cfg: DetectionLossConfig | None = None,
    on_epoch: Callable[[int, dict[str, Any]], None] | None = None,
    *,
    state_path: str | Path | None = None,
    settings: dict[str, Any] | None = None,
    stop_after: int | None = None,
) -> TALTrainResult:
    """The vision-only detector through `fit`; returns the detector and its EMA copy."""
    wrapped = ActionVLM(model, None, "vision-only")
    result = fit(
        wrapped,
        dataset,
        cfg,
        loss_cfg,
        on_epoch,
        state_path=state_path,
        settings=settings,
        stop_after=stop_after,
    )
    return TALTrainResult(model, result.ema_model.detector, result.history)


def _fit(
    model: nn.Module,
    dataset: Dataset,
    cfg: TALTrainConfig,
    loss_cfg: DetectionLossConfig,
    on_epoch: Callable[[int, dict[str, Any]], None] | None,
    language_inputs: LanguageInputs | None,
    state_path: str | Path | None,
    settings: dict[str, Any] | None,
    stop_after: int | None,
) -> TALTrainResult:
    torch.manual_seed(cfg.seed)
    device = torch.device(cfg.device)
    model.to(device).train()
    detector = model.detector  # type: ignore[attr-defined]
    generator = torch.Generator().manual_seed(cfg.seed)
    loader = DataLoader(
        dataset,
        batch_size=cfg.batch_size,
        shuffle=True,
        generator=generator,
        num_workers=cfg.num_workers,
        collate_fn=lambda s: collate_samples(s, pad_to=detector.max_stride),
        drop_last=False,
    )
    steps_per_epoch = max(1, len(loader))
    total = cfg.epochs * steps_per_epoch
    warmup = round(cfg.warmup_epochs * steps_per_epoch)
    optimizer = build_optimizer(model, cfg.lr, cfg.weight_decay, cfg.language_lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: warmup_cosine(s, total, warmup)
    )
    ema = ModelEMA(model, cfg.ema_decay) if cfg.ema_decay else None
    trainer = ActionVLMTrainer(
        model,  # type: ignore[arg-type]
        optimizer,
        detector.num_classes,
        det_cfg=loss_cfg,
        weights=LossWeights(tg=cfg.loss_tg, adv=cfg.loss_adv),
        schedule=AlternatingSchedule(cfg.vision_epochs, cfg.language_epochs),
        grad_clip=cfg.grad_clip if cfg.grad_clip > 0 else None,
        class_names=getattr(dataset, "classes", None),
    )
    uses_language = getattr(model, "language", None) is not None
    if uses_language and language_inputs is None:
        raise ValueError("a model with a language branch needs `language_inputs`")

    def batches() -> Iterator[Any]:
        for b in loader:
            b["feats"], b["mask"] = b["feats"].to(device), b["mask"].to(device)
            b["segments"] = [x.to(device) for x in b["segments"]]
            b["labels"] = [x.to(device) for x in b["labels"]]
            inputs = language_inputs(b, True) if uses_language and language_inputs else {}
            yield TALBatch(b["feats"], b["mask"], b["segments"], b["labels"], inputs)

    def after_step() -> None:
        scheduler.step()
        if ema is not None:
            ema.update(model)

    history: list[dict[str, Any]] = []
    numpy_rngs = (
        {"dataset": dataset.rng} if isinstance(getattr(dataset, "rng", None), _NPGen) else {}
    )
    torch_rngs = {"loader": generator}
    checkpoint = None
    first = 0
    if state_path is not None:
        checkpoint = TrainingCheckpoint(
            state_path, training_settings(model, dataset, cfg, loss_cfg, settings)
        )
        state = checkpoint.load()
        if state is not None:
            model.load_state_dict(state["model"])
            if ema is not None:
                ema.module.load_state_dict(state["ema"])
            trainer.load_state_dict(state["trainer"])
            scheduler.load_state_dict(state["scheduler"])
            history = list(state["history"])
            restore_rng(state["rng"], numpy_rngs, torch_rngs)
            first = int(state["epoch"]) + 1
    last = cfg.epochs if stop_after is None else min(cfg.epochs, int(stop_after))
    for epoch in range(first, last):
        row = trainer.run_epoch(batches(), epoch, after_step=after_step)
        row["epoch"] = epoch
        row["lr"] = optimizer.param_groups[0]["lr"]
        history.append(row)
        if checkpoint is not None:
            checkpoint.save(
                epoch,
                {
                    "model": model.state_dict(),
                    "ema": ema.module.state_dict() if ema is not None else None,
                    "trainer": trainer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "history": history,
                    "rng": capture_rng(numpy_rngs, torch_rngs),
                },
            )
        if on_epoch is not None:
            on_epoch(epoch, row)
    model.eval()
    return TALTrainResult(model, ema.module if ema is not None else model, history)


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
