"""Per-epoch metrics of a run in one JSON Lines file that survives kills and resumes.

Lightning's CSV logger starts a new ``version_N`` folder per process, so a resumed
run's curves are scattered over several files. ``history.jsonl`` is the run's own
record instead: one line per finished epoch (losses, accuracies, learning rate,
global step, seconds the epoch took, clips skipped so far), rewritten atomically.
On resume, lines of epochs at or after the restored epoch are dropped first: those
epochs are trained again, so
the file never holds an epoch twice, whether the kill came before or after the
epoch's checkpoint was written. The skip log is saved alongside at every epoch.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import lightning as L
from torch import Tensor

from actionbias.data import SkipLog
from actionbias.fileio import atomic_write_text

#: Lightning metric name -> history column.
COLUMNS = {
    "train/loss_epoch": "train_loss",
    "train/acc_epoch": "train_acc",
    "val/loss": "val_loss",
    "val/acc": "val_acc",
    "train/alpha_epoch": "train_alpha",
    "val/alpha": "val_alpha",
}


def read_history(path: str | Path) -> list[dict[str, Any]]:
    """The epochs recorded so far (empty when the file does not exist)."""
    path = Path(path)
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rows.append(json.loads(line))
    return rows


def _number(value: Any) -> float | None:
    if isinstance(value, Tensor):
        value = value.detach().float().cpu().item()
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


class EpochHistory(L.Callback):
    """Append one row per training epoch to ``path``; save ``skip_log`` to ``skip_path``."""

    def __init__(self, path: str | Path, skip_log: SkipLog, skip_path: str | Path) -> None:
        self.path = Path(path)
        self.skip_log = skip_log
        self.skip_path = Path(skip_path)
        self.rows: list[dict[str, Any]] = []
        self._epoch_started = time.perf_counter()

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        start = trainer.current_epoch
        self.rows = [row for row in read_history(self.path) if row["epoch"] < start]
        if trainer.is_global_zero:
            self._write()

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._epoch_started = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        metrics = trainer.callback_metrics
        row: dict[str, Any] = {"epoch": trainer.current_epoch, "step": trainer.global_step}
        for name, column in COLUMNS.items():
            if name in metrics:
                row[column] = _number(metrics[name])
        if trainer.optimizers:
            row["lr"] = float(trainer.optimizers[0].param_groups[0]["lr"])
        row["skipped"] = self.skip_log.count
        row["seconds"] = round(time.perf_counter() - self._epoch_started, 3)
        self.rows.append(row)
        if trainer.is_global_zero:
            self._write()
            self.skip_log.save(self.skip_path)

    def _write(self) -> None:
        text = "".join(json.dumps(row, sort_keys=True) + "\n" for row in self.rows)
        atomic_write_text(self.path, text)
