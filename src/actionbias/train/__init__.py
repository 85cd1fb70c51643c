"""Training and evaluation of the registered video classifiers with Lightning.

``train(load_config("synthact", ["data.train=runs/synthact", "data.val=runs/synthact",
"run_dir=runs/train/slow", "model.name=dual_sum"]))`` trains one model; a second call
with the same ``run_dir`` resumes it. ``evaluate(best_checkpoint, "runs/synthact",
"preds.jsonl")`` writes per-video predictions that `actionbias.audit.read_predictions`
and `summarize` read (accuracy, SHAcc, SBErr with intervals).

Recipes: ``paper`` (appendix A.3 of "Seeing Beyond the Scene": Slow-only R50, Adam
1e-3, ReduceLROnPlateau on validation loss with patience 40 and threshold 1e-2, batch
20, 300 epochs, 8 uniformly sampled frames, short side 256, centre crop 224) and
``synthact`` (the same recipe shape for CPU: slow_tiny, 8x64x64, clips kept in memory).

Inputs follow `actionbias.models`: ``video``, ``human`` (background zeroed, or a fill
colour) and ``mask``, built only when the model reads them; masks come from
SynthAct's exact masks, HAT ``seg/`` folders or the segment package's cache.
``data.scene_swap`` doubles the training set with every clip's person pasted on a
random scene (paper, Table 3).
"""

from __future__ import annotations

from actionbias.train.clips import ClipSpec, DecodedClip, decode_record, model_inputs
from actionbias.train.config import (
    DataConfig,
    ModelConfig,
    OptimConfig,
    TrainConfig,
    TrainerConfig,
    config_from_dict,
    load_config,
    parse_overrides,
    recipe_names,
)
from actionbias.train.datamodule import VideoDataModule
from actionbias.train.dataset import ClipDataset, EpochSampler, collate
from actionbias.train.evaluation import EvalResult, evaluate, load_classifier
from actionbias.train.history import read_history
from actionbias.train.masks import MaskSource
from actionbias.train.module import ClassifierModule
from actionbias.train.runner import TrainResult, train
from actionbias.train.scenes import scene_backgrounds

__all__ = [
    "ClassifierModule",
    "ClipDataset",
    "ClipSpec",
    "DataConfig",
    "DecodedClip",
    "EpochSampler",
    "EvalResult",
    "MaskSource",
    "ModelConfig",
    "OptimConfig",
    "TrainConfig",
    "TrainResult",
    "TrainerConfig",
    "VideoDataModule",
    "collate",
    "config_from_dict",
    "decode_record",
    "evaluate",
    "load_classifier",
    "load_config",
    "model_inputs",
    "parse_overrides",
    "read_history",
    "recipe_names",
    "scene_backgrounds",
    "train",
]
