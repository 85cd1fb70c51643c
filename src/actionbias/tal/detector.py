"""ActionFormer-style single-stage temporal action detector (Zhang et al., 2022).

Features (B, C, T) -> masked 1-D conv embedding -> `stem_blocks` local-window
self-attention blocks at stride 1 -> `downsample_blocks` blocks that each halve
the length (a 6-level pyramid, strides 1..32 by default) -> per-level norm ->
shared classification and regression heads. Every point of every level
predicts K class logits and (left, right) distances in units of its stride;
a learnable per-level scale lets one shared head serve all strides.

Masking is exact: every layer zeroes padded steps, attention never reads them
and max-pooling treats them as -inf, so padding a batch never changes the
outputs at valid steps (a test checks this).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

# ActionFormer's per-level regression ranges (feature-grid units) for 6 levels
DEFAULT_REGRESSION_RANGES: tuple[tuple[float, float], ...] = (
    (0.0, 4.0),
    (4.0, 8.0),
    (8.0, 16.0),
    (16.0, 32.0),
    (32.0, 64.0),
    (64.0, math.inf),
)


@dataclass
class DetectorOutput:
    """Per-level predictions. `points[l]` rows: (position, range_lo, range_hi, stride)."""

    cls_logits: list[Tensor]  # (B, T_l, K)
    offsets: list[Tensor]  # (B, T_l, 2), in units of the level's stride, >= 0
    masks: list[Tensor]  # (B, T_l) bool
    points: list[Tensor]  # (T_l, 4)


def regression_ranges(levels: int) -> list[tuple[float, float]]:
    """ActionFormer's ranges for `levels` levels (the last one open-ended)."""
    ranges = [DEFAULT_REGRESSION_RANGES[min(i, 5)] for i in range(levels)]
    if levels < 6:
        ranges[-1] = (ranges[-1][0], math.inf)
    if levels > 6:
        ranges = [(0.0, 4.0)] + [(4.0 * 2 ** (i - 1), 4.0 * 2**i) for i in range(1, levels)]
        ranges[-1] = (ranges[-1][0], math.inf)
    return ranges


class MaskedConv1d(nn.Module):
    """Same-padded 1-D conv whose output is zero at padded steps."""

    def __init__(self, in_dim: int, out_dim: int, kernel: int = 3, bias: bool = True):
        super().__init__()
        self.conv = nn.Conv1d(in_dim, out_dim, kernel, padding=kernel // 2, bias=bias)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        return self.conv(x) * mask[:, None, :].to(x.dtype)


class ChannelNorm(nn.Module):
    """LayerNorm over channels of a (B, C, T) tensor (per time step)."""

    def __init__(self, dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


class LocalSelfAttention(nn.Module):
    """Multi-head self-attention restricted to a window of `window` steps around each query.

    Keys and values are gathered with `unfold`, so memory grows with T * window
    instead of T^2 -- the reason ActionFormer scales to 2304-step THUMOS inputs.
    """

    def __init__(self, dim: int, heads: int, window: int, dropout: float = 0.0):
        super().__init__()
        if dim % heads:
            raise ValueError(f"embed dim {dim} is not divisible by {heads} heads")
        if window % 2 == 0:
            raise ValueError(f"attention window must be odd, got {window}")
        self.heads = heads
        self.window = window
        self.qkv = nn.Conv1d(dim, 3 * dim, 1)
        self.proj = nn.Conv1d(dim, dim, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        b, c, t = x.shape
        h, w = self.heads, self.window
        d = c // h
        q, k, v = self.qkv(x).chunk(3, dim=1)
        half = w // 2
        q = q.reshape(b, h, d, t).transpose(2, 3)  # (B, H, T, D)

        def windows(z: Tensor) -> Tensor:  # (B, C, T) -> (B, H, T, W, D)
            z = F.pad(z, (half, half))
            z = z.unfold(2, w, 1)  # (B, C, T, W)
            return z.reshape(b, h, d, t, w).permute(0, 1, 3, 4, 2)

        kw, vw = windows(k), windows(v)
        valid = F.pad(mask.to(x.dtype), (half, half)).unfold(1, w, 1) > 0  # (B, T, W)
        scores = torch.einsum("bhtd,bhtwd->bhtw", q, kw) / math.sqrt(d)
        scores = scores.masked_fill(~valid[:, None], float("-inf"))
        attn = torch.softmax(scores, dim=-1)
        attn = torch.nan_to_num(attn, nan=0.0)  # rows of padded queries have no valid key
        out = torch.einsum("bhtw,bhtwd->bhtd", self.drop(attn), vw)
        out = out.transpose(2, 3).reshape(b, c, t)
        return self.proj(out) * mask[:, None, :].to(x.dtype)


class TransformerBlock(nn.Module):
    """Pre-norm local-attention block; with `downsample` the input is max-pooled by 2 first."""

    def __init__(self, dim: int, heads: int, window: int, downsample: bool, dropout: float = 0.0):
        super().__init__()
        self.downsample = downsample
        self.norm1 = ChannelNorm(dim)
        self.attn = LocalSelfAttention(dim, heads, window, dropout)
        self.norm2 = ChannelNorm(dim)
        self.mlp = nn.Sequential(
            nn.Conv1d(dim, 4 * dim, 1), nn.GELU(), nn.Dropout(dropout), nn.Conv1d(4 * dim, dim, 1)
        )

    def forward(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        if self.downsample:
            x = x.masked_fill(~mask[:, None, :], float("-inf"))
            x = F.max_pool1d(x, kernel_size=3, stride=2, padding=1)
            mask = mask[:, ::2]
            x = x.masked_fill(~mask[:, None, :], 0.0)
        m = mask[:, None, :].to(x.dtype)
        x = x + self.attn(self.norm1(x), mask)
        x = x + self.mlp(self.norm2(x)) * m
        return x * m, mask


class Head(nn.Module):
    """Shared conv head applied to every pyramid level."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int, layers: int = 2):
        super().__init__()
        dims = [in_dim] + [hidden] * layers
        self.convs = nn.ModuleList(MaskedConv1d(a, b) for a, b in itertools.pairwise(dims))
        self.norms = nn.ModuleList(ChannelNorm(hidden) for _ in range(layers))
        self.out = MaskedConv1d(hidden, out_dim)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = F.relu(norm(conv(x, mask))) * mask[:, None, :].to(x.dtype)
        return self.out(x, mask)


class ActionFormer(nn.Module):
    """The detector. ``forward(feats (B,C,T), mask (B,T), feats_loc=None) -> DetectorOutput``.

    With `feats_loc` the classification head reads the pyramid of `feats` and the
    regression head the pyramid of `feats_loc` (same backbone weights, two passes):
    ActionVLM feeds F_cls and F_loc this way. Inputs whose length is not a multiple
    of the largest stride are padded (masked) internally. `max_seq_len` is the
    training window; longer inputs are accepted at inference (attention is local).
    """

    def __init__(
        self,
        in_dim: int,
        num_classes: int,
        *,
        embed_dim: int = 512,
        fpn_dim: int = 512,
        head_dim: int = 512,
        window: int = 19,
        stem_blocks: int = 2,
        downsample_blocks: int = 5,
        max_seq_len: int = 2304,
        heads: int = 4,
        embed_convs: int = 2,
        head_layers: int = 2,
        dropout: float = 0.0,
        prior_prob: float = 0.01,
        ranges: list[tuple[float, float]] | None = None,
    ):
        super().__init__()
        self.in_dim = in_dim
        self.num_classes = num_classes
        self.max_seq_len = max_seq_len
        self.levels = downsample_blocks + 1
        self.strides = [2**i for i in range(self.levels)]
        self.ranges = list(ranges) if ranges is not None else regression_ranges(self.levels)
        if len(self.ranges) != self.levels:
            raise ValueError(f"need {self.levels} regression ranges, got {len(self.ranges)}")
        dims = [in_dim] + [embed_dim] * embed_convs
        self.embed = nn.ModuleList(MaskedConv1d(a, b) for a, b in itertools.pairwise(dims))
        self.embed_norms = nn.ModuleList(ChannelNorm(embed_dim) for _ in range(embed_convs))
        self.stem = nn.ModuleList(
            TransformerBlock(embed_dim, heads, window, False, dropout) for _ in range(stem_blocks)
        )
        self.branch = nn.ModuleList(
            TransformerBlock(embed_dim, heads, window, True, dropout)
            for _ in range(downsample_blocks)
        )
        self.neck = nn.ModuleList(MaskedConv1d(embed_dim, fpn_dim, 1) for _ in range(self.levels))
        self.neck_norms = nn.ModuleList(ChannelNorm(fpn_dim) for _ in range(self.levels))
        self.cls_head = Head(fpn_dim, head_dim, num_classes, head_layers)
        self.reg_head = Head(fpn_dim, head_dim, 2, head_layers)
        self.scales = nn.Parameter(torch.ones(self.levels))
        nn.init.constant_(self.cls_head.out.conv.bias, -math.log((1 - prior_prob) / prior_prob))

    @property
    def max_stride(self) -> int:
        return self.strides[-1]

    def pyramid(self, feats: Tensor, mask: Tensor) -> tuple[list[Tensor], list[Tensor]]:
        """Backbone + neck: per-level features (B, fpn_dim, T_l) and masks."""
        x = feats * mask[:, None, :].to(feats.dtype)
        for conv, norm in zip(self.embed, self.embed_norms, strict=True):
            x = F.relu(norm(conv(x, mask))) * mask[:, None, :].to(x.dtype)
        for block in self.stem:
            x, mask = block(x, mask)
        outs, masks = [x], [mask]
        for block in self.branch:
            x, mask = block(x, mask)
            outs.append(x)
            masks.append(mask)
        feats_l = [
            norm(conv(o, m)) * m[:, None, :].to(o.dtype)
            for o, m, conv, norm in zip(outs, masks, self.neck, self.neck_norms, strict=True)
        ]
        return feats_l, masks

    def points(self, lengths: list[int], device: torch.device) -> list[Tensor]:
        out = []
        for t, stride, (lo, hi) in zip(lengths, self.strides, self.ranges, strict=True):
            pos = torch.arange(t, device=device, dtype=torch.float32) * stride
            extra = torch.tensor([lo, hi, float(stride)], device=device).expand(t, 3)
            out.append(torch.cat([pos[:, None], extra], dim=1))
        return out

    def _pad(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        t = x.shape[-1]
        padded = -(-t // self.max_stride) * self.max_stride
        if padded == t:
            return x, mask
        return F.pad(x, (0, padded - t)), F.pad(mask, (0, padded - t), value=False)

    def forward(
        self, feats: Tensor, mask: Tensor, feats_loc: Tensor | None = None
    ) -> DetectorOutput:
        if feats.ndim != 3 or feats.shape[1] != self.in_dim:
            raise ValueError(f"expected feats (B, {self.in_dim}, T), got {tuple(feats.shape)}")
        mask = mask.bool()
        feats_p, mask_p = self._pad(feats, mask)
        if feats_loc is not None:
            if feats_loc.shape != feats.shape:
                raise ValueError("feats_loc must have the shape of feats")
            # one pass over the stacked batch instead of two: the same per-sample maths
            # (every layer is per-sample), half the kernel launches on small inputs
            b = feats.shape[0]
            stacked = torch.cat([feats_p, self._pad(feats_loc, mask)[0]])
            both, both_masks = self.pyramid(stacked, torch.cat([mask_p, mask_p]))
            cls_feats, reg_feats = [f[:b] for f in both], [f[b:] for f in both]
            masks = [m[:b] for m in both_masks]
        else:
            cls_feats, masks = self.pyramid(feats_p, mask_p)
            reg_feats = cls_feats
        cls_logits, offsets = [], []
        for level, (xc, xr, m) in enumerate(zip(cls_feats, reg_feats, masks, strict=True)):
            cls_logits.append(self.cls_head(xc, m).transpose(1, 2))
            reg = F.relu(self.scales[level] * self.reg_head(xr, m))
            offsets.append(reg.transpose(1, 2))
        lengths = [m.shape[1] for m in masks]
        return DetectorOutput(cls_logits, offsets, masks, self.points(lengths, feats.device))
