"""The ICRL environment of A2O: object set in, trained recogniser and its val accuracy out.

``TrainEnvironment.evaluate(objects, trial_dir)`` is one step of Algorithm 1's
environment (paper section 3.1-3.3): a *fresh* recogniser (the pretrained backbone
reloaded, so every layer starts from the pretrained weights at every iteration;
nothing frozen), the detector maps of ``objects`` through the adapter, Lightning
training on D_train for ``epochs`` through the project's `ClassifierModule`, then
overall and class-wise accuracy on D_val as the reward. ``objects == []`` trains
the plain recogniser (no adapter, no maps): the baseline row.

Determinism: the same objects, config and seed give the same weights and the same
reward on CPU (seeded init, seeded epoch order, deterministic algorithms).

Compute accounting (paper Table 9): each `Reward` carries the trial's wall time
(train + eval) and the model's inference time per clip (forward passes only,
decoding and map loading excluded), both also in ``trial_dir/reward.json``.

Evaluation on any split (test / swap / mimetic) goes through `A2OScorer`, a
scorer with ``predict_records`` that the audit runner accepts:
``evaluate_checkpoint(..., out_dir=...)`` writes a regular audit run directory
(predictions.jsonl, metrics.json) that ``actionbias report`` reads like any other
model's.

Table 10 of the paper, for configuring real runs (V-JEPA 2 ViT-L; SSv2 / MultiSports
/ K400): batch 4 / 8 / 4, lr 2e-5 / 7.6e-5 / 1e-4 full-shot (1e-4 / 7.6e-5 few-shot),
weight decay 1.4e-5 / 6.7e-6 / 1.4e-5, epochs 5 / 20 / 5 (ICRL trials: 1 epoch),
adapter depth 4 / 0 / 4 full-shot and 0 / 3 few-shot.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import lightning as L
import numpy as np
import torch

from actionbias.a2o.data import (
    A2ODataModule,
    FrameCache,
    MapClipDataset,
    MapLoader,
    make_loader,
    prepare,
)
from actionbias.data import Manifest, SkipLog, VideoRecord
from actionbias.errors import BadInputError
from actionbias.fileio import atomic_write_text
from actionbias.models.object_adapter import ADAPTER_MODES
from actionbias.train.clips import ClipSpec
from actionbias.train.dataset import SKIPPED
from actionbias.train.module import ClassifierModule

log = logging.getLogger(__name__)

MODEL_NAME = "a2o"
WEIGHTS = "weights.ckpt"
OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULERS = ("none", "cosine")

QUIET = (
    r".*does not have many workers.*",
    r".*The number of training batches .* is smaller than the logging interval.*",
    r".*isinstance\(treespec, LeafSpec\).*",
    r".*GPU available but not used.*",
    r".*You defined a `validation_step` but have no `val_dataloader`.*",
)


@contextmanager
def quiet_lightning() -> Iterator[None]:
    """Lightning's per-Trainer banners and tiny-dataset advice, silenced for one trial.

    An ICRL run builds a Trainer per trial; its "GPU available" lines and tips would
    bury the run's own progress.
    """
    loggers = [logging.getLogger(name) for name in ("lightning.pytorch", "lightning.fabric")]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        for pattern in QUIET:
            warnings.filterwarnings("ignore", message=pattern)
        for logger in loggers:
            logger.setLevel(logging.WARNING)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)


@dataclass
class A2OTrainConfig:
    """How each trial trains: recogniser, schedule, adapter, clip preprocessing, hardware.

    ``pretrained`` is the backbone's weights (a Slow-only checkpoint file, a V-JEPA 2
    Hugging Face id or folder), reloaded at the start of every trial.
    ``backbone_options`` are the backbone's own registry options (``width``,
    V-JEPA 2's ``config`` ...). ``preload`` None: keep decoded clips and maps in
    RAM when they fit in ``cache_limit_mb``.
    """

    backbone: str = "slow_tiny"
    backbone_options: dict[str, Any] = field(default_factory=dict)
    pretrained: str | None = None
    epochs: int = 1
    batch_size: int = 8
    eval_batch_size: int | None = None
    lr: float = 1e-3
    weight_decay: float = 0.0
    optimizer: str = "adamw"
    scheduler: str = "none"
    label_smoothing: float = 0.0
    gradient_clip_val: float | None = None
    adapter_depth: int = 0
    adapter_features: int = 16
    adapter_hidden: int = 64
    mode: str = "add"
    num_frames: int = 8
    sampling: str = "uniform"
    stride: int = 1
    short_side: int | None = None
    crop_size: int | None = 64
    mean: tuple[float, float, float] = (0.45, 0.45, 0.45)
    std: tuple[float, float, float] = (0.225, 0.225, 0.225)
    seed: int = 0
    precision: str = "32-true"
    accelerator: str = "cpu"
    deterministic: bool = True
    num_workers: int = 0
    preload: bool | None = None
    cache_limit_mb: float = 4096.0

    def __post_init__(self) -> None:
        def positive(name: str, value: Any) -> None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise BadInputError(
                    f"{name} must be a positive integer, got {value!r}", where=f"field {name}"
                )

        for name in ("epochs", "batch_size", "num_frames", "adapter_features", "adapter_hidden"):
            positive(name, getattr(self, name))
        if self.eval_batch_size is not None:
            positive("eval_batch_size", self.eval_batch_size)
        if self.adapter_depth < 0:
            raise BadInputError(
                f"adapter_depth must be >= 0, got {self.adapter_depth}", where="field adapter_depth"
            )
        if not self.lr > 0 or self.weight_decay < 0:
            raise BadInputError(
                f"need lr > 0 and weight_decay >= 0, got {self.lr} and {self.weight_decay}",
                where="field lr",
            )
        choices = (
            ("optimizer", OPTIMIZERS),
            ("scheduler", SCHEDULERS),
            ("mode", ADAPTER_MODES),
        )
        for name, allowed in choices:
            if getattr(self, name) not in allowed:
                raise BadInputError(
                    f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}",
                    where=f"field {name}",
                )
        self.mean = tuple(float(v) for v in self.mean)  # type: ignore[assignment]
        self.std = tuple(float(v) for v in self.std)  # type: ignore[assignment]

    def clip_spec(self) -> ClipSpec:
        return ClipSpec(
            num_frames=self.num_frames,
            sampling=self.sampling,
            stride=self.stride,
            short_side=self.short_side,
            crop_size=self.crop_size,
            mean=self.mean,
            std=self.std,
        )

    def model_options(self, num_maps: int, pretrained: bool = True) -> dict[str, Any]:
        """Registry options of the ``a2o`` model for ``num_maps`` object queries."""
        options: dict[str, Any] = {
            "backbone": self.backbone,
            "num_maps": int(num_maps),
            "adapter_depth": self.adapter_depth,
            "adapter_features": self.adapter_features,
            "adapter_hidden": self.adapter_hidden,
            "mode": self.mode,
            "backbone_options": dict(self.backbone_options),
        }
        if pretrained and self.pretrained:
            options["pretrained"] = self.pretrained
        if self.backbone == "vjepa2":
            # V-JEPA 2 re-normalises from the project's mean/std to its own: tell it which.
            options["backbone_options"].setdefault("input_mean", list(self.mean))
            options["backbone_options"].setdefault("input_std", list(self.std))
        return options

    def optim(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "scheduler": self.scheduler,
            "label_smoothing": self.label_smoothing,
        }

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["mean"], out["std"] = list(self.mean), list(self.std)
        return out


@dataclass
class Reward:
    """One trial's outcome (r_t of Algorithm 1 plus what the history and reports need)."""

    accuracy: float
    classwise: dict[str, float]
    weights: str | None
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class EvalResult:
    """Accuracy of trained weights on one split, with every clip's prediction."""

    accuracy: float
    classwise: dict[str, float]
    predictions: list[dict[str, Any]]
    skipped: int
    ms_per_clip: float
    run_dir: str | None = None
    metrics: dict[str, Any] | None = None

    @property
    def clips(self) -> int:
        return len(self.predictions)


class Environment(Protocol):
    classes: list[str]

    def evaluate(self, objects: Sequence[str], trial_dir: Path) -> Reward: ...


# --------------------------------------------------------------------------- scoring
class A2OScorer:
    """A trained model as an audit scorer: records -> class scores, maps included.

    ``predict_records`` decodes each clip with the training preprocessing, loads its
    maps for ``objects`` from the store and runs the model; `run_audit` calls it, and
    `TrainEnvironment` uses it directly. Every yielded batch is also kept in
    ``results`` (record, scores) and the time of the forward passes in
    ``forward_seconds``.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        classes: Sequence[str],
        spec: ClipSpec,
        objects: Sequence[str] = (),
        store: MapLoader | None = None,
        name: str = "a2o",
        frames: FrameCache | None = None,
        spec_info: dict[str, Any] | None = None,
    ) -> None:
        if objects and store is None:
            raise BadInputError("objects were given but no map store", where="objects")
        self.model = model
        self.classes = list(classes)
        self.class_names = self.classes
        self.spec_clip = spec
        self.objects = list(objects)
        self.store = store
        self.name = name
        self.default_frames = spec.num_frames
        self.spec = {"type": "a2o", "id": name, "objects": self.objects, **(spec_info or {})}
        self.frames = frames
        self.results: list[tuple[VideoRecord, np.ndarray]] = []
        self.forward_seconds = 0.0

    def _device(self) -> torch.device:
        return next(self.model.parameters()).device

    def predict_records(
        self, records: Sequence[VideoRecord], batch_size: int, frames: int, on_skip: Any
    ) -> Iterator[tuple[list[VideoRecord], np.ndarray]]:
        spec = self.spec_clip
        cache = self.frames
        if frames != spec.num_frames:
            spec = dataclasses.replace(spec, num_frames=int(frames))
            cache = None
        skip_log = SkipLog()
        records = list(records)
        if cache is not None:
            # In-memory path: decode (or reuse) everything, then batch.
            kept, clips = prepare(records, cache, self.store, self.objects, skip_log)
            dataset = MapClipDataset(kept, spec, self.objects, self.store, clips)
            for item in skip_log.items:
                on_skip(next(r for r in records if r.id == item.id), item.reason)
        else:
            dataset = MapClipDataset(records, spec, self.objects, self.store)
        by_id = {r.id: r for r in records}
        device = self._device()
        self.model.eval()
        for batch in make_loader(dataset, batch_size, shuffle=False):
            for record_id, _path, reason in batch.get(SKIPPED, ()):
                on_skip(by_id[record_id], reason)
            if "label" not in batch:
                continue
            inputs = {
                key: batch[key].to(device, non_blocking=True)
                for key in ("video", "maps")
                if key in batch
            }
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            started = time.perf_counter()
            with torch.inference_mode():
                logits = self.model(inputs)
            scores = logits.float().cpu().numpy()
            self.forward_seconds += time.perf_counter() - started
            chosen = [dataset.record_of(int(i)) for i in batch["index"].tolist()]
            self.results.extend(zip(chosen, scores, strict=True))
            yield chosen, scores


def summarise(
    results: Sequence[tuple[VideoRecord, np.ndarray]], classes: Sequence[str]
) -> tuple[float, dict[str, float], list[dict[str, Any]]]:
    """Overall accuracy, accuracy per class present, and one prediction row per clip."""
    rows: list[dict[str, Any]] = []
    per_class: dict[int, list[float]] = {}
    for record, scores in results:
        predicted = int(np.argmax(scores))
        correct = record.label_id is not None and predicted == record.label_id
        rows.append(
            {
                "id": record.id,
                "label": record.label,
                "label_id": record.label_id,
                "predicted": classes[predicted],
                "predicted_id": predicted,
                "correct": bool(correct),
                "scores": [float(s) for s in scores],
            }
        )
        if record.label_id is not None:
            per_class.setdefault(record.label_id, []).append(float(correct))
    labelled = [row["correct"] for row in rows if row["label_id"] is not None]
    accuracy = float(np.mean(labelled)) if labelled else float("nan")
    classwise = {
        classes[c]: float(np.mean(per_class[c])) for c in range(len(classes)) if c in per_class
    }
    return accuracy, classwise, rows


# --------------------------------------------------------------------------- training
class TrainEnvironment:
    """Trains the ``a2o`` recogniser on ``train`` with an object set and scores ``val``.

    Decoded clips are kept for the whole run (`FrameCache` per split); maps come
    from ``store`` (its disk cache makes a repeated object cheap). ``store`` may be
    None when only the plain recogniser (``objects == []``) is ever evaluated.
    """

    def __init__(
        self,
        train: Manifest,
        val: Manifest,
        store: MapLoader | None,
        config: A2OTrainConfig | None = None,
    ) -> None:
        self.config = config or A2OTrainConfig()
        if not len(train):
            raise BadInputError("the training set is empty", source=train.source or None)
        self.classes = list(train.classes)
        if list(val.classes) != self.classes:
            val = val.with_classes(self.classes)
        if not len(val):
            raise BadInputError(
                "no validation clip has a training class", source=val.source or None
            )
        self.train = train
        self.val = val
        self.store = store
        self.spec = self.config.clip_spec()
        self.frames = {"train": FrameCache(self.spec), "val": FrameCache(self.spec)}

    # ---------------------------------------------------------------- helpers
    def _check_objects(self, objects: Sequence[str]) -> list[str]:
        objects = [str(o) for o in objects]
        if objects and self.store is None:
            raise BadInputError(
                "this environment has no map store, so it can only train the plain "
                "recogniser (objects=[])",
                where="objects",
            )
        if len(set(objects)) != len(objects):
            raise BadInputError(f"duplicate object queries in {objects}", where="objects")
        return objects

    def _trainer(self, trial_dir: Path, c: A2OTrainConfig) -> L.Trainer:
        from lightning.pytorch.loggers import CSVLogger

        return L.Trainer(
            default_root_dir=str(trial_dir),
            max_epochs=c.epochs,
            accelerator=c.accelerator,
            devices=1,
            precision=c.precision,  # type: ignore[arg-type]
            # CUDA has no deterministic backward for 3-D adaptive pooling: warn there.
            deterministic=c.deterministic
            if c.accelerator == "cpu"
            else ("warn" if c.deterministic else False),
            logger=CSVLogger(str(trial_dir), name="logs"),
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            limit_val_batches=0,
            log_every_n_steps=1,
            gradient_clip_val=c.gradient_clip_val,
        )

    # ------------------------------------------------------------------- API
    def evaluate(
        self, objects: Sequence[str], trial_dir: Path, epochs: int | None = None
    ) -> Reward:
        """Train a fresh model with ``objects`` (queries) and return the val reward.

        ``epochs`` overrides the config's (Algorithm 1's final training with the best
        set runs longer than the one-epoch search trials).
        """
        objects = self._check_objects(objects)
        trial_dir = Path(trial_dir)
        trial_dir.mkdir(parents=True, exist_ok=True)
        c = self.config
        if epochs is not None:
            c = dataclasses.replace(c, epochs=epochs)  # validated by __post_init__
        started = time.perf_counter()
        L.seed_everything(c.seed, workers=True, verbose=False)
        skip_log = SkipLog()
        data = A2ODataModule(
            self.train,
            self.val,
            self.spec,
            objects,
            self.store,
            batch_size=c.batch_size,
            eval_batch_size=c.eval_batch_size,
            seed=c.seed,
            num_workers=c.num_workers,
            skip_log=skip_log,
            preload=c.preload,
            cache_limit_mb=c.cache_limit_mb,
            frames=self.frames,
        )
        train_set = data.dataset("train")
        module = ClassifierModule(
            MODEL_NAME,
            self.classes,
            model_options=c.model_options(len(objects)),
            optim=c.optim(),
            data={"objects": objects, "clip": dataclasses.asdict(self.spec), "a2o": c.to_dict()},
            max_epochs=c.epochs,
        )
        module.skip_log = skip_log
        with quiet_lightning():
            trainer = self._trainer(trial_dir, c)
            trainer.fit(module, train_dataloaders=data.train_dataloader())
        train_seconds = time.perf_counter() - started
        weights = trial_dir / WEIGHTS
        # Weights only: the optimiser state of a ViT-L is ~3.6 GB per trial and nothing
        # resumes a finished trial.
        trainer.save_checkpoint(str(weights), weights_only=True)
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
        # Lightning's teardown moves the model back to the CPU; score D_val where it trained.
        module.model.to(self._eval_device())

        # Validation clips stay decoded between trials only when they fit in memory.
        in_memory = data.fits(len(self.val))
        scorer = A2OScorer(
            module.model,
            self.classes,
            self.spec,
            objects,
            self.store,
            frames=self.frames["val"] if in_memory else None,
        )
        eval_started = time.perf_counter()
        for _ in scorer.predict_records(
            self.val.records,
            c.eval_batch_size or c.batch_size,
            self.spec.num_frames,
            lambda record, reason: skip_log.add(record, reason),
        ):
            pass
        if not scorer.results:
            raise BadInputError("every validation clip was skipped", source=self.val.source or None)
        accuracy, classwise, _rows = summarise(scorer.results, self.classes)
        seconds = time.perf_counter() - started
        extra = {
            "objects": objects,
            "epochs": c.epochs,
            "seed": c.seed,
            "backbone": c.backbone,
            "train_clips": len(train_set),
            "val_clips": len(scorer.results),
            "skipped": skip_log.count,
            "skipped_reasons": skip_log.reasons(),
            "train_accuracy": metrics.get("train/acc_epoch"),
            "train_loss": metrics.get("train/loss_epoch"),
            "adapter_contribution": metrics.get("train/adapter_contribution_epoch"),
            "train_seconds": train_seconds,
            "eval_seconds": time.perf_counter() - eval_started,
            "inference_ms_per_clip": 1000.0 * scorer.forward_seconds / len(scorer.results),
        }
        reward = Reward(accuracy, classwise, str(weights), seconds, extra)
        atomic_write_text(trial_dir / "reward.json", json.dumps(reward.to_dict(), indent=2) + "\n")
        skip_log.save(trial_dir / "skipped.json")
        return reward

    def _eval_device(self) -> torch.device:
        wants_gpu = self.config.accelerator in ("gpu", "cuda", "auto")
        return torch.device("cuda" if wants_gpu and torch.cuda.is_available() else "cpu")

    def settings(self) -> dict[str, Any]:
        """What decides this environment's rewards (a resumed ICRL run must match it)."""

        def fingerprint(manifest: Manifest) -> dict[str, Any]:
            items = sorted((r.id, r.label or "") for r in manifest.records)
            digest = hashlib.sha1(json.dumps(items).encode()).hexdigest()
            return {"source": manifest.source, "clips": len(manifest), "sha1": digest}

        return {
            "config": self.config.to_dict(),
            "store": self.store.config() if hasattr(self.store, "config") else None,
            "train": fingerprint(self.train),
            "val": fingerprint(self.val),
        }

    def load_weights(self, weights: str | Path, objects: Sequence[str]) -> torch.nn.Module:
        """The trained model of a trial (its own class list and options; no pretrained reload)."""
        return load_trial_model(weights, len(self._check_objects(objects)))

    def evaluate_checkpoint(
        self,
        weights: str | Path,
        manifest: Manifest,
        objects: Sequence[str],
        out_dir: str | Path | None = None,
        name: str | None = None,
        batch_size: int | None = None,
    ) -> EvalResult:
        """Accuracy, class-wise accuracy and per-clip predictions of trial weights on a split.

        With ``out_dir`` the predictions are written as an audit run directory through
        `actionbias.audit.run_audit` (readable by ``actionbias report``); otherwise
        nothing is written.
        """
        objects = self._check_objects(objects)
        model = load_trial_model(weights, len(objects)).to(self._eval_device())
        if list(manifest.classes) != self.classes:
            manifest = manifest.with_classes(self.classes)
        size = batch_size or self.config.eval_batch_size or self.config.batch_size
        label = name or ("a2o-" + ("+".join(objects) if objects else "plain"))
        scorer = A2OScorer(
            model,
            self.classes,
            self.spec,
            objects,
            self.store,
            name=label,
            spec_info={"weights": str(weights), "backbone": self.config.backbone},
        )
        skipped: list[str] = []
        metrics = None
        if out_dir is not None:
            from actionbias.audit import run_audit

            metrics = run_audit(
                scorer,
                manifest,
                out_dir,
                batch_size=size,
                frames=self.spec.num_frames,
                seed=self.config.seed,
                progress=False,
                name=label,
                n_boot=200,
            )
            skip_count = int(metrics.get("skipped", 0))
        else:
            for _ in scorer.predict_records(
                manifest.records,
                size,
                self.spec.num_frames,
                lambda record, reason: skipped.append(record.id),
            ):
                pass
            skip_count = len(skipped)
        accuracy, classwise, rows = summarise(scorer.results, self.classes)
        ms = 1000.0 * scorer.forward_seconds / max(1, len(scorer.results))
        return EvalResult(
            accuracy,
            classwise,
            rows,
            skip_count,
            ms,
            str(out_dir) if out_dir is not None else None,
            metrics,
        )


def _vjepa2_shape(pretrained: str, backbone_options: dict[str, Any] | None) -> dict[str, Any]:
    """Backbone options that rebuild the pretrained encoder's shape without its weights.

    The checkpoint holds every weight, but the architecture lives in the pretrained
    id's config: without it a ViT-H/g (or any non-default folder) would be rebuilt
    as the default ViT-L and fail to load. Only the config file is read.
    """
    from transformers import VJEPA2Config

    try:
        saved = VJEPA2Config.from_pretrained(str(pretrained)).to_dict()
    except OSError as err:
        raise BadInputError(
            f"cannot read the V-JEPA 2 config these weights were trained from ({err})",
            source=str(pretrained),
        ) from err
    fields = VJEPA2Config().to_dict()
    meta = {"architectures", "transformers_version", "model_type", "torch_dtype", "dtype"}
    shape = {k: v for k, v in saved.items() if k in fields and k not in meta}
    options = dict(backbone_options or {})
    options["config"] = {**shape, **dict(options.get("config") or {})}
    return options


def load_trial_model(weights: str | Path, num_maps: int | None = None) -> torch.nn.Module:
    """Rebuild a trial's model from its checkpoint (the backbone is not re-downloaded)."""
    path = Path(weights)
    if not path.is_file():
        raise BadInputError("trial weights not found", source=path)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
        hparams = checkpoint["hyper_parameters"]
        options = dict(hparams["model_options"])
    except (KeyError, TypeError, RuntimeError, OSError) as err:
        raise BadInputError(f"not an A2O trial checkpoint ({err})", source=path) from err
    pretrained = options.pop("pretrained", None)
    if pretrained is not None and options.get("backbone") == "vjepa2":
        options["backbone_options"] = _vjepa2_shape(pretrained, options.get("backbone_options"))
    if num_maps is not None and int(options.get("num_maps", 0)) != num_maps:
        raise BadInputError(
            f"these weights were trained with {options.get('num_maps')} object maps, "
            f"not {num_maps}",
            source=path,
        )
    module = ClassifierModule(
        hparams["model_name"], list(hparams["classes"]), model_options=options
    )
    module.load_state_dict(checkpoint["state_dict"])
    return module.model.eval()
