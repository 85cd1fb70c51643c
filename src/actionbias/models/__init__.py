"""Video classifiers for the background-bias experiments, built by name.

``build_model(name, num_classes, pretrained=None, **options)`` is the only
constructor callers need; ``list_models()`` names what exists and
``model_entry(name).required_inputs`` says which batch keys a model reads.

Every model takes one dict of tensors and returns logits (see
`actionbias.models.base` for the convention):

    model({"video": B x 3 x T x H x W, "human": ..., "mask": B x 1 x T x H x W})

Registered models (paper: "Seeing Beyond the Scene", section 4.1, appendix A.2):

* ``slow_r50`` — Slow-only R50, PySlowFast SLOW_8x8_R50 (31.7 M params with 50
  classes, 41.7 GMACs at 8x224x224); the baseline. Reads ``video``.
* ``slow_small`` / ``slow_tiny`` — the same family, fewer and narrower blocks,
  for CPU training at 8x112x112 / smoke tests at 8x64x64.
* ``segmented`` — Slow-only on the human-only clip. Reads ``human``.
* ``dual_sum`` / ``dual_stack`` — two streams (raw, human-only) fused after res3.
  Read ``video`` and ``human``.
* ``weighted_focus`` — learned alpha re-weights person vs scene features via the
  mask (Eq. 1). Reads ``video`` and ``mask``; exposes ``alpha``.
* ``vjepa2`` — V-JEPA 2 (transformers) + attentive probe, ``pretrained`` = Hugging
  Face id or folder (A2O's recogniser). Reads ``video``.
* ``a2o`` — detector likelihood maps through a 1x1 adapter into any of the
  single-stream models above (A2O paper, section 3.2-3.3). Reads ``video`` and
  ``maps``; exposes ``adapter_contribution``.

Zero-shot and chat models for audits (Hugging Face, loaded by id or path, not
in the registry because they do not train here): `ZeroShotVideoClassifier`
(CLIP, SigLIP, SigLIP 2 with the authors' prompt templates), `HFVideoClassifier`
(any ``AutoModelForVideoClassification`` checkpoint: VideoMAE, TimeSformer,
ViViT, with its own image processor) and `InternVLChat` (InternVL3
multiple-choice answers from text or option-letter log-probs).

Building blocks other packages share: `object_adapter` (A2O's 1x1
`ObjectAdapter`, used by ``a2o``) and `text_encoder` (the offline MiniLM
sentence encoder, `MiniLMEncoder`, used by ActionVLM's descriptions and A2O's
vocabulary mapping).

The mitigation models take ``backbone="slow_r50" | "slow_small" | "slow_tiny"``;
every ResNet model takes the backbone options of `BackboneOptions` (``depths``,
``width``, ``stem_kernel``, ``temporal_kernels``, ``dropout``,
``zero_init_final_bn``, ``clip_size``), declared once in
`actionbias.models.options`; the single-stream Slow-only models take
`SlowOnlyOptions`, which adds ``head_pool_kernel`` (pytorchvideo's head pooling).

``pretrained=`` reads our checkpoints, PySlowFast ``.pyth``, pytorchvideo
(``torch.hub`` ``slow_r50``) and PySlowFast Caffe2 ``.pkl`` files
(`actionbias.models.checkpoint`).
"""

from __future__ import annotations

# Importing these modules registers their models.
from actionbias.models import (  # noqa: F401
    focus,
    fusion,
    object_centric,
    slowonly,
    vjepa2,
)
from actionbias.models.backbone import BACKBONES, SlowSpec, backbone_spec, list_backbones
from actionbias.models.base import INPUT_KEYS, VideoClassifier
from actionbias.models.checkpoint import (
    LoadReport,
    actionbias_to_pyslowfast,
    actionbias_to_pytorchvideo,
    caffe2_to_pyslowfast,
    load_pretrained,
    pyslowfast_to_actionbias,
    pytorchvideo_to_actionbias,
    read_checkpoint,
)
from actionbias.models.cost import count_macs, count_parameters, example_batch
from actionbias.models.focus import WeightedFocus, resize_mask, weighted_mask
from actionbias.models.fusion import DualBranch
from actionbias.models.hf_video import HFVideoClassifier, match_labels
from actionbias.models.internvl import InternVLChat
from actionbias.models.options import BackboneOptions, SlowOnlyOptions
from actionbias.models.registry import (
    ModelEntry,
    build_model,
    list_models,
    model_entry,
    register_model,
)
from actionbias.models.slowonly import SlowOnly
from actionbias.models.zeroshot import (
    CLIP_KINETICS700_TEMPLATES,
    SIGLIP_TEMPLATES,
    ZeroShotVideoClassifier,
)

__all__ = [
    "BACKBONES",
    "CLIP_KINETICS700_TEMPLATES",
    "INPUT_KEYS",
    "SIGLIP_TEMPLATES",
    "BackboneOptions",
    "DualBranch",
    "HFVideoClassifier",
    "InternVLChat",
    "LoadReport",
    "ModelEntry",
    "SlowOnly",
    "SlowOnlyOptions",
    "SlowSpec",
    "VideoClassifier",
    "WeightedFocus",
    "ZeroShotVideoClassifier",
    "actionbias_to_pyslowfast",
    "actionbias_to_pytorchvideo",
    "backbone_spec",
    "build_model",
    "caffe2_to_pyslowfast",
    "count_macs",
    "count_parameters",
    "example_batch",
    "list_backbones",
    "list_models",
    "load_pretrained",
    "match_labels",
    "model_entry",
    "pyslowfast_to_actionbias",
    "pytorchvideo_to_actionbias",
    "read_checkpoint",
    "register_model",
    "resize_mask",
    "weighted_mask",
]
