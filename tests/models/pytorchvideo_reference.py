"""A stand-in for pytorchvideo's ``create_resnet`` Slow-only network, written for the tests.

It has pytorchvideo's module tree and therefore its state-dict names
(``blocks.0.conv``, ``blocks.N.res_blocks.M.branch1_conv``,
``branch2.conv_a``..``norm_c``, ``blocks.5.proj``) and computes what that network
computes: stem conv 1x7x7 + BN + ReLU + max-pool; bottlenecks whose temporal
kernel is in ``conv_a`` and spatial stride in ``conv_b``; a shortcut conv + BN
where the width or stride changes; and the ``ResNetBasicHead`` order (stride-1
``AvgPool3d`` of ``head_pool_kernel``, dropout, a linear projection applied
channels-last, global average). It is built from the published layout, not
imported or copied, so the loader is checked against an independent network.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

R50_DEPTHS = (3, 4, 6, 3)
SLOW_TEMPORAL_KERNELS = (1, 1, 3, 3)


class _Stem(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.conv = nn.Conv3d(3, width, (1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False)
        self.norm = nn.BatchNorm3d(width)
        self.activation = nn.ReLU()
        self.pool = nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(self.activation(self.norm(self.conv(x))))


class _Branch2(nn.Module):
    def __init__(self, dim_in: int, inner: int, dim_out: int, t_kernel: int, stride: int):
        super().__init__()
        self.conv_a = nn.Conv3d(
            dim_in, inner, (t_kernel, 1, 1), padding=(t_kernel // 2, 0, 0), bias=False
        )
        self.norm_a = nn.BatchNorm3d(inner)
        self.act_a = nn.ReLU()
        self.conv_b = nn.Conv3d(
            inner, inner, (1, 3, 3), stride=(1, stride, stride), padding=(0, 1, 1), bias=False
        )
        self.norm_b = nn.BatchNorm3d(inner)
        self.act_b = nn.ReLU()
        self.conv_c = nn.Conv3d(inner, dim_out, 1, bias=False)
        self.norm_c = nn.BatchNorm3d(dim_out)

    def forward(self, x: Tensor) -> Tensor:
        x = self.act_a(self.norm_a(self.conv_a(x)))
        x = self.act_b(self.norm_b(self.conv_b(x)))
        return self.norm_c(self.conv_c(x))


class _ResBlock(nn.Module):
    def __init__(self, dim_in: int, inner: int, dim_out: int, t_kernel: int, stride: int):
        super().__init__()
        self.branch1_conv: nn.Conv3d | None = None
        self.branch1_norm: nn.BatchNorm3d | None = None
        if dim_in != dim_out or stride != 1:
            self.branch1_conv = nn.Conv3d(
                dim_in, dim_out, 1, stride=(1, stride, stride), bias=False
            )
            self.branch1_norm = nn.BatchNorm3d(dim_out)
        self.branch2 = _Branch2(dim_in, inner, dim_out, t_kernel, stride)
        self.activation = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x
        if self.branch1_conv is not None:
            shortcut = self.branch1_norm(self.branch1_conv(x))
        return self.activation(shortcut + self.branch2(x))


class _Stage(nn.Module):
    def __init__(self, blocks: list[_ResBlock]):
        super().__init__()
        self.res_blocks = nn.ModuleList(blocks)

    def forward(self, x: Tensor) -> Tensor:
        for block in self.res_blocks:
            x = block(x)
        return x


class _Head(nn.Module):
    def __init__(self, dim_in: int, num_classes: int, pool_kernel: Sequence[int]):
        super().__init__()
        self.pool = nn.AvgPool3d(tuple(pool_kernel), stride=1)
        self.dropout = nn.Dropout(0.5)
        self.proj = nn.Linear(dim_in, num_classes)
        self.output_pool = nn.AdaptiveAvgPool3d(1)

    def forward(self, x: Tensor) -> Tensor:
        x = self.dropout(self.pool(x))
        x = self.proj(x.permute(0, 2, 3, 4, 1)).permute(0, 4, 1, 2, 3)
        return self.output_pool(x).flatten(1)


class PytorchvideoSlowR50(nn.Module):
    """``blocks`` = [stem, res2, res3, res4, res5, head], as in pytorchvideo's ``Net``."""

    def __init__(
        self,
        num_classes: int = 400,
        depths: Sequence[int] = R50_DEPTHS,
        width: int = 64,
        head_pool_kernel: Sequence[int] = (8, 7, 7),
    ):
        super().__init__()
        blocks: list[nn.Module] = [_Stem(width)]
        dim_in = width
        for index, depth in enumerate(depths):
            inner, dim_out = width * 2**index, 4 * width * 2**index
            stride = 1 if index == 0 else 2
            t_kernel = SLOW_TEMPORAL_KERNELS[index]
            blocks.append(
                _Stage(
                    [
                        _ResBlock(
                            dim_in if i == 0 else dim_out,
                            inner,
                            dim_out,
                            t_kernel,
                            stride if i == 0 else 1,
                        )
                        for i in range(depth)
                    ]
                )
            )
            dim_in = dim_out
        blocks.append(_Head(dim_in, num_classes, head_pool_kernel))
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: Tensor) -> Tensor:
        for block in self.blocks:
            x = block(x)
        return x


def randomise(model: nn.Module, seed: int) -> nn.Module:
    """Random weights and BN statistics (so every tensor matters), eval mode."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            module = name.rsplit(".", 2)[-2]
            if name.endswith("running_var") or ("norm" in module and name.endswith("weight")):
                tensor.copy_(torch.rand(tensor.shape, generator=gen) + 0.5)
            else:
                fan_in = max(1, tensor[0].numel()) if tensor.dim() > 1 else 1
                tensor.copy_(torch.randn(tensor.shape, generator=gen) / fan_in**0.5)
    return model.eval()
