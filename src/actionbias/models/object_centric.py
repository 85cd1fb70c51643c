"""A2O's recogniser: detector likelihood maps -> adapter -> any single-stream backbone.

``build_model("a2o", num_classes, backbone="slow_tiny" | "slow_small" | "slow_r50" |
"vjepa2", num_maps=Q, ...)`` reads ``video`` and ``maps`` (``B x Q x T x H x W`` in
[0, 1], `actionbias.models.base`). Two ways in (paper section 3.3 and 4.5.3):

* ``mode="add"`` (the paper): `ObjectAdapter` turns each pixel's Q likelihoods
  into three channels added to the normalised frames; the backbone is untouched,
  so any registered single-stream model works, V-JEPA 2 included;
* ``mode="concat"`` (the no-compression ablation): the maps become Q extra input
  channels of the first convolution, whose new weights start at zero (pretrained
  RGB weights copied). Only for the Slow-only family, whose stem can be widened
  (a ViT's patch embedding could be too, but the paper's ablation does not need it).

``num_maps=0`` is the plain recogniser (no adapter, reads only ``video``): the
baseline row of every A2O table, trained through the very same code.

``pretrained`` goes to the backbone (a Slow-only checkpoint file or a V-JEPA 2 id
or folder, as `build_model` takes for the backbone alone), loaded before the
adapter is attached, so a pretrained network starts exactly as it was published.
``aux["adapter_contribution"]`` is the per-clip mean absolute change the maps make
to the backbone's input (add) or to its stem response (concat): training logs show
at a glance whether the maps are being used.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.nn import functional as F

from actionbias.errors import BadInputError
from actionbias.models.base import VideoClassifier
from actionbias.models.object_adapter import ADAPTER_MODES, ObjectAdapter, widen_first_conv
from actionbias.models.options import BackboneOptions
from actionbias.models.registry import build_model, model_entry, register_model

OWN_PREFIXES = ("backbone.", "adapter.")


class ObjectCentricClassifier(VideoClassifier):
    """``backbone(video + adapter(maps))`` (add) or ``backbone([video, maps])`` (concat)."""

    def __init__(
        self,
        backbone: VideoClassifier,
        num_maps: int,
        adapter_depth: int = 0,
        adapter_features: int = 16,
        adapter_hidden: int = 64,
        mode: str = "add",
    ) -> None:
        super().__init__(backbone.num_classes, backbone.spec)
        if mode not in ADAPTER_MODES:
            raise BadInputError(
                f"mode must be one of {', '.join(ADAPTER_MODES)}, got {mode!r}", where="mode"
            )
        if num_maps < 0:
            raise BadInputError(f"num_maps must be >= 0, got {num_maps}", where="num_maps")
        self.backbone = backbone
        self.num_maps = int(num_maps)
        self.mode = mode
        self.required_inputs = ("video", "maps") if self.num_maps else ("video",)
        self.adapter: ObjectAdapter | None = None
        if self.num_maps and mode == "add":
            self.adapter = ObjectAdapter(
                self.num_maps, adapter_features, adapter_depth, adapter_hidden
            )
        elif self.num_maps:
            stem = getattr(backbone, "stem", None)
            conv = getattr(stem, "conv", None)
            if not isinstance(conv, torch.nn.Conv3d):
                raise BadInputError(
                    f"mode 'concat' widens the first convolution, which "
                    f"{type(backbone).__name__} does not have; use mode 'add'",
                    where="mode",
                )
            stem.conv = widen_first_conv(conv, self.num_maps)  # type: ignore[union-attr]

    # ----------------------------------------------------------------- batches
    def check_batch(self, batch: Mapping[str, Tensor]) -> dict[str, Tensor]:
        inputs = super().check_batch(batch)
        if "maps" in inputs:
            maps, video = inputs["maps"], inputs["video"]
            if maps.dim() != 5 or maps.shape[1] != self.num_maps:
                raise ValueError(
                    f"batch['maps'] must be B x {self.num_maps} x T x H x W (one map per "
                    f"object query), got {tuple(maps.shape)}"
                )
            if maps.shape[0] != video.shape[0] or maps.shape[2:] != video.shape[2:]:
                raise ValueError(
                    f"batch['maps'] {tuple(maps.shape)} does not match batch['video'] "
                    f"{tuple(video.shape)} in B, T, H or W"
                )
            if not maps.is_floating_point():
                raise ValueError(
                    f"batch['maps'] must be float in [0, 1], got {maps.dtype} "
                    "(divide 0-255 byte maps by 255 first)"
                )
            inputs["maps"] = maps.to(video.dtype)
        return inputs

    def compute(self, inputs: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        video = inputs["video"]
        aux: dict[str, Tensor] = {}
        if not self.num_maps:
            return self.backbone.compute({"video": video})
        maps = inputs["maps"]
        if self.adapter is not None:
            offset = self.adapter(maps)
            clip = video + offset
            aux["adapter_contribution"] = offset.detach().abs().mean(dim=(1, 2, 3, 4))
        else:
            clip = torch.cat([video, maps], dim=1)
            aux["adapter_contribution"] = self._concat_contribution(maps)
        logits, inner = self.backbone.compute({"video": clip})
        return logits, {**inner, **aux}

    def _concat_contribution(self, maps: Tensor) -> Tensor:
        """Mean |stem response to the map channels| per clip (a detached diagnostic)."""
        conv = self.backbone.stem.conv  # type: ignore[union-attr]
        with torch.no_grad():
            response = F.conv3d(
                maps,
                conv.weight[:, 3:],
                None,
                conv.stride,
                conv.padding,
                conv.dilation,
                conv.groups,
            )
        return response.abs().mean(dim=(1, 2, 3, 4))

    def adapt_state_dict(self, state: dict[str, Tensor]) -> dict[str, Tensor]:
        """A bare backbone checkpoint loads into ``backbone.`` (the adapter stays fresh)."""
        if any(key.startswith(OWN_PREFIXES) for key in state):
            return state
        state = self.backbone.adapt_state_dict(state)
        out = {f"backbone.{key}": value for key, value in state.items()}
        if self.mode == "concat" and self.num_maps:
            key = "backbone.stem.conv.weight"
            weight = out.get(key)
            if weight is not None and weight.shape[1] == self.spec.in_channels:
                extra = weight.new_zeros((weight.shape[0], self.num_maps, *weight.shape[2:]))
                out[key] = torch.cat([weight, extra], dim=1)
        return out


def build_backbone(
    backbone: str,
    num_classes: int,
    pretrained: str | Path | None,
    options: dict[str, Any],
) -> VideoClassifier:
    """A registered single-stream model by name (the recogniser A2O adapts)."""
    entry = model_entry(backbone)
    if backbone == "a2o" or entry.required_inputs != ("video",):
        raise BadInputError(
            f"backbone {backbone!r} reads {list(entry.required_inputs)}; A2O wraps a "
            "single-stream model that reads only 'video' (slow_tiny, slow_small, "
            "slow_r50, vjepa2)",
            where="field backbone",
        )
    model = build_model(backbone, num_classes, pretrained=pretrained, **options)
    if not isinstance(model, VideoClassifier):
        raise BadInputError(f"backbone {backbone!r} is not a video classifier", where="backbone")
    return model


@register_model("a2o", inputs=("video", "maps"), options=BackboneOptions)
def a2o(
    num_classes: int,
    *,
    backbone: str = "slow_tiny",
    num_maps: int = 8,
    adapter_depth: int = 0,
    adapter_features: int = 16,
    adapter_hidden: int = 64,
    mode: str = "add",
    pretrained: str | Path | None = None,
    backbone_options: dict[str, Any] | None = None,
    **options: Any,
) -> ObjectCentricClassifier:
    """A2O: detector maps through a 1x1 adapter into any single-stream backbone (reads maps).

    The Slow-only options (`BackboneOptions`) go to the backbone when set;
    ``backbone_options`` holds any other backbone option (V-JEPA 2's ``config``,
    ``num_pooler_layers``, ...). ``num_maps=0``: the plain backbone.
    """
    net_options = {**BackboneOptions(**options).overrides(), **dict(backbone_options or {})}
    net = build_backbone(backbone, num_classes, pretrained, net_options)
    model = ObjectCentricClassifier(
        net, num_maps, adapter_depth, adapter_features, adapter_hidden, mode
    )
    report = getattr(net, "pretrained_report", None)
    if report is not None:
        model.pretrained_report = report
    return model
