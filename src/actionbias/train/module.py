"""The LightningModule: any registered model, cross-entropy, Adam + ReduceLROnPlateau.

Model-agnostic on purpose: the batch is a dict and the model picks the keys it
declared (`actionbias.models.base`), so the Slow-only baseline and the mitigation
models (segmented, dual-branch, weighted focus) train through the same steps. Side
outputs a model reports (``aux``, e.g. weighted focus's alpha) are logged as their
batch mean.

Everything needed to rebuild the network is in the hyperparameters (model name,
options, class list, preprocessing), so a checkpoint alone is enough for
`actionbias.train.evaluate`.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import Tensor
from torch.nn import functional as F

from actionbias.data import SkipLog, VideoRecord
from actionbias.models import build_model, model_entry
from actionbias.train.dataset import SKIPPED

CLIP_KEYS = ("video", "human")


class ClassifierModule(L.LightningModule):
    """Train/validate/predict a registered video classifier.

    ``optim`` holds `OptimConfig`'s fields; ``data`` the preprocessing fields of
    `DataConfig` (stored so evaluation preprocesses exactly like training).
    """

    def __init__(
        self,
        model_name: str,
        classes: list[str],
        model_options: dict[str, Any] | None = None,
        optim: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        channels_last: bool = False,
        max_epochs: int = 1,
        check_val_every_n_epoch: int = 1,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.classes = list(classes)
        self.model = build_model(model_name, len(self.classes), **(model_options or {}))
        self.required_inputs = tuple(model_entry(model_name).required_inputs)
        self.optim = dict(optim or {})
        self.channels_last = channels_last
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last_3d)
        self.skip_log: SkipLog | None = None  # set by the runner; not a hyperparameter

    # ------------------------------------------------------------------ batches

    def _layout(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Clips in ``channels_last_3d`` when the weights are (cuDNN's fast 3D path)."""
        if self.channels_last:
            for key in (*CLIP_KEYS, "mask"):
                value = batch.get(key)
                if isinstance(value, Tensor) and value.dim() == 5:
                    batch[key] = value.contiguous(memory_format=torch.channels_last_3d)
        return batch

    def _note_skips(self, batch: dict[str, Any]) -> bool:
        """Record skipped clips; True when the batch still has clips to use."""
        for record_id, path, reason in batch.get(SKIPPED, ()):
            if self.skip_log is not None:
                self.skip_log.add(VideoRecord(record_id, path, None, None), reason)
        return "label" in batch

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        return self.model(batch)

    def _step(self, batch: dict[str, Any], stage: str) -> Tensor | None:
        if not self._note_skips(batch):
            return None
        logits, aux = self.model(self._layout(batch), return_aux=True)
        labels = batch["label"]
        loss = F.cross_entropy(
            logits.float(), labels, label_smoothing=float(self.optim.get("label_smoothing", 0.0))
        )
        accuracy = (logits.argmax(dim=1) == labels).float().mean()
        size = int(labels.shape[0])
        train = stage == "train"
        options = {"on_step": train, "on_epoch": True, "batch_size": size, "sync_dist": True}
        self.log(f"{stage}/loss", loss, prog_bar=True, **options)
        self.log(f"{stage}/acc", accuracy, prog_bar=not train, **options)
        for name, value in aux.items():
            if isinstance(value, Tensor) and value.numel():
                self.log(f"{stage}/{name}", value.detach().float().mean(), **options)
        return loss

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor | None:
        return self._step(batch, "train")

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._step(batch, "val")

    def predict_step(self, batch: dict[str, Any], batch_idx: int) -> dict[str, Any]:
        skipped = list(batch.get(SKIPPED, ()))
        if "label" not in batch:
            return {"index": None, "logits": None, SKIPPED: skipped}
        logits = self.model(self._layout(batch))
        return {"index": batch["index"].cpu(), "logits": logits.float().cpu(), SKIPPED: skipped}

    # ---------------------------------------------------------------- optimiser

    def configure_optimizers(self) -> Any:
        o = self.optim
        name = o.get("optimizer", "adam")
        lr = float(o.get("lr", 1e-3))
        decay = float(o.get("weight_decay", 0.0))
        params = self.model.parameters()
        if name == "adam":
            optimizer: torch.optim.Optimizer = torch.optim.Adam(params, lr=lr, weight_decay=decay)
        elif name == "adamw":
            optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=decay)
        elif name == "sgd":
            optimizer = torch.optim.SGD(
                params, lr=lr, momentum=float(o.get("momentum", 0.9)), weight_decay=decay
            )
        else:
            raise ValueError(f"unknown optimizer {name!r}")
        scheduler = o.get("scheduler", "plateau")
        if scheduler == "none":
            return optimizer
        if scheduler == "cosine":
            cosine = torch.optim.lr_scheduler.CosineAnnealingLR(
                optimizer, T_max=max(1, int(self.hparams.max_epochs))
            )
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": cosine}}
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer,
            mode="min",
            factor=float(o.get("plateau_factor", 0.1)),
            patience=int(o.get("plateau_patience", 40)),
            threshold=float(o.get("plateau_threshold", 1e-2)),
            threshold_mode=o.get("plateau_threshold_mode", "rel"),
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {
                "scheduler": plateau,
                "monitor": "val/loss",
                "interval": "epoch",
                # Stepped only on epochs that validate, which are the ones with a loss.
                "frequency": int(self.hparams.check_val_every_n_epoch),
                "strict": True,
            },
        }
