"""Slow-only ResNet building blocks, laid out exactly like PySlowFast's ``SLOW_8x8_R50``.

The paper's classifiers (and its mitigation variants) are all Slow-only R50
(Feichtenhofer et al., SlowFast, ICCV 2019), so fidelity to PySlowFast matters:
it makes the published parameter/compute figures checkable and lets the official
Kinetics-400 weights load (see `actionbias.models.checkpoint`).

What ``SLOW_8x8_R50`` is (PySlowFast ``ResNet`` with ``MODEL.ARCH: slow``):

* stem (``s1``): conv 1x7x7, stride (1,2,2), padding (0,3,3), 64 channels, BN, ReLU;
  max-pool 1x3x3, stride (1,2,2), padding (0,1,1);
* res2..res5 (``s2``..``s5``): 3-4-6-3 bottlenecks, output widths 256/512/1024/2048,
  inner width = output/4; the temporal kernel sits in the FIRST 1x1 conv of every
  block (1 in res2/res3, 3 with padding 1 in res4/res5); the spatial stride sits in
  the 3x3 conv (1 in res2, 2 in res3-res5; ``STRIDE_1X1: False``); a projection
  shortcut (1x1x1 conv + BN, same stride) on the first block of each stage;
  no temporal stride or temporal pooling anywhere (``_POOL1['slow']`` is 1x1x1);
* BN eps 1e-5, momentum 0.1; with ``ZERO_INIT_FINAL_BN`` the last BN of each
  bottleneck starts with gamma = 0, so every residual block starts as identity;
* head: global average pool over T, H, W, dropout 0.5, linear layer.

Differences, on purpose: the head pools adaptively (PySlowFast uses a fixed
``AvgPool3d`` sized for the training crop, identical at 8x224x224 and required
here for the small CPU clips), and it returns logits in eval mode (no softmax).

Smaller members of the family (`BACKBONES`) keep the same block topology and only
change ``depths`` and ``width`` (the stem width; stage widths are 4*width*2^i),
so results on CPU-sized models speak for the same architecture.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from torch import Tensor, nn

from actionbias.errors import BadInputError

BN_EPS = 1e-5
BN_MOMENTUM = 0.1
SPATIAL_STRIDES = (1, 2, 2, 2)
"""Spatial stride of res2..res5 (PySlowFast ``RESNET.SPATIAL_STRIDES`` default)."""
FC_INIT_STD = 0.01
"""Std of the head's weight init (PySlowFast ``MODEL.FC_INIT_STD``)."""
STAGE_NAMES = ("res2", "res3", "res4", "res5")


def _int_tuple(value: Any, length: int, field: str) -> tuple[int, ...]:
    """Strict: YAML gives lists of ints; a string or float here is a config mistake."""
    if (
        not isinstance(value, (tuple, list))
        or len(value) != length
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise BadInputError(f"expected {length} integers, got {value!r}", where=f"field {field}")
    return tuple(value)


@dataclass(frozen=True)
class SlowSpec:
    """Shape of one Slow-only network; the defaults are SLOW_8x8_R50."""

    depths: tuple[int, int, int, int] = (3, 4, 6, 3)
    width: int = 64
    stem_kernel: int = 7
    temporal_kernels: tuple[int, int, int, int] = (1, 1, 3, 3)
    dropout: float = 0.5
    zero_init_final_bn: bool = True
    in_channels: int = 3
    clip_size: tuple[int, int, int] = (8, 224, 224)
    head_pool_kernel: tuple[int, int, int] | None = None
    """``None``: the head averages the whole res5 map (PySlowFast at any size). A
    kernel such as ``(8, 7, 7)`` reproduces pytorchvideo's head (stride-1 average
    windows of that size, projected, then averaged), which differs from the global
    mean when res5 is larger than the kernel (e.g. 8x256x256 clips)."""

    def __post_init__(self) -> None:
        depths = _int_tuple(self.depths, 4, "depths")
        if min(depths) < 1:
            raise BadInputError(f"every stage needs >= 1 block, got {depths}", where="field depths")
        kernels = _int_tuple(self.temporal_kernels, 4, "temporal_kernels")
        if any(k < 1 or k % 2 == 0 for k in kernels):
            raise BadInputError(
                f"temporal kernels must be odd and >= 1 (time is never downsampled), got {kernels}",
                where="field temporal_kernels",
            )
        clip = _int_tuple(self.clip_size, 3, "clip_size")
        if min(clip) < 1:
            raise BadInputError(f"clip size must be positive, got {clip}", where="field clip_size")
        for name in ("width", "stem_kernel", "in_channels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise BadInputError(
                    f"must be a positive integer, got {value!r}", where=f"field {name}"
                )
        if self.stem_kernel % 2 == 0:
            raise BadInputError(
                f"must be odd (symmetric padding), got {self.stem_kernel}",
                where="field stem_kernel",
            )
        dropout = self.dropout
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
            raise BadInputError(f"must be a number, got {dropout!r}", where="field dropout")
        if not 0.0 <= dropout < 1.0:
            raise BadInputError(f"must lie in [0, 1), got {dropout!r}", where="field dropout")
        if not isinstance(self.zero_init_final_bn, bool):
            raise BadInputError(
                f"must be true or false, got {self.zero_init_final_bn!r}",
                where="field zero_init_final_bn",
            )
        object.__setattr__(self, "depths", depths)
        object.__setattr__(self, "temporal_kernels", kernels)
        object.__setattr__(self, "clip_size", clip)
        if self.head_pool_kernel is not None:
            kernel = _int_tuple(self.head_pool_kernel, 3, "head_pool_kernel")
            if min(kernel) < 1:
                raise BadInputError(
                    f"pool kernel must be positive, got {kernel}", where="field head_pool_kernel"
                )
            object.__setattr__(self, "head_pool_kernel", kernel)
        object.__setattr__(self, "dropout", float(self.dropout))

    @property
    def stage_widths(self) -> tuple[int, int, int, int]:
        """Output channels of res2..res5 (256/512/1024/2048 for R50)."""
        return tuple(4 * self.width * 2**i for i in range(4))  # type: ignore[return-value]

    @property
    def inner_widths(self) -> tuple[int, int, int, int]:
        """Bottleneck inner channels of res2..res5 (output / 4)."""
        return tuple(self.width * 2**i for i in range(4))  # type: ignore[return-value]

    @property
    def feature_dim(self) -> int:
        """Channels entering the head."""
        return self.stage_widths[-1]

    def with_options(self, **overrides: Any) -> SlowSpec:
        """A copy with some fields replaced; ``None`` values keep the preset's value."""
        names = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise BadInputError(f"unknown backbone option(s) {', '.join(unknown)}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


BACKBONES: dict[str, SlowSpec] = {
    # PySlowFast SLOW_8x8_R50: 31.7 M parameters (50 classes), 41.7 GMACs at 8x224x224.
    "slow_r50": SlowSpec(),
    # CPU member: same topology, 2 blocks per stage, widths 64/128/256/512. Made for
    # 8x112x112 SynthAct clips (1.15 M parameters with 50 classes, 0.44 GMACs per clip).
    "slow_small": SlowSpec(depths=(2, 2, 2, 2), width=16, clip_size=(8, 112, 112)),
    # Smoke-test member: one block per stage, widths 32/64/128/256; 8x64x64 clips
    # (0.16 M parameters, 0.03 GMACs).
    "slow_tiny": SlowSpec(depths=(1, 1, 1, 1), width=8, clip_size=(8, 64, 64)),
}


def list_backbones() -> list[str]:
    """Names accepted by the ``backbone=`` option of every model."""
    return sorted(BACKBONES)


def backbone_spec(name: str = "slow_r50", **overrides: Any) -> SlowSpec:
    """The preset ``name`` with ``overrides`` applied (``None`` means keep)."""
    try:
        spec = BACKBONES[name]
    except KeyError:
        known = ", ".join(list_backbones())
        raise BadInputError(
            f"unknown backbone {name!r}; known: {known}", where="field backbone"
        ) from None
    return spec.with_options(**overrides)


def _bn(channels: int) -> nn.BatchNorm3d:
    return nn.BatchNorm3d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class Stem(nn.Module):
    """Conv 1xkxk stride (1,2,2) + BN + ReLU + max-pool 1x3x3 stride (1,2,2): 4x smaller frames."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int):
        super().__init__()
        self.conv = nn.Conv3d(
            in_channels,
            out_channels,
            kernel_size=(1, kernel, kernel),
            stride=(1, 2, 2),
            padding=(0, kernel // 2, kernel // 2),
            bias=False,
        )
        self.bn = _bn(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(self.relu(self.bn(self.conv(x))))


class Bottleneck(nn.Module):
    """Tx1x1 -> 1x3x3 (spatial stride) -> 1x1x1, plus a (projected) shortcut.

    Module names mirror PySlowFast's ``branch2.{a,b,c}`` / ``branch1`` so that the
    checkpoint converter is a plain rename.
    """

    def __init__(
        self, dim_in: int, dim_out: int, dim_inner: int, temporal_kernel: int, stride: int
    ):
        super().__init__()
        self.a = nn.Conv3d(
            dim_in,
            dim_inner,
            kernel_size=(temporal_kernel, 1, 1),
            padding=(temporal_kernel // 2, 0, 0),
            bias=False,
        )
        self.a_bn = _bn(dim_inner)
        self.b = nn.Conv3d(
            dim_inner,
            dim_inner,
            kernel_size=(1, 3, 3),
            stride=(1, stride, stride),
            padding=(0, 1, 1),
            bias=False,
        )
        self.b_bn = _bn(dim_inner)
        self.c = nn.Conv3d(dim_inner, dim_out, kernel_size=1, bias=False)
        self.c_bn = _bn(dim_out)
        self.relu = nn.ReLU(inplace=True)
        self.proj: nn.Conv3d | None = None
        self.proj_bn: nn.BatchNorm3d | None = None
        if dim_in != dim_out or stride != 1:
            self.proj = nn.Conv3d(
                dim_in, dim_out, kernel_size=1, stride=(1, stride, stride), bias=False
            )
            self.proj_bn = _bn(dim_out)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.a_bn(self.a(x)))
        out = self.relu(self.b_bn(self.b(out)))
        out = self.c_bn(self.c(out))
        shortcut = x if self.proj is None else self.proj_bn(self.proj(x))
        return self.relu(out + shortcut)


def make_stage(spec: SlowSpec, index: int, dim_in: int | None = None) -> nn.Sequential:
    """Stage ``res{index + 2}``; ``dim_in`` overrides the input width (stacked fusion)."""
    if dim_in is None:
        dim_in = spec.width if index == 0 else spec.stage_widths[index - 1]
    dim_out = spec.stage_widths[index]
    blocks = [
        Bottleneck(
            dim_in if i == 0 else dim_out,
            dim_out,
            spec.inner_widths[index],
            spec.temporal_kernels[index],
            SPATIAL_STRIDES[index] if i == 0 else 1,
        )
        for i in range(spec.depths[index])
    ]
    return nn.Sequential(*blocks)


class Head(nn.Module):
    """Global average pool over T, H, W -> dropout -> linear logits.

    With ``pool_kernel`` the map is first averaged over stride-1 windows of that
    size (clipped to the map), and the window averages are then averaged: the
    order of pytorchvideo's ``ResNetBasicHead`` (its projection sits between the
    two poolings, which commutes with averaging). It equals the global mean when
    the kernel covers the whole map (8x7x7 at 8x224x224 for Slow-only R50).
    """

    def __init__(
        self,
        dim_in: int,
        num_classes: int,
        dropout: float,
        pool_kernel: tuple[int, int, int] | None = None,
    ):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.pool_kernel = pool_kernel
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(dim_in, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        if self.pool_kernel is not None:
            kernel = tuple(
                min(k, size) for k, size in zip(self.pool_kernel, x.shape[2:], strict=True)
            )
            x = nn.functional.avg_pool3d(x, kernel, stride=1)
        return self.fc(self.dropout(self.pool(x).flatten(1)))

    def reset_parameters(self) -> None:
        nn.init.normal_(self.fc.weight, std=FC_INIT_STD)
        nn.init.zeros_(self.fc.bias)


def init_weights(module: nn.Module, zero_init_final_bn: bool) -> None:
    """PySlowFast's ResNet init: MSRA (fan-out) convs, unit BN, N(0, 0.01) linear.

    With ``zero_init_final_bn`` the last BN of every bottleneck gets gamma = 0
    (``RESNET.ZERO_INIT_FINAL_BN``), so each block starts as its shortcut; this
    is what the SLOW_8x8_R50 recipe trains with from scratch.
    """
    for m in module.modules():
        if isinstance(m, nn.Conv3d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm3d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=FC_INIT_STD)
            nn.init.zeros_(m.bias)
    if zero_init_final_bn:
        for m in module.modules():
            if isinstance(m, Bottleneck):
                nn.init.zeros_(m.c_bn.weight)
