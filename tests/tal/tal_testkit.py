"""Small models and inputs the TAL tests share: a tiny ActionFormer, a padded feature batch.

Import it from a test module in this folder with ``from tal_testkit import ...``.
"""

from __future__ import annotations

from typing import Any

import torch

from actionbias.tal.train import build_detector


def tiny_detector(
    in_dim: int,
    num_classes: int,
    *,
    width: int = 8,
    window: int = 3,
    heads: int = 1,
    downsample_blocks: int = 1,
    max_seq_len: int = 32,
    **options: Any,
) -> Any:
    """An ActionFormer small enough for a CPU test: one stem block, every width `width`."""
    return build_detector(
        in_dim,
        num_classes,
        embed_dim=width,
        fpn_dim=width,
        head_dim=width,
        window=window,
        heads=heads,
        stem_blocks=1,
        downsample_blocks=downsample_blocks,
        max_seq_len=max_seq_len,
        **options,
    )


def padded_features(
    channels: int, steps: int, valid: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random features of two videos, (2, C, T), and their mask: the second ends at `valid`."""
    torch.manual_seed(seed)
    feats = torch.randn(2, channels, steps)
    mask = torch.ones(2, steps, dtype=torch.bool)
    mask[1, valid:] = False
    return feats, mask
