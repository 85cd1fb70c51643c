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

How a trial trains is `actionbias.a2o.config.A2OTrainConfig`; how trained weights
are scored (validation reward, ``evaluate_checkpoint`` on any split) is
`actionbias.a2o.scorer.A2OScorer`. `load_trial_model` rebuilds a trial's model
from its checkpoint.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import torch

from actionbias.a2o.config import A2OTrainConfig
from actionbias.a2o.data import A2ODataModule, FrameCache, MapLoader
from actionbias.a2o.scorer import A2OEvalResult, A2OScorer, summarise
from actionbias.data import Manifest, SkipLog
from actionbias.errors import BadInputError
from actionbias.progress import quiet_lightning
from actionbias.runstate import write_record
from actionbias.train.module import ClassifierModule

log = logging.getLogger(__name__)

MODEL_NAME = "a2o"
WEIGHTS = "weights.ckpt"


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

    @property
    def detector(self) -> str | None:
        """What makes the maps (the store's detector name), None without a store."""
        if self.store is None:
            return None
        name = getattr(self.store, "detector", None)
        return str(name) if name else None

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
        write_record(trial_dir / "reward.json", reward.to_dict(), indent=2)  # the trial is done
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

    def evaluate_checkpoint(
        self,
        weights: str | Path,
        manifest: Manifest,
        objects: Sequence[str],
        out_dir: str | Path | None = None,
        name: str | None = None,
        batch_size: int | None = None,
    ) -> A2OEvalResult:
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
        return A2OEvalResult(
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
