"""Optuna search over learning rate and weight decay for one object set (paper Sec. 4.3, B.1).

The paper tunes the solver's learning rate and weight decay with Optuna for each
method and dataset, and compares search cost in Table 9 ({LR, WD} for the plain
V-JEPA 2 vs {LR, WD} + ICRL for A2O). `tune_optimiser` does the {LR, WD} part
for any environment: each Optuna trial is one `evaluate` with the sampled values
(same reward split as ICRL), so the plain recogniser (``objects=[]``) and an
object set are tuned the same way.

Resumable: the study lives in ``OUT/optuna.db`` (SQLite) and every trial's
training in ``OUT/trials/NNN``; a rerun only runs the trials still missing, and a
trial that was interrupted mid-training is marked failed by Optuna and redone as
a new one. TPE with a fixed seed makes the proposals reproducible for a given
history. Log-uniform ranges, as is usual for both parameters.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actionbias.errors import BadInputError
from actionbias.fileio import atomic_write_json
from actionbias.runstate import differences, refuse_other_settings

log = logging.getLogger(__name__)

STUDY = "a2o-lr-wd"


@dataclass
class TuneResult:
    best_params: dict[str, float]
    best_accuracy: float
    trials: list[dict[str, Any]]
    seconds: float
    out_dir: Path


def _check_range(name: str, bounds: Sequence[float]) -> tuple[float, float]:
    low, high = (float(b) for b in bounds)
    if not 0 < low < high:
        raise BadInputError(f"need 0 < low < high, got {low}, {high}", where=name)
    return low, high


def tune_optimiser(
    env: Any,
    objects: Sequence[str],
    out_dir: str | Path,
    n_trials: int = 20,
    lr: Sequence[float] = (1e-5, 1e-2),
    weight_decay: Sequence[float] = (1e-7, 1e-3),
    seed: int = 0,
) -> TuneResult:
    """Maximise ``env.evaluate(objects, ...)``'s reward over lr and weight decay.

    ``env`` is a `TrainEnvironment` (anything with a dataclass ``config`` holding
    ``lr`` and ``weight_decay`` and an ``evaluate(objects, trial_dir)``); it is not
    changed: each trial evaluates a shallow copy with its own config.
    """
    try:
        import optuna
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("tuning needs optuna: pip install 'actionbias[tune]'") from err
    if n_trials < 1:
        raise BadInputError(f"must be >= 1, got {n_trials}", where="n_trials")
    lr_range = _check_range("lr", lr)
    wd_range = _check_range("weight_decay", weight_decay)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=STUDY,
        storage=f"sqlite:///{(out / 'optuna.db').resolve()}",
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        load_if_exists=True,
    )
    settings = {"objects": list(objects), "lr": list(lr_range), "weight_decay": list(wd_range)}
    stored = study.user_attrs.get("settings")
    if stored is None:
        study.set_user_attr("settings", settings)
    else:
        refuse_other_settings(
            differences(stored, settings),
            holds="an Optuna study",
            remedy="use another folder",
            source=out,
        )

    def objective(trial: Any) -> float:
        config = dataclasses.replace(
            env.config,
            lr=trial.suggest_float("lr", *lr_range, log=True),
            weight_decay=trial.suggest_float("weight_decay", *wd_range, log=True),
        )
        trial_env = copy.copy(env)
        trial_env.config = config
        reward = trial_env.evaluate(list(objects), out / "trials" / f"{trial.number:03d}")
        trial.set_user_attr("classwise", dict(reward.classwise))
        trial.set_user_attr("seconds", float(reward.seconds))
        return float(reward.accuracy)

    started = time.perf_counter()
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    missing = n_trials - len(done)
    if missing > 0:
        study.optimize(objective, n_trials=missing)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    trials = [
        {
            "number": t.number,
            "params": dict(t.params),
            "accuracy": t.value,
            "seconds": t.user_attrs.get("seconds"),
        }
        for t in complete
    ]
    best = study.best_trial
    result = TuneResult(
        dict(best.params), float(best.value), trials, time.perf_counter() - started, out
    )
    summary = {
        "best_params": result.best_params,
        "best_accuracy": result.best_accuracy,
        "trials": trials,
        "search_seconds": sum(t["seconds"] or 0.0 for t in trials),
        **settings,
    }
    atomic_write_json(out / "tuning.json", summary, indent=1)
    return result
