"""Weighted Focus (paper section 4.1 and appendix A.2, Eq. 1).

An auxiliary 3D CNN looks at early feature maps of the Slow-only network and
predicts one scalar per clip, alpha = 2 * sigmoid(z) - 1 in [-1, 1]. With the
person mask M (1 = human) the features are multiplied by

    M_weighted = (1 + alpha) * M + (1 - alpha) * (1 - M)          (Eq. 1)

so alpha = 1 doubles the person and blanks the scene, alpha = -1 the reverse, and
alpha = 0 leaves the features untouched. The weighted features continue through
the rest of the network. Choices the paper leaves open, made here:

* where: after res2 (the paper's Stage 1) by default — the first feature map
  with 4*width channels, still at 1/4 of the frame size so the mask keeps its
  shape; ``focus_at="stem"``, ``"res3"`` or ``"res4"`` move it;
* the mask is resized to the feature map by area averaging (each cell gets its
  human fraction; soft or fractional values interpolate linearly in Eq. 1);
* the auxiliary network: a 1x1x1 channel reduction to max(16, C/8) and two
  3x3x3 conv-BN-ReLU layers (spatial stride 2 each), global average pool,
  linear -> z (+0.42 GMACs, +64 k parameters on R50). Its linear layer starts at
  zero, so alpha = 0 and the model starts as the plain Slow-only network;
* alpha is exposed per clip: ``model(batch, return_aux=True)`` returns
  ``(logits, {"alpha": B})`` and ``model.last_alpha`` keeps the latest (detached).

Module names match `SlowOnly` (stem, res2..res5, head), so a Slow-only checkpoint
loads directly; only ``focus.*`` stays at its initialisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from actionbias.errors import BadInputError
from actionbias.models.backbone import Head, SlowSpec, Stem, init_weights, make_stage
from actionbias.models.base import VideoClassifier
from actionbias.models.options import BackboneOptions
from actionbias.models.registry import register_model

FOCUS_POINTS = ("stem", "res2", "res3", "res4")


def weighted_mask(mask: Tensor, alpha: Tensor | float) -> Tensor:
    """Eq. 1 for a batch: ``mask`` is ``B x 1 x ...`` in [0, 1], ``alpha`` one value per clip."""
    alpha = torch.as_tensor(alpha, dtype=mask.dtype, device=mask.device)
    if alpha.dim() > 0:
        alpha = alpha.reshape(-1, *([1] * (mask.dim() - 1)))
    return (1 + alpha) * mask + (1 - alpha) * (1 - mask)


def resize_mask(mask: Tensor, size: Sequence[int]) -> Tensor:
    """Area-resize ``B x 1 x T x H x W`` masks to a feature map's T x h x w."""
    if tuple(mask.shape[2:]) == tuple(size):
        return mask
    return F.adaptive_avg_pool3d(mask, tuple(size))


class AlphaNet(nn.Module):
    """Small 3D CNN: feature map -> alpha in [-1, 1] per clip.

    A 1x1x1 channel reduction first keeps it cheap at the early, large feature
    maps (about 1 % of SLOW_8x8_R50's MACs when placed after res2).
    """

    def __init__(self, channels: int, hidden: int | None = None):
        super().__init__()
        hidden = hidden or max(16, channels // 8)
        self.reduce = nn.Conv3d(channels, hidden, 1, bias=False)
        self.bn0 = nn.BatchNorm3d(hidden)
        self.conv1 = nn.Conv3d(hidden, hidden, 3, stride=(1, 2, 2), padding=1, bias=False)
        self.bn1 = nn.BatchNorm3d(hidden)
        self.conv2 = nn.Conv3d(hidden, hidden, 3, stride=(1, 2, 2), padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(hidden)
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(hidden, 1)

    def reset_output(self) -> None:
        """Zero the last layer: alpha starts at exactly 0 (neutral weighting)."""
        nn.init.zeros_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)

    def forward(self, features: Tensor) -> Tensor:
        x = F.relu(self.bn0(self.reduce(features)))
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        z = self.fc(self.pool(x).flatten(1)).squeeze(1)
        return 2 * torch.sigmoid(z) - 1


class WeightedFocus(VideoClassifier):
    """Slow-only whose early features are re-weighted by the person mask (Eq. 1)."""

    required_inputs = ("video", "mask")

    def __init__(self, num_classes: int, spec: SlowSpec, focus_at: str = "res2"):
        super().__init__(num_classes, spec)
        if focus_at not in FOCUS_POINTS:
            choices = ", ".join(FOCUS_POINTS)
            raise BadInputError(
                f"must be one of {choices}, got {focus_at!r}", where="field focus_at"
            )
        self.focus_at = focus_at
        self.stem = Stem(spec.in_channels, spec.width, spec.stem_kernel)
        self.res2 = make_stage(spec, 0)
        self.res3 = make_stage(spec, 1)
        self.res4 = make_stage(spec, 2)
        self.res5 = make_stage(spec, 3)
        self.head = Head(spec.feature_dim, num_classes, spec.dropout)
        channels = dict(zip(FOCUS_POINTS, (spec.width, *spec.stage_widths[:3]), strict=True))
        self.focus = AlphaNet(channels[focus_at])
        init_weights(self, spec.zero_init_final_bn)
        self.focus.reset_output()
        self.last_alpha: Tensor | None = None

    def apply_focus(self, features: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Predict alpha from ``features`` and multiply them by the weighted mask."""
        alpha = self.focus(features)
        weights = weighted_mask(resize_mask(mask.to(features.dtype), features.shape[2:]), alpha)
        return features * weights, alpha

    def compute(self, inputs: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        mask = inputs["mask"]
        x = self.stem(inputs["video"])
        alpha = None
        if self.focus_at == "stem":
            x, alpha = self.apply_focus(x, mask)
        for name in ("res2", "res3", "res4", "res5"):
            x = getattr(self, name)(x)
            if name == self.focus_at:
                x, alpha = self.apply_focus(x, mask)
        assert alpha is not None  # focus_at is validated in __init__
        self.last_alpha = alpha.detach()
        return self.head(x), {"alpha": alpha}


@register_model("weighted_focus", inputs=("video", "mask"), options=BackboneOptions)
def weighted_focus(
    num_classes: int, *, backbone: str = "slow_r50", focus_at: str = "res2", **options: Any
) -> WeightedFocus:
    """Weighted Focus: a learned per-clip alpha re-weights person vs scene features (Eq. 1)."""
    spec = BackboneOptions(**options).resolve(backbone)
    return WeightedFocus(num_classes, spec, focus_at=focus_at)
