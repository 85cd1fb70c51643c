"""Resolve the ``auto`` speed flags for the machine at hand.

bf16 autocast, ``channels_last_3d`` and ``cudnn.benchmark`` are what make a 3D
ResNet fast on a recent NVIDIA GPU; on CPU they are useless or slower (bf16
autocast on a CPU without AMX runs conv3d several times slower). ``auto`` turns
them on exactly when the run will use CUDA, so one recipe serves a laptop and a
GPU node.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from actionbias.errors import BadInputError

PRECISIONS = ("32-true", "32", "bf16-mixed", "16-mixed", "bf16-true", "64-true")


@dataclass(frozen=True)
class Hardware:
    cuda: bool
    precision: str
    channels_last: bool
    benchmark: bool


def uses_cuda(accelerator: str) -> bool:
    if accelerator in ("cpu", "mps", "tpu"):
        return False
    return torch.cuda.is_available() and accelerator in ("auto", "gpu", "cuda")


def resolve_hardware(
    accelerator: str = "auto",
    precision: str = "auto",
    channels_last: bool | str = "auto",
    benchmark: bool | str = "auto",
    deterministic: bool = False,
) -> Hardware:
    cuda = uses_cuda(accelerator)
    if precision == "auto":
        precision = "bf16-mixed" if cuda and torch.cuda.is_bf16_supported() else "32-true"
    elif precision not in PRECISIONS:
        raise BadInputError(
            f"unknown precision {precision!r}; choose auto, {', '.join(PRECISIONS)}",
            where="field trainer.precision",
        )
    if channels_last == "auto":
        channels_last = cuda
    if benchmark == "auto":
        benchmark = cuda and not deterministic
    return Hardware(cuda, precision, bool(channels_last), bool(benchmark))
