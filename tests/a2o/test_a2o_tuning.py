"""Optuna lr / weight-decay search: finds a known optimum, resumes, guards its settings."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from actionbias.a2o.environment import Reward
from actionbias.a2o.tuning import tune_optimiser
from actionbias.errors import BadInputError

pytest.importorskip("optuna")


@dataclass
class Config:
    lr: float = 1e-3
    weight_decay: float = 0.0


class PeakEnv:
    """Reward peaks at lr = 1e-3 (log scale); weight decay barely matters."""

    def __init__(self) -> None:
        self.config = Config()
        self.calls: list[tuple[float, float, Path]] = []

    def evaluate(self, objects, trial_dir):
        lr, wd = self.config.lr, self.config.weight_decay
        self.calls.append((lr, wd, Path(trial_dir)))
        accuracy = math.exp(-((math.log10(lr) + 3.0) ** 2)) - 0.01 * abs(math.log10(wd) + 5)
        return Reward(accuracy, {"a": accuracy}, None, 0.5, {})


def test_tuning_approaches_the_peak_and_resumes(tmp_path) -> None:
    env = PeakEnv()
    first = tune_optimiser(env, ["person"], tmp_path, n_trials=12, seed=0)
    assert len(env.calls) == 12 and env.config == Config()  # the caller's env is unchanged
    assert abs(math.log10(first.best_params["lr"]) + 3.0) < 0.6
    assert first.best_accuracy == max(t["accuracy"] for t in first.trials)
    assert len({c[2] for c in env.calls}) == 12  # one folder per trial
    again = tune_optimiser(env, ["person"], tmp_path, n_trials=15, seed=0)
    assert len(env.calls) == 15 and len(again.trials) == 15  # only the 3 missing trials ran
    assert (tmp_path / "tuning.json").is_file()


def test_tuning_refuses_other_settings_and_bad_ranges(tmp_path) -> None:
    tune_optimiser(PeakEnv(), ["person"], tmp_path, n_trials=1)
    with pytest.raises(BadInputError, match=r"other settings \(differs in objects\)"):
        tune_optimiser(PeakEnv(), ["ball"], tmp_path, n_trials=1)
    with pytest.raises(BadInputError, match="lr"):
        tune_optimiser(PeakEnv(), [], tmp_path / "x", lr=(1e-2, 1e-4))
