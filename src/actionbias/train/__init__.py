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

from actionbias.lazy import lazy_exports

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

_WHERE = {
    "ClassifierModule": "actionbias.train.module",
    "ClipDataset": "actionbias.train.dataset",
    "ClipSpec": "actionbias.train.clips",
    "DataConfig": "actionbias.train.config",
    "DecodedClip": "actionbias.train.clips",
    "EpochSampler": "actionbias.train.dataset",
    "EvalResult": "actionbias.train.evaluation",
    "MaskSource": "actionbias.train.masks",
    "ModelConfig": "actionbias.train.config",
    "OptimConfig": "actionbias.train.config",
    "TrainConfig": "actionbias.train.config",
    "TrainResult": "actionbias.train.runner",
    "TrainerConfig": "actionbias.train.config",
    "VideoDataModule": "actionbias.train.datamodule",
    "collate": "actionbias.train.dataset",
    "config_from_dict": "actionbias.train.config",
    "decode_record": "actionbias.train.clips",
    "evaluate": "actionbias.train.evaluation",
    "load_classifier": "actionbias.train.evaluation",
    "load_config": "actionbias.train.config",
    "model_inputs": "actionbias.train.clips",
    "parse_overrides": "actionbias.train.config",
    "read_history": "actionbias.train.history",
    "recipe_names": "actionbias.train.config",
    "scene_backgrounds": "actionbias.train.scenes",
    "train": "actionbias.train.runner",
}


__getattr__ = lazy_exports(globals(), _WHERE)
