"""Single-stream Slow-only classifiers: the baseline and the paper's "Segmented" model.

``slow_r50`` is the paper's baseline (Table 2, first row). ``segmented`` is the same
network fed only the human-only clip (Table 2, "Segmented"): it cannot see the
scene, which removes the shortcut and, on Kinetics, much of the accuracy.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from actionbias.models.backbone import Head, SlowSpec, Stem, init_weights, make_stage
from actionbias.models.base import VideoClassifier
from actionbias.models.options import SlowOnlyOptions
from actionbias.models.registry import register_model


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


def _slow_only(preset: str, num_classes: int, input_key: str, options: dict[str, Any]) -> SlowOnly:
    """The four single-stream models differ only in their preset and the clip they read."""
    return SlowOnly(num_classes, SlowOnlyOptions(**options).resolve(preset), input_key)


@register_model("slow_r50", options=SlowOnlyOptions)
def slow_r50(num_classes: int, **options: Any) -> SlowOnly:
    """Slow-only R50 (PySlowFast SLOW_8x8_R50) on the raw video: the paper's baseline."""
    return _slow_only("slow_r50", num_classes, "video", options)


@register_model("slow_small", options=SlowOnlyOptions)
def slow_small(num_classes: int, **options: Any) -> SlowOnly:
    """Slow-only, 2-2-2-2 blocks, widths 64..512: the baseline for CPU runs at 8x112x112."""
    return _slow_only("slow_small", num_classes, "video", options)


@register_model("slow_tiny", options=SlowOnlyOptions)
def slow_tiny(num_classes: int, **options: Any) -> SlowOnly:
    """Slow-only, 1-1-1-1 blocks, widths 32..256: smoke tests and demos at 8x64x64."""
    return _slow_only("slow_tiny", num_classes, "video", options)


@register_model("segmented", inputs=("human",), options=SlowOnlyOptions)
def segmented(num_classes: int, *, backbone: str = "slow_r50", **options: Any) -> SlowOnly:
    """Slow-only fed the human-only clip (batch key ``human``): the paper's "Segmented"."""
    return _slow_only(backbone, num_classes, "human", options)
