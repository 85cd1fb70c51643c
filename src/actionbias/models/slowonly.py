"""Single-stream Slow-only classifiers: the baseline and the paper's "Segmented" model.

``slow_r50`` is the paper's baseline (Table 2, first row). ``segmented`` is the same
network fed only the human-only clip (Table 2, "Segmented"): it cannot see the
scene, which removes the shortcut and, on Kinetics, much of the accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from actionbias.models.backbone import (
    Head,
    SlowSpec,
    Stem,
    backbone_spec,
    init_weights,
    make_stage,
)
from actionbias.models.base import VideoClassifier
from actionbias.models.registry import register_model


def resolve_spec(
    backbone: str,
    depths: Sequence[int] | None = None,
    width: int | None = None,
    stem_kernel: int | None = None,
    temporal_kernels: Sequence[int] | None = None,
    dropout: float | None = None,
    zero_init_final_bn: bool | None = None,
    clip_size: Sequence[int] | None = None,
    head_pool_kernel: Sequence[int] | None = None,
) -> SlowSpec:
    """A backbone preset with the factory options applied (shared by every model)."""
    return backbone_spec(
        backbone,
        depths=depths,
        width=width,
        stem_kernel=stem_kernel,
        temporal_kernels=temporal_kernels,
        dropout=dropout,
        zero_init_final_bn=zero_init_final_bn,
        clip_size=clip_size,
        head_pool_kernel=head_pool_kernel,
    )


class SlowOnly(VideoClassifier):
    """Slow-only ResNet reading one clip key (``video``, or ``human`` when segmented)."""

    def __init__(self, num_classes: int, spec: SlowSpec, input_key: str = "video"):
        super().__init__(num_classes, spec)
        self.input_key = input_key
        self.required_inputs = (input_key,)
        self.stem = Stem(spec.in_channels, spec.width, spec.stem_kernel)
        self.res2 = make_stage(spec, 0)
        self.res3 = make_stage(spec, 1)
        self.res4 = make_stage(spec, 2)
        self.res5 = make_stage(spec, 3)
        self.head = Head(spec.feature_dim, num_classes, spec.dropout, spec.head_pool_kernel)
        init_weights(self, spec.zero_init_final_bn)

    def features(self, clip: Tensor) -> Tensor:
        """res5 feature map ``B x C x T x H/32 x W/32`` (before the head's pooling)."""
        x = self.stem(clip)
        for stage in (self.res2, self.res3, self.res4, self.res5):
            x = stage(x)
        return x

    def compute(self, inputs: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        return self.head(self.features(inputs[self.input_key])), {}


def _slow(
    preset: str,
    num_classes: int,
    input_key: str,
    **options: object,
) -> SlowOnly:
    return SlowOnly(num_classes, resolve_spec(preset, **options), input_key=input_key)  # type: ignore[arg-type]


@register_model("slow_r50")
def slow_r50(
    num_classes: int,
    *,
    depths: Sequence[int] | None = None,
    width: int | None = None,
    stem_kernel: int | None = None,
    temporal_kernels: Sequence[int] | None = None,
    dropout: float | None = None,
    zero_init_final_bn: bool | None = None,
    clip_size: Sequence[int] | None = None,
    head_pool_kernel: Sequence[int] | None = None,
) -> SlowOnly:
    """Slow-only R50 (PySlowFast SLOW_8x8_R50) on the raw video: the paper's baseline."""
    return _slow(
        "slow_r50",
        num_classes,
        "video",
        depths=depths,
        width=width,
        stem_kernel=stem_kernel,
        temporal_kernels=temporal_kernels,
        dropout=dropout,
        zero_init_final_bn=zero_init_final_bn,
        clip_size=clip_size,
        head_pool_kernel=head_pool_kernel,
    )


@register_model("slow_small")
def slow_small(
    num_classes: int,
    *,
    depths: Sequence[int] | None = None,
    width: int | None = None,
    stem_kernel: int | None = None,
    temporal_kernels: Sequence[int] | None = None,
    dropout: float | None = None,
    zero_init_final_bn: bool | None = None,
    clip_size: Sequence[int] | None = None,
    head_pool_kernel: Sequence[int] | None = None,
) -> SlowOnly:
    """Slow-only, 2-2-2-2 blocks, widths 64..512: the baseline for CPU runs at 8x112x112."""
    return _slow(
        "slow_small",
        num_classes,
        "video",
        depths=depths,
        width=width,
        stem_kernel=stem_kernel,
        temporal_kernels=temporal_kernels,
        dropout=dropout,
        zero_init_final_bn=zero_init_final_bn,
        clip_size=clip_size,
        head_pool_kernel=head_pool_kernel,
    )


@register_model("slow_tiny")
def slow_tiny(
    num_classes: int,
    *,
    depths: Sequence[int] | None = None,
    width: int | None = None,
    stem_kernel: int | None = None,
    temporal_kernels: Sequence[int] | None = None,
    dropout: float | None = None,
    zero_init_final_bn: bool | None = None,
    clip_size: Sequence[int] | None = None,
    head_pool_kernel: Sequence[int] | None = None,
) -> SlowOnly:
    """Slow-only, 1-1-1-1 blocks, widths 32..256: smoke tests and demos at 8x64x64."""
    return _slow(
        "slow_tiny",
        num_classes,
        "video",
        depths=depths,
        width=width,
        stem_kernel=stem_kernel,
        temporal_kernels=temporal_kernels,
        dropout=dropout,
        zero_init_final_bn=zero_init_final_bn,
        clip_size=clip_size,
        head_pool_kernel=head_pool_kernel,
    )


@register_model("segmented", inputs=("human",))
def segmented(
    num_classes: int,
    *,
    backbone: str = "slow_r50",
    depths: Sequence[int] | None = None,
    width: int | None = None,
    stem_kernel: int | None = None,
    temporal_kernels: Sequence[int] | None = None,
    dropout: float | None = None,
    zero_init_final_bn: bool | None = None,
    clip_size: Sequence[int] | None = None,
    head_pool_kernel: Sequence[int] | None = None,
) -> SlowOnly:
    """Slow-only fed the human-only clip (batch key ``human``): the paper's "Segmented"."""
    return _slow(
        backbone,
        num_classes,
        "human",
        depths=depths,
        width=width,
        stem_kernel=stem_kernel,
        temporal_kernels=temporal_kernels,
        dropout=dropout,
        zero_init_final_bn=zero_init_final_bn,
        clip_size=clip_size,
        head_pool_kernel=head_pool_kernel,
    )
