"""A fixed-budget, in-memory classifier fit: the measuring stick of the benchmark card.

The card (`actionbias.synth.card`) asks "what can a small video model learn from
this view of the data at this budget?" several times over (scene only, human
only, RGB without the shortcut, RGB with it). Answering through the full
Lightning stack would decode every view from disk; here the clips are already
rendered arrays, so one plain loop over a tensor is both faster and simpler.
It follows the `demo` recipe's choices (slow_tiny, 8 frames of 48x48, Adam with
cosine decay, batch 16, the best epoch on the validation clips), so its figures
track what `actionbias demo` trains; it is a probe, not a replacement for
`actionbias train`.

Determinism: one torch thread (faster for models this small on a busy machine,
and no BLAS reduction order left to chance), a seeded generator for the weights
and a seeded NumPy generator for the batch order.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

MEAN = 0.45
STD = 0.225


@dataclass(frozen=True)
class FitBudget:
    """How much training a probe gets; the defaults are the demo recipe's."""

    model: str = "slow_tiny"
    epochs: int = 14
    batch_size: int = 16
    lr: float = 1e-2
    seed: int = 0

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one intra-op thread inside the block, then restore the count."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def to_tensor(clips: np.ndarray) -> torch.Tensor:
    """uint8 N x T x H x W x 3 -> normalised float N x 3 x T x H x W."""
    x = torch.from_numpy(np.ascontiguousarray(clips)).permute(0, 4, 1, 2, 3).float()
    return x.div_(255.0).sub_(MEAN).div_(STD)


def predict(model: nn.Module, clips: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Class scores (N x K, float32) of `clips` under `model` in eval mode."""
    model.eval()
    out = []
    with torch.no_grad(), one_thread():
        for start in range(0, len(clips), batch_size):
            batch = to_tensor(clips[start : start + batch_size])
            out.append(model({"video": batch}).float().numpy())
    if not out:
        return np.zeros((0, 0), np.float32)
    return np.concatenate(out)


def fit(
    train_x: np.ndarray,
    train_y: np.ndarray,
    val_x: np.ndarray,
    val_y: np.ndarray,
    num_classes: int,
    budget: FitBudget = FitBudget(),
    on_epoch: Callable[[int, float], None] | None = None,
) -> tuple[nn.Module, list[float]]:
    """Train a fresh registry model; return the best-validation weights and val accuracy per epoch.

    `on_epoch(epoch, val_accuracy)` is called after every epoch (a progress bar or a
    learning curve). Ties keep the earlier epoch, as Lightning's checkpoint does.
    """
    from actionbias.models import build_model

    if len(train_x) != len(train_y) or len(val_x) != len(val_y):
        raise ValueError("clips and labels differ in length")
    if len(train_x) == 0:
        raise ValueError("no training clips")
    torch.manual_seed(budget.seed)
    rng = np.random.default_rng(budget.seed)
    with one_thread():
        model = build_model(budget.model, num_classes)
        optimiser = torch.optim.Adam(model.parameters(), lr=budget.lr)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=budget.epochs)
        labels = torch.from_numpy(np.asarray(train_y, np.int64))
        best, best_acc, curve = copy.deepcopy(model.state_dict()), -1.0, []
        for epoch in range(budget.epochs):
            model.train()
            order = rng.permutation(len(train_x))
            for start in range(0, len(order), budget.batch_size):
                idx = np.sort(order[start : start + budget.batch_size])
                if len(idx) < 2:  # batch norm needs two clips
                    continue
                logits = model({"video": to_tensor(train_x[idx])})
                loss = nn.functional.cross_entropy(logits, labels[idx])
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
            schedule.step()
            acc = accuracy(predict(model, val_x), val_y) if len(val_x) else 0.0
            curve.append(acc)
            if acc > best_acc:
                best_acc, best = acc, copy.deepcopy(model.state_dict())
            if on_epoch is not None:
                on_epoch(epoch, acc)
        model.load_state_dict(best)
    model.eval()
    return model, curve


def accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    if len(labels) == 0:
        return float("nan")
    return float(np.mean(np.argmax(scores, axis=1) == np.asarray(labels)))
