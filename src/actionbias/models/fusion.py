"""Dual-Branch Sum / Stack (paper section 4.1 and appendix A.2).

Two Slow-only streams read the raw clip and the human-only clip. Each has its own
Stem, Stage 1 and Stage 2; the two feature maps are fused after Stage 2 and the
fused map runs through a single Stage 3, Stage 4 and Head. The paper counts
stages from 1 after the stem, so in PySlowFast terms:

    paper:  Stem | Stage 1 | Stage 2 || Stage 3 | Stage 4 | Head
    here:   stem | res2    | res3    || res4    | res5    | head
            (one copy per stream)       (shared)

Sum adds the maps element-wise (res4 unchanged). Stack concatenates them along
channels, so res4's first block takes twice res3's width (1024 instead of 512 for
R50), its 1x1 conv ``a`` and its projection shortcut included.

Why fuse there: early layers learn low-level features of their own input, the
later ones a joint representation that can weigh the person against the scene.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from actionbias.models.backbone import Head, SlowSpec, Stem, init_weights, make_stage
from actionbias.models.base import VideoClassifier
from actionbias.models.options import BackboneOptions
from actionbias.models.registry import register_model

FUSIONS = ("sum", "stack")
BRANCHED = ("stem", "res2", "res3")
"""Top-level modules of a Slow-only network that each stream owns."""


class EarlyStages(nn.Module):
    """Stem + res2 + res3 of one stream (the paper's Stem, Stage 1, Stage 2)."""

    def __init__(self, spec: SlowSpec):
        super().__init__()
        self.stem = Stem(spec.in_channels, spec.width, spec.stem_kernel)
        self.res2 = make_stage(spec, 0)
        self.res3 = make_stage(spec, 1)

    def forward(self, clip: Tensor) -> Tensor:
        return self.res3(self.res2(self.stem(clip)))


class DualBranch(VideoClassifier):
    """Raw and human-only streams fused after res3 by ``sum`` or ``stack``."""

    required_inputs = ("video", "human")

    def __init__(self, num_classes: int, spec: SlowSpec, fusion: str):
        super().__init__(num_classes, spec)
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}")
        self.fusion = fusion
        self.branches = nn.ModuleDict({"video": EarlyStages(spec), "human": EarlyStages(spec)})
        fused_width = spec.stage_widths[1] * (2 if fusion == "stack" else 1)
        self.res4 = make_stage(spec, 2, dim_in=fused_width)
        self.res5 = make_stage(spec, 3)
        self.head = Head(spec.feature_dim, num_classes, spec.dropout)
        init_weights(self, spec.zero_init_final_bn)

    def fuse(self, video_features: Tensor, human_features: Tensor) -> Tensor:
        """The fusion point: element-wise sum or channel concatenation (video first)."""
        if self.fusion == "sum":
            return video_features + human_features
        return torch.cat([video_features, human_features], dim=1)

    def fused_features(self, video: Tensor, human: Tensor) -> Tensor:
        """Feature map right after fusion (input of res4)."""
        return self.fuse(self.branches["video"](video), self.branches["human"](human))

    def compute(self, inputs: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        x = self.fused_features(inputs["video"], inputs["human"])
        return self.head(self.res5(self.res4(x))), {}

    def adapt_state_dict(self, state: dict[str, Tensor]) -> dict[str, Tensor]:
        """Copy a single-stream (Slow-only) checkpoint's stem/res2/res3 into both streams.

        A checkpoint already saved from a dual model (``branches.*`` keys) is left
        alone. For ``stack``, res4's first block has a doubled input width, so its
        ``a`` and ``proj`` weights do not fit and are reported as mismatched.
        """
        if any(key.startswith("branches.") for key in state):
            return state
        adapted: dict[str, Tensor] = {}
        for key, value in state.items():
            top = key.split(".", 1)[0]
            if top in BRANCHED:
                for stream in self.branches:
                    adapted[f"branches.{stream}.{key}"] = value
            else:
                adapted[key] = value
        return adapted


@register_model("dual_sum", inputs=("video", "human"), options=BackboneOptions)
def dual_sum(num_classes: int, *, backbone: str = "slow_r50", **options: Any) -> DualBranch:
    """Dual-Branch Sum: raw + human-only streams added after Stage 2 (res3)."""
    return DualBranch(num_classes, BackboneOptions(**options).resolve(backbone), "sum")


@register_model("dual_stack", inputs=("video", "human"), options=BackboneOptions)
def dual_stack(num_classes: int, *, backbone: str = "slow_r50", **options: Any) -> DualBranch:
    """Dual-Branch Stack: streams concatenated after Stage 2; Stage 3 (res4) takes 2x width."""
    return DualBranch(num_classes, BackboneOptions(**options).resolve(backbone), "stack")
