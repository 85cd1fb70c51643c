"""Parameter and multiply-accumulate counts, checkable against published figures.

MACs are counted with `torch.utils.flop_counter.FlopCounterMode`, which reports
FLOPs = 2 x MACs for convolutions and matrix products (checked in the tests on a
conv and a linear layer) and ignores biases, BN, ReLU, pooling and element-wise
ops; we halve its total. That is the convention of the SlowFast paper's "GFLOPs"
(which are MACs of conv and fc layers): SLOW_8x8_R50 is 41.7 G at 8x224x224.

Counting runs on the ``meta`` device when the model lives there, so a 30 M
parameter network costs nothing to measure: build it under
``with torch.device("meta"):``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of scalar parameters (shared tensors counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def example_batch(
    model: nn.Module,
    batch_size: int = 1,
    clip_size: Sequence[int] | None = None,
    device: torch.device | str | None = None,
    seed: int | None = None,
) -> dict[str, Tensor]:
    """A batch with exactly the model's ``required_inputs`` at its intended clip size.

    Values are random normal clips and a random binary mask (deterministic with
    ``seed``); on the meta device only shapes exist.
    """
    t, h, w = tuple(clip_size or model.clip_size)
    channels = model.spec.in_channels
    if device is None:
        device = next(model.parameters()).device
    device = torch.device(device)
    generator = None
    if seed is not None and device.type != "meta":
        generator = torch.Generator(device=device).manual_seed(seed)
    batch: dict[str, Tensor] = {}
    for key in model.required_inputs:
        if key == "mask":
            shape = (batch_size, 1, t, h, w)
            if device.type == "meta":
                batch[key] = torch.empty(shape, device=device)
            else:
                batch[key] = (torch.rand(shape, generator=generator, device=device) > 0.5).float()
        elif key == "maps":
            # Detector likelihoods in [0, 1], one channel per object query (A2O).
            shape = (batch_size, int(model.num_maps), t, h, w)
            if device.type == "meta":
                batch[key] = torch.empty(shape, device=device)
            else:
                batch[key] = torch.rand(shape, generator=generator, device=device)
        else:
            shape = (batch_size, channels, t, h, w)
            batch[key] = torch.randn(shape, generator=generator, device=device)
    return batch


def count_macs(model: nn.Module, batch: dict[str, Tensor]) -> int:
    """Multiply-accumulates of one eval-mode forward pass over ``batch``."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(batch)
    finally:
        model.train(was_training)
    return counter.get_total_flops() // 2
