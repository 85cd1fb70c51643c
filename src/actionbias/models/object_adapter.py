"""The position-independent adapter of A2O (paper sections 3.2-3.3, Table 10).

Each pixel's vector of detector likelihoods ``m(u, v) in [0, 1]^Q`` is mapped on its
own (only 1x1x1 convolutions, so no information moves between pixels or frames) to
a feature ``f(u, v) in R^D``, which a linear 1x1x1 projection turns into three
channels added to the normalised RGB frames. The recogniser's layers stay as they
are: the maps reach it as a learned colour cast on the pixels the detector marked.

Table 10 shapes: ``depth=0`` is a single 1x1 conv Q -> D; ``depth=k`` is
``{1x1 conv + ReLU} x k -> 1x1 conv to D`` (``hidden`` channels inside).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

ADAPTER_MODES = ("add", "concat")


def _conv(in_channels: int, out_channels: int, bias: bool = True) -> nn.Conv3d:
    return nn.Conv3d(in_channels, out_channels, kernel_size=1, bias=bias)


class ObjectAdapter(nn.Module):
    """Likelihood maps ``B x Q x T x H x W`` -> RGB offsets ``B x 3 x T x H x W``.

    The final projection starts at zero, so at step 0 the recogniser sees exactly
    the plain video: a pretrained backbone is not disturbed by random colour noise
    from an untrained adapter, a trial with objects starts from the same function as
    the baseline (the reward then measures what the maps add through training, not
    the damage of a random init), and the gradient still reaches the projection at
    once (it is the product of the features, which are non-zero, and the input
    gradient). The layers before it get gradient from the second step on.
    """

    def __init__(
        self,
        in_channels: int,
        features: int = 16,
        depth: int = 0,
        hidden: int = 64,
        out_channels: int = 3,
    ) -> None:
        super().__init__()
        if in_channels < 1:
            raise ValueError(f"the adapter needs at least one map channel, got {in_channels}")
        if features < 1 or hidden < 1 or depth < 0 or out_channels < 1:
            raise ValueError(
                f"bad adapter shape: features={features}, depth={depth}, hidden={hidden}"
            )
        self.in_channels = in_channels
        self.features = features
        self.depth = depth
        self.hidden = hidden
        layers: list[nn.Module] = []
        width = in_channels
        for _ in range(depth):
            layers += [_conv(width, hidden), nn.ReLU(inplace=True)]
            width = hidden
        layers.append(_conv(width, features))
        self.encoder = nn.Sequential(*layers)
        # A linear projection (no bias), as in the paper: f -> 3 colour offsets.
        self.projection = _conv(features, out_channels, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in self.encoder:
            if isinstance(module, nn.Conv3d):
                nn.init.kaiming_uniform_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)
        nn.init.zeros_(self.projection.weight)

    def _hidden(self, x: Tensor) -> Tensor:
        """Channels-last input through every encoder layer but the last conv (+ ReLUs)."""
        # A 1x1x1 convolution is a matrix product per pixel; `linear` over a
        # channels-last view runs about twice as fast as Conv3d on CPU, with the
        # same parameters (and state dict) as the Conv3d modules.
        layers = list(self.encoder)[:-1]
        for module in layers:
            if isinstance(module, nn.Conv3d):
                x = F.linear(x, module.weight.flatten(1), module.bias)
            else:
                x = module(x)
        return x

    def feature_maps(self, maps: Tensor) -> Tensor:
        """The D-dimensional features ``f`` (``B x D x T x H x W``)."""
        last = self.encoder[-1]
        x = self._hidden(maps.movedim(1, -1))
        return F.linear(x, last.weight.flatten(1), last.bias).movedim(-1, 1)

    def forward(self, maps: Tensor) -> Tensor:
        # The last conv to D and the projection to 3 are both linear: composing their
        # weights (3 x D times D x C) gives the same offsets without ever
        # materialising the D-channel feature video (the costly part at full
        # resolution); autograd still trains both factors.
        last = self.encoder[-1]
        projection = self.projection.weight.flatten(1)
        weight = projection @ last.weight.flatten(1)
        bias = projection @ last.bias
        x = self._hidden(maps.movedim(1, -1))
        return F.linear(x, weight, bias).movedim(-1, 1)


def widen_first_conv(conv: nn.Conv3d, extra: int) -> nn.Conv3d:
    """A copy of ``conv`` taking ``extra`` more input channels, which start at zero.

    The no-compression ablation (Sec. 4.5.3) feeds the maps as extra input channels;
    zero weights on them keep a pretrained stem's function unchanged at step 0, for
    the same reason the adapter's projection starts at zero.
    """
    wider = nn.Conv3d(
        conv.in_channels + extra,
        conv.out_channels,
        kernel_size=conv.kernel_size,  # type: ignore[arg-type]
        stride=conv.stride,  # type: ignore[arg-type]
        padding=conv.padding,  # type: ignore[arg-type]
        dilation=conv.dilation,  # type: ignore[arg-type]
        groups=conv.groups,
        bias=conv.bias is not None,
    ).to(device=conv.weight.device, dtype=conv.weight.dtype)
    with torch.no_grad():
        wider.weight.zero_()
        wider.weight[:, : conv.in_channels] = conv.weight
        if conv.bias is not None:
            wider.bias.copy_(conv.bias)
    return wider
