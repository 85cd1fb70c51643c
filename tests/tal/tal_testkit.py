"""What the TAL tests share: tiny detectors, padded features, ActionVLMs, running a command.

Import it from a test module in this folder with ``from tal_testkit import ...``.
"""

from __future__ import annotations

from typing import Any

import torch

from actionbias.cli import build_parser
from actionbias.tal.detector import ActionFormer
from actionbias.tal.language.aggregation import ActionVLM
from actionbias.tal.language.model import CompactLanguageModel
from actionbias.tal.language.trainer import TALBatch
from actionbias.tal.train import build_detector


def tiny_detector(in_dim: int, num_classes: int, width: int = 8, **options: Any) -> Any:
    """An ActionFormer small enough for a CPU test: one stem block, every width `width`;
    `options` override its window (3), heads (1), downsample blocks (1), length (32)."""
    shape = {"embed_dim": width, "fpn_dim": width, "head_dim": width, "window": 3, "heads": 1}
    shape |= {"stem_blocks": 1, "downsample_blocks": 1, "max_seq_len": 32}
    return build_detector(in_dim, num_classes, **(shape | options))


def padded_features(
    channels: int, steps: int, valid: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random features of two videos, (2, C, T), and their mask: the second ends at `valid`."""
    torch.manual_seed(seed)
    feats = torch.randn(2, channels, steps)
    mask = torch.ones(2, steps, dtype=torch.bool)
    mask[1, valid:] = False
    return feats, mask


#: Feature channels, steps and classes of the language-branch tests.
C, T, NUM_CLASSES = 16, 32, 3


def small_actionformer() -> Any:
    """The ActionFormer of the language-branch tests: C channels in, NUM_CLASSES out."""
    return ActionFormer(
        C, NUM_CLASSES, embed_dim=16, fpn_dim=16, head_dim=16, window=5, heads=2,
        downsample_blocks=2, max_seq_len=T,
    )  # fmt: skip


def language_batches(n: int = 2) -> list[TALBatch]:
    """`n` batches of two videos (the second padded after step 26) with actions and a prompt."""
    torch.manual_seed(0)
    out = []
    for _ in range(n):
        feats = torch.randn(2, C, T)
        mask = torch.ones(2, T, dtype=torch.bool)
        mask[1, 26:] = False
        segs = [torch.tensor([[3.0, 7.0], [15.0, 24.0]]), torch.tensor([[2.0, 20.0]])]
        labels = [torch.tensor([0, 2]), torch.tensor([1])]
        desc = torch.randn(NUM_CLASSES, 24)
        out.append(TALBatch(feats, mask, segs, labels, {"prompt": desc, "targets": (segs, labels)}))
    return out


def small_actionvlm(ablation: str = "full") -> ActionVLM:
    """`small_actionformer` with a compact language model (seeded) under `ablation`."""
    torch.manual_seed(1)
    lang = CompactLanguageModel(C, NUM_CLASSES, desc_dim=24, width=16, heads=2)
    return ActionVLM(small_actionformer(), lang, ablation)


def run_command(argv: list[str]) -> int:
    """Parse `argv` with the ``actionbias`` parser and call its handler; errors propagate."""
    args = build_parser(argv[0]).parse_args(argv)
    return args.handler(args)
