"""`run_icrl`: Algorithm 1 of the A2O paper, resumable, with its run folder.

Layout of a run folder::

    RUN/
      config.json         policy, task, T, C_max, environment settings, injected history
      history.jsonl       one Trial per line (injected history first), appended per iteration
      trials/NN/          what the environment writes for iteration NN (weights, logs)
      final/              the final full training with the best set (when asked for)
      final.json          its reward (on the selection split, like every trial's)
      test/               the final model audited on the held-out test split (audit run dir)
      test.json           that figure: split, clips, accuracy, which weights
      summary.json        best set and accuracy, accuracy per iteration, search seconds,
                          the selection split and the test figure

The loop is the paper's: s_t is the history of previous trials, a_t comes from
the policy, is truncated to C_max, evaluated by the environment (train on
D_train, accuracy on D_val), appended to the history; the best trial is the
first with the highest accuracy (strictly greater replaces, so the first wins
ties), and its weights are kept.

What the paper leaves open, decided here:

- Failures. An environment that rejects the set (`BadInputError`) or a policy
  that cannot produce one (`PolicyError`) makes a failed trial: recorded with
  its reason and reward -inf, shown to the policy, never best; the loop goes
  on. If every trial failed, `ICRLError` is raised at the end. A service
  outage (`PolicyUnavailable`) stops the loop without recording a trial, so a
  rerun redoes that iteration. Anything else (a bug, Ctrl-C) propagates.
- Resume. history.jsonl gets one line per finished iteration, written in one
  call and fsynced; a kill leaves at most a truncated last line, which is
  dropped. A rerun with the same settings continues after the last recorded
  iteration with the same history (an LLM policy's earlier calls come from
  its disk cache). Different settings are refused, naming the keys, unless
  `force` (which deletes the old results). `iterations` may grow on a rerun.
- Injected history (the OOD-history baseline): trials of another run, shown to
  the policy before this run's own trials, never selectable as best.
- The reported figure. The reward split (D_val) selects the object set, so its
  accuracy for the best set is biased upward (the maximum of T noisy figures).
  As in the paper ("the test split is never used during optimization"), the
  final model -- the final training when `final_epochs` is given, else W_best
  -- is scored once on a `test` split that neither the search nor the
  selection saw; a test split sharing a clip with D_train or D_val is refused.
  `summary.json` names both splits (``selection``, ``test``).

The history file is `actionbias.a2o.history`, the held-out figure
`actionbias.a2o.held_out`; the settings guard and the stage records (final.json,
test.json) are `actionbias.runstate`'s.
"""

from __future__ import annotations

import inspect
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from actionbias import __version__
from actionbias.a2o.held_out import (
    TEST,
    TEST_AUDIT,
    check_test_split,
    evaluate_on_test,
    manifest_fingerprint,
    selection_split,
)
from actionbias.a2o.history import HISTORY, history_digest, load_injected_history, read_history
from actionbias.a2o.policy_base import (
    FAILED,
    INJECTED,
    OK,
    RUN,
    Policy,
    PolicyError,
    PolicyUnavailable,
    Trial,
)
from actionbias.a2o.task import PAPER_DETECTOR, TaskDescription
from actionbias.errors import ActionBiasError, BadInputError
from actionbias.fileio import append_jsonl, atomic_write_json
from actionbias.progress import progress_bar
from actionbias.runstate import (
    StateFile,
    check_settings,
    clear_outputs,
    finished_record,
    write_record,
)

log = logging.getLogger(__name__)

CONFIG = "config.json"
SUMMARY = "summary.json"
FINAL = "final.json"
TRIALS = "trials"
RESUMABLE_KEYS = ("iterations", "created", "actionbias_version")


class ICRLError(ActionBiasError):
    """The loop produced no usable trial (every iteration failed)."""


class RewardLike(Protocol):
    accuracy: float
    classwise: dict[str, float]
    weights: str | None
    seconds: float
    extra: dict


class Environment(Protocol):
    """What the loop needs: train with an object set, return the validation reward."""

    classes: list[str]

    def evaluate(self, objects: Sequence[str], trial_dir: Path) -> RewardLike: ...


@dataclass
class ICRLResult:
    """The outcome of Algorithm 1: a_best (with W_best) and every trial."""

    best: Trial
    trials: list[Trial]
    history_path: Path
    run_dir: Path
    injected: list[Trial] = field(default_factory=list)
    final: dict[str, Any] | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    #: The final model on the held-out test split (`run_icrl`'s ``test``), else None.
    test: dict[str, Any] | None = None

    @property
    def best_objects(self) -> list[str]:
        return list(self.best.objects)


def environment_settings(env: Any) -> dict[str, Any]:
    """What identifies an environment in config.json.

    ``env.settings()`` when the environment has it, else its ``config``
    (dataclass or mapping), else its type name only.
    """
    settings = getattr(env, "settings", None)
    if callable(settings):
        return {"type": type(env).__qualname__, **dict(settings())}
    config = getattr(env, "config", None)
    if is_dataclass(config) and not isinstance(config, type):
        return {"type": type(env).__qualname__, **asdict(config)}
    if isinstance(config, Mapping):
        return {"type": type(env).__qualname__, **dict(config)}
    return {"type": type(env).__qualname__}


def policy_settings(policy: Any) -> dict[str, Any]:
    spec = getattr(policy, "spec", None)
    if isinstance(spec, Mapping):
        return dict(spec)
    return {"kind": getattr(policy, "kind", "?"), "name": getattr(policy, "name", "?")}


def _summary(
    policy: Any,
    task: TaskDescription,
    trials: Sequence[Trial],
    best: Trial | None,
    iterations: int,
    final: dict[str, Any] | None,
    selection: dict[str, Any] | None = None,
    test: dict[str, Any] | None = None,
) -> dict[str, Any]:
    spec = policy_settings(policy)
    label = spec.get("label") or ("LLM policy" if spec.get("kind") == "llm" else spec.get("kind"))
    return {
        "kind": "a2o-icrl",
        "dataset": task.dataset,
        "policy": {"kind": spec.get("kind"), "name": spec.get("name"), "label": label},
        "iterations": iterations,
        "completed": len(trials),
        "failed": sum(1 for t in trials if not t.ok),
        "best": None
        if best is None
        else {
            "iteration": best.iteration,
            "objects": list(best.objects),
            "accuracy": best.accuracy,
            "classwise": dict(best.classwise),
            "weights": best.weights,
        },
        "accuracy_per_iteration": [t.accuracy if t.ok else None for t in trials],
        "objects_per_iteration": [list(t.objects) for t in trials],
        "search_seconds": sum(
            t.seconds + float(t.extra.get("policy_seconds", 0.0)) for t in trials
        ),
        "final": final,
        # Which split chose the set (every "accuracy" above is on it) and the held-out figure.
        "selection": selection,
        "test": test,
    }


def _check_reward(reward: Any) -> tuple[float, dict[str, float]]:
    accuracy = float(reward.accuracy)
    if not (math.isfinite(accuracy) and 0.0 <= accuracy <= 1.0):
        raise BadInputError(f"the environment returned accuracy {accuracy!r} (not in [0, 1])")
    classwise = {str(k): float(v) for k, v in dict(reward.classwise).items()}
    return accuracy, classwise


def _open_run(run_dir: Path, config: dict[str, Any], force: bool) -> None:
    """The settings guard of the run folder; `force` discards a run with other settings."""
    state = StateFile(run_dir / CONFIG, indent=1)
    outputs = (HISTORY, SUMMARY, FINAL, TEST, TRIALS, "final", TEST_AUDIT)
    check_settings(
        state,
        config,
        key=None,
        ignore=RESUMABLE_KEYS,
        holds="an ICRL run",
        remedy="use another directory or force=True to discard it",
        limit=8,
        source=run_dir,
        discard=(lambda: clear_outputs(run_dir, outputs)) if force else None,
    )
    state.write(config)


def _accepts_epochs(env: Any) -> bool:
    try:
        params = inspect.signature(env.evaluate).parameters
    except (TypeError, ValueError):
        return False
    return "epochs" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def run_icrl(
    policy: Policy,
    env: Environment,
    task: TaskDescription,
    run_dir: str | Path,
    iterations: int = 5,
    max_objects: int | None = None,
    initial_history: Sequence[Trial] = (),
    final_epochs: int | None = None,
    *,
    test: Any = None,
    force: bool = False,
    progress: bool = False,
) -> ICRLResult:
    """Algorithm 1: T iterations of propose -> truncate -> train/evaluate -> record.

    `max_objects` (C_max) defaults to the task's and, when given, replaces it
    (so the prompt states the limit that is applied). `initial_history`: trials
    of another run shown to the policy first (see `load_injected_history`).
    `final_epochs`: after the search, train once more with the best set for
    that many epochs through ``env.evaluate(objects, RUN/"final", epochs=N)``.
    `test`: a held-out split (a `Manifest`) on which the final model is scored
    once after the search through ``env.evaluate_checkpoint`` (see the module
    docstring); None reports only the selection split's figures.
    `progress` shows a progress bar (`actionbias.progress`).

    The prompt names the detector that really makes the maps: when the task
    still names the paper's ("Grounded SAM2", the default) and the environment
    says what its maps come from (``env.detector``, e.g. "OWLv2"), the
    environment's name replaces it. A name the caller chose is kept.
    """
    if iterations < 1:
        raise BadInputError(f"must be >= 1, got {iterations}", where="iterations")
    if max_objects is not None:
        if max_objects < 1:
            raise BadInputError(f"must be >= 1, got {max_objects}", where="max_objects")
        task = replace(task, max_objects=int(max_objects))
    cap = task.max_objects
    task = name_detector(task, env)
    if final_epochs is not None:
        if final_epochs < 1:
            raise BadInputError(f"must be >= 1, got {final_epochs}", where="final_epochs")
        if not _accepts_epochs(env):
            raise BadInputError(
                f"{type(env).__name__}.evaluate takes no 'epochs': no final training possible",
                where="final_epochs",
            )
    if test is not None:
        check_test_split(env, test)
    injected = [replace(t, source=INJECTED) for t in initial_history]
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "kind": "a2o-icrl",
        "actionbias_version": __version__,
        "policy": policy_settings(policy),
        "task": task.to_dict(),
        "iterations": int(iterations),
        "max_objects": cap,
        "environment": environment_settings(env),
        "initial_history": {"trials": len(injected), "digest": history_digest(injected)},
        "final_epochs": final_epochs,
    }
    _open_run(run_dir, config, force)

    history_path = run_dir / HISTORY
    stored = read_history(history_path) if history_path.is_file() else []
    if not stored and injected:
        append_jsonl(history_path, [t.to_json() for t in injected])
    else:
        injected = [t for t in stored if t.source == INJECTED]
    own: dict[int, Trial] = {}
    for trial in stored:
        if trial.source == RUN:
            own[trial.iteration] = trial  # a later line for the same iteration wins
    trials = [own[k] for k in sorted(own) if k <= iterations]  # a shorter rerun ignores the rest
    first = max(own, default=0) + 1
    if trials:
        log.info("resuming %s at iteration %d (%d trials recorded)", run_dir, first, len(trials))

    best: Trial | None = None
    for trial in trials:
        if trial.selectable and (best is None or trial.accuracy > best.accuracy):
            best = trial

    name = str(policy_settings(policy).get("name", "icrl"))
    with progress_bar(progress, "ICRL", eta=False) as display:
        bar = display.task(name, total=iterations, completed=first - 1)
        for t in range(first, iterations + 1):
            history = [*injected, *trials]  # s_t = H_{t-1}
            trial = _one_iteration(policy, env, task, history, t, cap, run_dir)
            append_jsonl(history_path, [trial.to_json()])
            trials.append(trial)
            if trial.selectable and (best is None or trial.accuracy > best.accuracy):
                best = trial
            bar.advance()
            bar.describe(f"{name} ({_last_and_best(trial, best)})")

    selection = selection_split(env)
    summary = _summary(policy, task, trials, best, iterations, None, selection)
    atomic_write_json(run_dir / SUMMARY, summary, indent=1)
    if best is None:
        reasons = "; ".join(f"{t.iteration}: {t.error}" for t in trials[:3])
        raise ICRLError(f"{run_dir}: all {len(trials)} trials failed ({reasons})")

    final = None
    if final_epochs is not None:
        final = _final_training(env, best, run_dir, final_epochs)
    held_out = None
    if test is not None:
        held_out = evaluate_on_test(env, best, final, test, run_dir, selection)
    if final is not None or held_out is not None:
        summary = _summary(policy, task, trials, best, iterations, final, selection, held_out)
        atomic_write_json(run_dir / SUMMARY, summary, indent=1)
    return ICRLResult(best, trials, history_path, run_dir, injected, final, summary, held_out)


def name_detector(task: TaskDescription, env: Any) -> TaskDescription:
    """``task`` with the environment's detector name in place of the paper's default.

    Listing 2 tells the LLM which detector will look for its words; saying
    "Grounded SAM2" while OWLv2 boxes (or the SynthAct oracle) make the maps
    would misinform the policy. Only the default name is replaced.
    """
    real = getattr(env, "detector", None)
    if isinstance(real, str) and real.strip() and task.detector == PAPER_DETECTOR:
        if real != task.detector:
            log.info("the prompt names the maps' detector %r, not %r", real, PAPER_DETECTOR)
        return replace(task, detector=real)
    return task


def _one_iteration(
    policy: Any,
    env: Any,
    task: TaskDescription,
    history: list[Trial],
    t: int,
    cap: int,
    run_dir: Path,
) -> Trial:
    start = time.monotonic()
    try:
        proposal = policy.propose(task, list(history), t)  # a_t ~ pi(. | s_t, c)
    except PolicyUnavailable:
        raise
    except PolicyError as exc:
        log.warning("iteration %d: the policy failed: %s", t, exc)
        return _failed(t, [], f"policy: {exc}", "", {"policy_seconds": time.monotonic() - start})
    policy_seconds = time.monotonic() - start
    proposed = [str(o) for o in proposal]
    objects = list(dict.fromkeys(proposed))  # a repeated query would only duplicate a map
    note = str(getattr(proposal, "note", "") or "")
    details = dict(getattr(proposal, "details", {}) or {})
    extra: dict[str, Any] = {"policy_seconds": policy_seconds, "policy": details}
    if len(objects) < len(proposed):
        extra["duplicates_dropped"] = len(proposed) - len(objects)
    if len(objects) > cap:  # Truncate(a_t, C_max)
        extra["truncated"] = objects[cap:]
        objects = objects[:cap]
    trial_dir = run_dir / TRIALS / f"{t:02d}"
    try:
        reward = env.evaluate(objects, trial_dir)  # W_t, r_t
        accuracy, classwise = _check_reward(reward)
    except BadInputError as exc:
        log.warning("iteration %d: the environment rejected %s: %s", t, objects, exc)
        return _failed(t, objects, f"environment: {exc}", note, extra)
    extra["reward"] = dict(getattr(reward, "extra", {}) or {})
    weights = getattr(reward, "weights", None)
    return Trial(
        iteration=t,
        objects=objects,
        accuracy=accuracy,
        classwise=classwise,
        weights=str(weights) if weights is not None else None,
        seconds=float(getattr(reward, "seconds", 0.0) or 0.0),
        policy_note=note,
        status=OK,
        extra=extra,
    )


def _failed(t: int, objects: list[str], error: str, note: str, extra: dict) -> Trial:
    """A trial that produced no reward: -inf, never best, shown to the policy with its reason."""
    return Trial(
        iteration=t,
        objects=objects,
        accuracy=-math.inf,
        classwise={},
        weights=None,
        seconds=0.0,
        policy_note=note,
        status=FAILED,
        error=error,
        source=RUN,
        extra=extra,
    )


def _final_training(env: Any, best: Trial, run_dir: Path, epochs: int) -> dict[str, Any]:
    path = run_dir / FINAL
    done = finished_record(path, objects=best.objects, epochs=epochs)
    if done is not None:
        return done
    reward = env.evaluate(list(best.objects), run_dir / "final", epochs=epochs)
    accuracy, classwise = _check_reward(reward)
    final = {
        "objects": list(best.objects),
        "epochs": epochs,
        "accuracy": accuracy,
        "classwise": classwise,
        "weights": str(reward.weights) if reward.weights is not None else None,
        "seconds": float(reward.seconds),
    }
    write_record(path, final)
    return final


def _last_and_best(trial: Trial, best: Trial | None) -> str:
    now = f"{100 * trial.accuracy:.1f}%" if trial.ok else "failed"
    top = f"{100 * best.accuracy:.1f}%" if best is not None else "-"
    return f"last {now}, best {top}"


__all__ = [
    "CONFIG",
    "HISTORY",
    "SUMMARY",
    "Environment",
    "ICRLError",
    "ICRLResult",
    "environment_settings",
    "load_injected_history",
    "manifest_fingerprint",
    "name_detector",
    "policy_settings",
    "read_history",
    "run_icrl",
    "selection_split",
]
