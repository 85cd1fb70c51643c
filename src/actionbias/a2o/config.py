"""How each A2O trial trains: `A2OTrainConfig` (recogniser, schedule, adapter, clips, hardware).

Table 10 of the paper, for configuring real runs (V-JEPA 2 ViT-L; SSv2 / MultiSports
/ K400): batch 4 / 8 / 4, lr 2e-5 / 7.6e-5 / 1e-4 full-shot (1e-4 / 7.6e-5 few-shot),
weight decay 1.4e-5 / 6.7e-6 / 1.4e-5, epochs 5 / 20 / 5 (ICRL trials: 1 epoch),
adapter depth 4 / 0 / 4 full-shot and 0 / 3 few-shot.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from actionbias.errors import BadInputError
from actionbias.models.object_adapter import ADAPTER_MODES
from actionbias.train.clips import ClipSpec

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULERS = ("none", "cosine")
# the fields `A2OTrainConfig.optim` hands to the recogniser's Lightning module, in this order
OPTIM_FIELDS = ("optimizer", "lr", "weight_decay", "scheduler", "label_smoothing")


@dataclass
class A2OTrainConfig:
    """How each trial trains: recogniser, schedule, adapter, clip preprocessing, hardware.

    ``pretrained`` is the backbone's weights (a Slow-only checkpoint file, a V-JEPA 2
    Hugging Face id or folder), reloaded at the start of every trial.
    ``backbone_options`` are the backbone's own registry options (``width``,
    V-JEPA 2's ``config`` ...). ``preload`` None: keep decoded clips and maps in
    RAM when they fit in ``cache_limit_mb``.
    """

    backbone: str = "slow_tiny"
    backbone_options: dict[str, Any] = field(default_factory=dict)
    pretrained: str | None = None
    epochs: int = 1
    batch_size: int = 8
    eval_batch_size: int | None = None
    lr: float = 1e-3
    weight_decay: float = 0.0
    optimizer: str = "adamw"
    scheduler: str = "none"
    label_smoothing: float = 0.0
    gradient_clip_val: float | None = None
    adapter_depth: int = 0
    adapter_features: int = 16
    adapter_hidden: int = 64
    mode: str = "add"
    num_frames: int = 8
    sampling: str = "uniform"
    stride: int = 1
    short_side: int | None = None
    crop_size: int | None = 64
    mean: tuple[float, float, float] = (0.45, 0.45, 0.45)
    std: tuple[float, float, float] = (0.225, 0.225, 0.225)
    seed: int = 0
    precision: str = "32-true"
    accelerator: str = "cpu"
    deterministic: bool = True
    num_workers: int = 0
    preload: bool | None = None
    cache_limit_mb: float = 4096.0

    def __post_init__(self) -> None:
        def positive(name: str, value: Any) -> None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise BadInputError(
                    f"{name} must be a positive integer, got {value!r}", where=f"field {name}"
                )

        for name in ("epochs", "batch_size", "num_frames", "adapter_features", "adapter_hidden"):
            positive(name, getattr(self, name))
        if self.eval_batch_size is not None:
            positive("eval_batch_size", self.eval_batch_size)
        if self.adapter_depth < 0:
            raise BadInputError(
                f"adapter_depth must be >= 0, got {self.adapter_depth}", where="field adapter_depth"
            )
        if not self.lr > 0 or self.weight_decay < 0:
            raise BadInputError(
                f"need lr > 0 and weight_decay >= 0, got {self.lr} and {self.weight_decay}",
                where="field lr",
            )
        choices = (
            ("optimizer", OPTIMIZERS),
            ("scheduler", SCHEDULERS),
            ("mode", ADAPTER_MODES),
        )
        for name, allowed in choices:
            if getattr(self, name) not in allowed:
                raise BadInputError(
                    f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}",
                    where=f"field {name}",
                )
        self.mean = tuple(float(v) for v in self.mean)  # type: ignore[assignment]
        self.std = tuple(float(v) for v in self.std)  # type: ignore[assignment]

    def clip_spec(self) -> ClipSpec:
        """The clip preprocessing: this config's fields of the same names (human-only
        clips keep the default fill; A2O composites none)."""
        return ClipSpec.from_config(self)

    def model_options(self, num_maps: int, pretrained: bool = True) -> dict[str, Any]:
        """Registry options of the ``a2o`` model for ``num_maps`` object queries."""
        options: dict[str, Any] = {
            "backbone": self.backbone,
            "num_maps": int(num_maps),
            "adapter_depth": self.adapter_depth,
            "adapter_features": self.adapter_features,
            "adapter_hidden": self.adapter_hidden,
            "mode": self.mode,
            "backbone_options": dict(self.backbone_options),
        }
        if pretrained and self.pretrained:
            options["pretrained"] = self.pretrained
        if self.backbone == "vjepa2":
            # V-JEPA 2 re-normalises from the project's mean/std to its own: tell it which.
            options["backbone_options"].setdefault("input_mean", list(self.mean))
            options["backbone_options"].setdefault("input_std", list(self.std))
        return options

    def optim(self) -> dict[str, Any]:
        """The optimiser settings of the trial's Lightning module, under its names."""
        return {name: getattr(self, name) for name in OPTIM_FIELDS}

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["mean"], out["std"] = list(self.mean), list(self.std)
        return out
