"""The backbone options every Slow-only model takes, declared once.

A recipe sets them as ``model.options`` (``actionbias train --set model.width=16``)
on any ResNet model: the baseline, the segmented model, both dual-branch fusions,
Weighted Focus and A2O's Slow-only recogniser. Factories take them as ``**options``
and register the type here with `register_model(..., options=...)`, so the registry
lists and checks one set of names instead of each factory spelling out the same
keyword arguments and forwarding them by hand.

Every field defaults to ``None``, which keeps the value of the preset the model is
built from (``backbone=``, or the model's own name for ``slow_*``): an option is an
override of `actionbias.models.backbone.BACKBONES`, never a second set of defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from actionbias.models.backbone import SlowSpec, backbone_spec


@dataclass(frozen=True)
class BackboneOptions:
    """Overrides of a backbone preset's shape; values are checked by `SlowSpec`."""

    depths: Sequence[int] | None = None
    """Bottleneck blocks in res2..res5 (3, 4, 6, 3 for R50)."""
    width: int | None = None
    """Stem channels; stage widths are ``4 * width * 2**i``."""
    stem_kernel: int | None = None
    """Spatial kernel of the stem convolution (odd)."""
    temporal_kernels: Sequence[int] | None = None
    """Temporal kernel of the first 1x1 conv of every block, per stage (odd)."""
    dropout: float | None = None
    """Dropout before the head's linear layer, in [0, 1)."""
    zero_init_final_bn: bool | None = None
    """Start every residual block as its shortcut (PySlowFast's from-scratch recipe)."""
    clip_size: Sequence[int] | None = None
    """T x H x W the model is made for (example batches, cost figures)."""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The option names, in declaration order (the order errors list them in)."""
        return tuple(f.name for f in fields(cls))

    def overrides(self) -> dict[str, Any]:
        """The options that were set (not ``None``)."""
        values = {name: getattr(self, name) for name in self.names()}
        return {name: value for name, value in values.items() if value is not None}

    def resolve(self, backbone: str) -> SlowSpec:
        """The preset ``backbone`` with these options applied."""
        return backbone_spec(backbone, **self.overrides())


@dataclass(frozen=True)
class SlowOnlyOptions(BackboneOptions):
    """The single-stream Slow-only models' options: the backbone's plus the head pooling.

    Only `SlowOnly` builds its head with a pooling kernel; the fused and focused
    models pool globally, so they do not offer an option they would ignore.
    """

    head_pool_kernel: Sequence[int] | None = None
    """pytorchvideo's head pooling window (see `SlowSpec.head_pool_kernel`)."""
