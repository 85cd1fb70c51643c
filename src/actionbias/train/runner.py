"""`train(config)`: one resumable Lightning run in a run directory.

Layout of ``run_dir``::

    config.yaml            the config of the latest start (resolved, every field)
    checkpoints/last.ckpt  written after every epoch; a rerun continues from it
    checkpoints/best-epochNNN.ckpt   best on ``trainer.monitor`` so far
    history.jsonl          one line per finished epoch (see `actionbias.train.history`)
    skipped.json           clips skipped as unreadable, with reasons
    logs/version_N/        Lightning CSV (and TensorBoard, if installed) logs
    results.json           written when the run ends: best checkpoint, history, skips

Calling `train` again with the same run directory is how a killed run resumes
(``resume: auto``); with a larger ``max_epochs`` it trains on from the last epoch,
and with the same one it returns at once. Checkpoints are written through fsspec
transactions (temporary file, then rename), so a kill never leaves a torn
``last.ckpt`` behind.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import torch
import yaml
from lightning.fabric.utilities.rank_zero import rank_zero_only
from lightning.pytorch.callbacks import ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.loggers import CSVLogger

from actionbias.data import Manifest, SkipLog
from actionbias.errors import BadInputError
from actionbias.fileio import atomic_write_text
from actionbias.models import list_backbones, load_pretrained, model_entry
from actionbias.train.config import TrainConfig
from actionbias.train.datamodule import VideoDataModule
from actionbias.train.hardware import Hardware, resolve_hardware
from actionbias.train.history import EpochHistory, read_history
from actionbias.train.manifests import open_manifest, require_labels
from actionbias.train.module import ClassifierModule

log = logging.getLogger(__name__)

LAST = "last.ckpt"
#: Preprocessing fields a checkpoint keeps so evaluation matches training.
PREPROCESSING = (
    "num_frames",
    "sampling",
    "stride",
    "short_side",
    "crop_size",
    "mean",
    "std",
    "masks",
    "mask_cache",
    "mask_backend",
    "mask_backend_options",
    "human_fill",
    "human_fill_rgb",
    "format",
    "root",
    "classes",
    "batch_size",
    "eval_batch_size",
    "num_workers",
    "worker_start",
)
#: `TrainerConfig` fields that are Lightning `Trainer` arguments of the same name, passed as
#: they are (precision and benchmark are resolved for the hardware first, see `Hardware`).
LIGHTNING_TRAINER_ARGS = (
    "max_epochs",
    "accelerator",
    "devices",
    "num_nodes",
    "strategy",
    "deterministic",
    "check_val_every_n_epoch",
    "log_every_n_steps",
    "limit_train_batches",
    "limit_val_batches",
    "gradient_clip_val",
    "accumulate_grad_batches",
)
# Lightning's advice for tiny CPU datasets and short epochs is noise here.
QUIET = (
    r".*does not have many workers.*",
    r".*The number of training batches .* is smaller than the logging interval.*",
    r".*Experiment logs directory .* exists and is not empty.*",
    r".*Checkpoint directory .* exists and is not empty.*",
    r".*isinstance\(treespec, LeafSpec\).*",  # Lightning 2.6 on torch >= 2.9
)


@dataclass
class TrainResult:
    """What a run produced; ``history`` has one dict per finished epoch."""

    run_dir: Path
    best_checkpoint: Path | None
    last_checkpoint: Path | None
    monitor: str
    best_score: float | None
    history: list[dict[str, Any]]
    skipped: dict[str, Any]
    resumed_from: Path | None
    results_path: Path
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def epochs(self) -> int:
        return len(self.history)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir),
            "best_checkpoint": str(self.best_checkpoint) if self.best_checkpoint else None,
            "last_checkpoint": str(self.last_checkpoint) if self.last_checkpoint else None,
            "monitor": self.monitor,
            "best_score": self.best_score,
            "epochs": self.epochs,
            "history": self.history,
            "skipped": self.skipped,
            "resumed_from": str(self.resumed_from) if self.resumed_from else None,
            **self.extras,
        }


def model_options(config: TrainConfig) -> dict[str, Any]:
    """The registry options for ``config.model`` (``backbone`` folded in where it applies)."""
    name = config.model.name
    entry = model_entry(name)
    options = dict(config.model.options)
    backbone = config.model.backbone
    if backbone is not None:
        if "backbone" in entry.options():
            options.setdefault("backbone", backbone)
        elif name in list_backbones() and backbone != name:
            raise BadInputError(
                f"model {name!r} is itself the {name} backbone; set model.name={backbone} "
                f"for a Slow-only {backbone}, or drop model.backbone",
                where="field model.backbone",
            )
    return options


def resolve_resume(config: TrainConfig, run_dir: Path) -> Path | None:
    last = run_dir / "checkpoints" / LAST
    if config.resume == "never":
        if last.exists():
            raise BadInputError(
                "the run directory already has checkpoints; use resume: auto to continue "
                "it or choose another run_dir",
                source=run_dir,
                where="field resume",
            )
        return None
    if config.resume == "always" and not last.is_file():
        raise BadInputError(f"nothing to resume: no {LAST}", source=run_dir, where="field resume")
    return last if last.is_file() else None


def open_training_data(config: TrainConfig) -> tuple[Manifest, Manifest]:
    data = config.data
    if not data.train:
        raise BadInputError("no training data given", where="field data.train")
    if not data.val:
        raise BadInputError(
            "no validation data given (the LR schedule and best checkpoint use it)",
            where="field data.val",
        )
    common = {"format": data.format, "root": data.root, "classes": data.classes}
    train = open_manifest(
        data.train, data.train_split, default_split="train", field="data.train", **common
    )
    val = open_manifest(data.val, data.val_split, default_split="val", field="data.val", **common)
    require_labels(train, data.train)
    require_labels(val, data.val)
    if val.classes != train.classes:
        before = len(val)
        val = val.with_classes(train.classes)
        if len(val) < before:
            log.warning(
                "%s: %d validation clips have labels outside the training classes; left out",
                data.val,
                before - len(val),
            )
        if len(val) == 0:
            raise BadInputError(
                "no validation clip has a training class", source=data.val, where="field data.val"
            )
    return train, val


def _loggers(run_dir: Path) -> list[Any]:
    loggers: list[Any] = [CSVLogger(str(run_dir), name="logs")]
    try:
        from lightning.pytorch.loggers import TensorBoardLogger

        loggers.append(TensorBoardLogger(str(run_dir), name="logs"))
    except (ImportError, ModuleNotFoundError):
        pass
    return loggers


def _checkpoint_callback(config: TrainConfig, run_dir: Path) -> ModelCheckpoint:
    monitor = config.trainer.monitor
    return ModelCheckpoint(
        dirpath=str(run_dir / "checkpoints"),
        filename="best-epoch{epoch:03d}",
        auto_insert_metric_name=False,
        monitor=monitor,
        mode="min" if monitor.endswith("loss") else "max",
        save_top_k=1,
        save_last=True,
        every_n_epochs=1,
        # Saved at the end of the training epoch, after the history line is written,
        # so a checkpoint never covers an epoch the history lacks.
        save_on_train_epoch_end=True,
    )


def _make_trainer(
    config: TrainConfig, hw: Hardware, callbacks: list[Any], run_dir: Path
) -> L.Trainer:
    t = config.trainer
    if t.progress:
        callbacks = [*callbacks, TQDMProgressBar(refresh_rate=max(1, t.log_every_n_steps // 2))]
    return L.Trainer(
        default_root_dir=str(run_dir),
        **{name: getattr(t, name) for name in LIGHTNING_TRAINER_ARGS},
        precision=hw.precision,  # type: ignore[arg-type]
        benchmark=hw.benchmark,
        callbacks=callbacks,
        logger=_loggers(run_dir),
        enable_progress_bar=t.progress,
        enable_model_summary=t.progress,
        num_sanity_val_steps=0,
    )


def _write_config(config: TrainConfig, run_dir: Path, resuming: bool) -> None:
    path = run_dir / "config.yaml"
    if resuming and path.is_file():
        previous = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        now = config.to_dict()
        changed = [
            f"{section}.{key}"
            for section in ("data", "model", "optim")
            for key in now[section]
            if previous.get(section, {}).get(key) != now[section][key]
        ]
        if changed:
            log.warning("resuming %s with changed settings: %s", run_dir, ", ".join(changed))
    atomic_write_text(path, config.to_yaml())


def train(config: TrainConfig) -> TrainResult:
    """Train ``config.model`` on ``config.data`` (see the module docstring for the run dir).

    Broken clips are skipped and counted (``TrainResult.skipped``, ``skipped.json``);
    bad configuration or data raise `BadInputError` before any training starts.
    """
    if not config.run_dir:
        raise BadInputError("no run directory given", where="field run_dir")
    run_dir = Path(config.run_dir).resolve()
    resume_from = resolve_resume(config, run_dir)
    L.seed_everything(config.seed, workers=True, verbose=False)

    train_manifest, val_manifest = open_training_data(config)
    options = model_options(config)
    needs = model_entry(config.model.name).required_inputs
    t = config.trainer
    hw = resolve_hardware(t.accelerator, t.precision, t.channels_last, t.benchmark, t.deterministic)

    skip_path = run_dir / "skipped.json"
    skip_log = (
        SkipLog.load(skip_path) if resume_from is not None and skip_path.is_file() else SkipLog()
    )
    datamodule = VideoDataModule(
        config.data,
        needs,
        train_manifest,
        val_manifest,
        skip_log,
        seed=config.seed,
        pin_memory=hw.cuda,
    )
    data_dict = config.to_dict()["data"]
    module = ClassifierModule(
        config.model.name,
        list(train_manifest.classes),
        model_options=options,
        optim=config.to_dict()["optim"],
        data={key: data_dict[key] for key in PREPROCESSING},
        channels_last=hw.channels_last,
        max_epochs=t.max_epochs,
        check_val_every_n_epoch=t.check_val_every_n_epoch,
    )
    if config.model.pretrained and resume_from is None:
        report = load_pretrained(module.model, config.model.pretrained)
        log.info("initial weights from %s: %s", config.model.pretrained, report.summary())
    module.skip_log = skip_log

    run_dir.mkdir(parents=True, exist_ok=True)
    if rank_zero_only.rank == 0:
        _write_config(config, run_dir, resume_from is not None)
    checkpoint = _checkpoint_callback(config, run_dir)
    history = EpochHistory(run_dir / "history.jsonl", skip_log, skip_path)
    trainer = _make_trainer(config, hw, [history, checkpoint], run_dir)

    if resume_from is not None:
        log.info("resuming %s from %s", run_dir, resume_from)
    started = time.perf_counter()
    with warnings.catch_warnings():
        for pattern in QUIET:
            warnings.filterwarnings("ignore", message=pattern)
        trainer.fit(
            module,
            datamodule=datamodule,
            ckpt_path=str(resume_from) if resume_from is not None else None,
        )
    seconds = time.perf_counter() - started

    # Restored from last.ckpt on resume, so set even when no epoch was left to train.
    best = Path(checkpoint.best_model_path) if checkpoint.best_model_path else None
    last = run_dir / "checkpoints" / LAST
    best_score = checkpoint.best_model_score
    result = TrainResult(
        run_dir=run_dir,
        best_checkpoint=best,
        last_checkpoint=last if last.is_file() else None,
        monitor=t.monitor,
        best_score=float(best_score) if best_score is not None else None,
        history=read_history(run_dir / "history.jsonl"),
        skipped=skip_log.to_dict(),
        resumed_from=resume_from,
        results_path=run_dir / "results.json",
        extras={
            "model": config.model.name,
            "model_options": options,
            "classes": list(train_manifest.classes),
            "train_clips": len(train_manifest),
            "val_clips": len(val_manifest),
            "train_items_per_epoch": len(datamodule.train_set) if datamodule.train_set else 0,
            "scene_swap": config.data.scene_swap,
            "precision": hw.precision,
            "channels_last": hw.channels_last,
            "seconds_this_call": round(seconds, 2),
            "lightning": L.__version__,
            "torch": torch.__version__,
        },
    )
    if trainer.is_global_zero:
        skip_log.save(skip_path)
        atomic_write_text(result.results_path, json.dumps(result.to_dict(), indent=2) + "\n")
    return result
