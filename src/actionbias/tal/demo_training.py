"""The demo's two detectors: built from one seeded initialisation, trained by `tal.train.fit`.

The demo compares the vision-only ActionFormer with ActionVLM, so the only
difference between them must be the language branch: both detectors start
from the same weights under a seed (the language model draws from a seed of
its own, so adding it does not shift the detector's draws) and both are
trained by the library's one loop (`actionbias.tal.train.fit`, the one
`tal train` runs) with the same optimiser, schedule and data order.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import Dataset

from actionbias.tal.demo_settings import VISION, TALDemoSettings
from actionbias.tal.language.aggregation import ActionVLM
from actionbias.tal.language.inputs import CompactInputs
from actionbias.tal.language.model import CompactLanguageModel
from actionbias.tal.train import TALTrainConfig, build_detector, fit


def build_demo_model(
    kind: str, in_dim: int, num_classes: int, settings: TALDemoSettings, seed: int
) -> ActionVLM:
    """The detector (same initialisation for both kinds under a seed) in its ActionVLM wrapper.

    `kind`: ``"vision-only"`` (no language branch) or ``"actionvlm"`` (the compact
    language model, ablation ``full``).
    """
    torch.manual_seed(seed)
    detector = build_detector(in_dim, num_classes, **settings.detector_options())
    if kind == VISION:
        return ActionVLM(detector, None, "vision-only")
    torch.manual_seed(seed + 10_000)
    language = CompactLanguageModel(in_dim, num_classes, width=settings.lm_width, heads=4)
    return ActionVLM(detector, language, "full")


def train_config(settings: TALDemoSettings, seed: int) -> TALTrainConfig:
    """The demo's `TALTrainConfig`: its lr for every group (the compact language model is
    trained from scratch, not LoRA-adapted), warm-up over a tenth of the epochs, no EMA."""
    return TALTrainConfig(
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        lr=settings.lr,
        language_lr=settings.lr,
        weight_decay=settings.weight_decay,
        warmup_epochs=max(1, settings.epochs // 10),
        ema_decay=None,
        seed=seed,
    )


def train_model(
    model: ActionVLM,
    dataset: Dataset,
    settings: TALDemoSettings,
    prompt: torch.Tensor,
    seed: int,
    *,
    state_path: Path | None = None,
    stop_after: int | None = None,
) -> list[dict]:
    """Algorithm 1 (vision-only for the baseline ablation) through `tal.train.fit`; the history.

    With `state_path` the state after every epoch is saved there and a rerun
    continues after the last finished epoch (`actionbias.tal.checkpoint`), ending
    with the weights of an uninterrupted run. `stop_after`: stop after that many
    epochs in total (to be resumed later).
    """
    result = fit(
        model,
        dataset,
        train_config(settings, seed),
        language_inputs=CompactInputs(prompt),
        state_path=state_path,
        settings={"demo": settings.to_json()},
        stop_after=stop_after,
    )
    return result.history
