"""V-JEPA 2 (transformers ``VJEPA2Model``) with an attentive probe: the A2O recogniser.

The A2O paper (section 3.3) fine-tunes V-JEPA 2 ViT-L with an attentive probe on
top and *every layer starting from the pretrained weights at every ICRL
iteration*: here that is simply a fresh `build_model("vjepa2", pretrained=...)`
per trial, with nothing frozen.

Checkpoints (Hugging Face, collection "facebook/v-jepa-2"):

* ``facebook/vjepa2-vitl-fpc64-256`` — the self-supervised ViT-L encoder (0.3 B),
  `DEFAULT_VJEPA2_ID`, what the paper fine-tunes;
* ``facebook/vjepa2-vitl-fpc16-256-ssv2`` — the same encoder shipped with an SSv2
  attentive probe (0.4 B). Only its encoder is loaded here: the probe is always
  fresh because the target classes differ.

Any id or local folder with a ``VJEPA2Config`` works (``save_pretrained`` output).

What is kept and what is not: ``VJEPA2Model`` also holds the JEPA *predictor*,
which classification never runs (``skip_predictor=True`` in transformers' own
``VJEPA2ForVideoClassification``); it is dropped so that the optimiser does not
carry ~22 M dead parameters and every parameter of the classifier gets gradient.
The probe is transformers' ``VJEPA2AttentivePooler`` (the V-JEPA 2 evaluation
probe: ``num_pooler_layers`` self-attention blocks over the patch tokens, then a
learnable query cross-attending to them) followed by dropout and a linear layer,
which is exactly ``VJEPA2ForVideoClassification``'s head.

Input: ``batch["video"]`` ``B x 3 x T x H x W`` normalised with the project's
mean/std (`actionbias.train.ClipSpec`); it is re-normalised to V-JEPA 2's
processor statistics (ImageNet mean/std) by one per-channel affine map and laid
out as ``B x T x 3 x H x W``. The 3D RoPE positions assume square frames of the
config's ``crop_size``, so other sizes are refused instead of silently mis-placed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from actionbias.errors import BadInputError
from actionbias.models.base import VideoClassifier
from actionbias.models.registry import register_model

DEFAULT_VJEPA2_ID = "facebook/vjepa2-vitl-fpc64-256"
SSV2_VJEPA2_ID = "facebook/vjepa2-vitl-fpc16-256-ssv2"

#: V-JEPA 2's video processor normalisation (ImageNet statistics).
VJEPA2_MEAN = (0.485, 0.456, 0.406)
VJEPA2_STD = (0.229, 0.224, 0.225)
PROJECT_MEAN = (0.45, 0.45, 0.45)
PROJECT_STD = (0.225, 0.225, 0.225)


@dataclass(frozen=True)
class ViTSpec:
    """The two facts `VideoClassifier` and the cost tools need about the input."""

    in_channels: int
    clip_size: tuple[int, int, int]


class VJEPA2Classifier(VideoClassifier):
    """V-JEPA 2 encoder -> attentive probe -> logits (see the module docstring)."""

    def __init__(
        self,
        num_classes: int,
        encoder: nn.Module,
        config: Any,
        dropout: float = 0.0,
        input_mean: Sequence[float] = PROJECT_MEAN,
        input_std: Sequence[float] = PROJECT_STD,
    ) -> None:
        from transformers.models.vjepa2.modeling_vjepa2 import VJEPA2AttentivePooler

        spec = ViTSpec(
            int(config.in_chans), (int(config.frames_per_clip), config.crop_size, config.crop_size)
        )
        super().__init__(num_classes, spec)  # type: ignore[arg-type]
        self.config = config
        self.encoder = encoder
        self.pooler = VJEPA2AttentivePooler(config)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(config.hidden_size, num_classes)
        init_probe(self.pooler, self.classifier, float(config.initializer_range))
        mean_in = torch.tensor(_triple(input_mean, "input_mean"))
        std_in = torch.tensor(_triple(input_std, "input_std"))
        mean_out = torch.tensor(VJEPA2_MEAN)
        std_out = torch.tensor(VJEPA2_STD)
        # x_model = (x_in * std_in + mean_in - mean_out) / std_out = x_in * scale + shift
        self.register_buffer("scale", (std_in / std_out).view(1, 3, 1, 1, 1), persistent=False)
        self.register_buffer(
            "shift", ((mean_in - mean_out) / std_out).view(1, 3, 1, 1, 1), persistent=False
        )

    def pixel_values(self, video: Tensor) -> Tensor:
        """Project-normalised ``B x 3 x T x H x W`` -> V-JEPA 2's ``B x T x 3 x H x W``."""
        size = self.config.crop_size
        if video.shape[-2:] != (size, size):
            raise ValueError(
                f"V-JEPA 2 ({size}x{size} crops) got frames of "
                f"{video.shape[-1]}x{video.shape[-2]}: set the clip's crop_size to {size}"
            )
        if video.shape[2] % int(self.config.tubelet_size):
            raise ValueError(
                f"V-JEPA 2 takes frames in tubelets of {self.config.tubelet_size}; "
                f"got {video.shape[2]} frames"
            )
        video = video * self.scale.to(video.dtype) + self.shift.to(video.dtype)
        return video.transpose(1, 2)

    def tokens(self, video: Tensor) -> Tensor:
        """Patch tokens ``B x N x hidden`` of the encoder's last layer."""
        return self.encoder(pixel_values_videos=self.pixel_values(video)).last_hidden_state

    def compute(self, inputs: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        pooled = self.pooler(self.tokens(inputs["video"]))
        return self.classifier(self.dropout(pooled)), {}


def init_probe(pooler: nn.Module, classifier: nn.Linear, std: float) -> None:
    """V-JEPA 2's probe init: truncated normal linear weights (deeper layers scaled down)."""
    for module in pooler.modules():
        if isinstance(module, nn.Linear):
            nn.init.trunc_normal_(module.weight, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    nn.init.trunc_normal_(pooler.query_tokens, std=std)
    layers = list(pooler.self_attention_layers)
    for depth, layer in enumerate(layers, 1):
        nn.init.trunc_normal_(layer.self_attn.out_proj.weight, std=std / math.sqrt(depth))
        nn.init.trunc_normal_(layer.mlp.fc2.weight, std=std / math.sqrt(depth))
    last = std / math.sqrt(len(layers) + 1)
    nn.init.trunc_normal_(pooler.cross_attention_layer.mlp.fc2.weight, std=last)
    nn.init.trunc_normal_(classifier.weight, std=std)
    nn.init.zeros_(classifier.bias)


def _triple(values: Sequence[float], name: str) -> tuple[float, float, float]:
    values = tuple(float(v) for v in values)
    if len(values) != 3:
        raise BadInputError(f"{name} needs 3 values (RGB), got {len(values)}", where=name)
    return values  # type: ignore[return-value]


def load_encoder(
    pretrained: str | Path | None,
    config: dict[str, Any] | None,
    gradient_checkpointing: bool = False,
) -> tuple[nn.Module, Any]:
    """(encoder, config): pretrained weights by id/folder, or a random one from ``config``.

    With ``pretrained``, ``config`` entries override the saved config (dropout
    rates, say); shape-changing overrides would not load and are refused by
    transformers.
    """
    from transformers import VJEPA2Config, VJEPA2Model

    overrides = dict(config or {})
    if pretrained is None:
        model = VJEPA2Model(VJEPA2Config(**overrides))
    else:
        source = str(pretrained)
        if Path(source).exists() and not (Path(source) / "config.json").is_file():
            raise BadInputError(
                "not a V-JEPA 2 model folder (no config.json; write one with save_pretrained)",
                source=source,
            )
        try:
            model = VJEPA2Model.from_pretrained(source, **overrides)
        except OSError as err:
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise BadInputError(f"cannot load V-JEPA 2 weights ({reason})", source=source) from err
    if gradient_checkpointing:
        # Recompute each layer's activations in backward: ViT-L on 16 frames of 256 px
        # otherwise needs tens of GB per clip for training.
        model.gradient_checkpointing_enable()
    encoder = model.encoder
    config_out = model.config
    del model  # the predictor goes with it
    return encoder, config_out


@register_model("vjepa2")
def vjepa2(
    num_classes: int,
    *,
    pretrained: str | Path | None = None,
    config: dict[str, Any] | None = None,
    num_pooler_layers: int | None = None,
    dropout: float = 0.0,
    input_mean: Sequence[float] = PROJECT_MEAN,
    input_std: Sequence[float] = PROJECT_STD,
    gradient_checkpointing: bool = False,
) -> VJEPA2Classifier:
    """V-JEPA 2 encoder (transformers) + fresh attentive probe; ``pretrained``: HF id or folder.

    ``config``: `VJEPA2Config` fields (the whole config for a random model, overrides
    of the saved one with ``pretrained``); ``num_pooler_layers``: self-attention
    blocks of the probe before its cross-attention query (V-JEPA 2 uses 3; 0 = a
    single learnable query cross-attending to the patch tokens).
    """
    encoder, hf_config = load_encoder(pretrained, config, gradient_checkpointing)
    if num_pooler_layers is not None:
        if num_pooler_layers < 0:
            raise BadInputError(
                f"num_pooler_layers must be >= 0, got {num_pooler_layers}",
                where="num_pooler_layers",
            )
        hf_config.num_pooler_layers = int(num_pooler_layers)
    return VJEPA2Classifier(num_classes, encoder, hf_config, dropout, input_mean, input_std)
