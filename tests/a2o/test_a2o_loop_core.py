"""run_icrl's bookkeeping against a fake environment: best, ties, truncation, history, resume."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from actionbias.a2o.loop import (
    ICRLError,
    load_injected_history,
    read_history,
    run_icrl,
)
from actionbias.a2o.policies import (
    FixedPolicy,
    PolicyError,
    PolicyUnavailable,
    ProposedSet,
    Trial,
)
from actionbias.a2o.task import TaskDescription
from actionbias.errors import BadInputError

USEFUL = {
    "jump": ["person", "leg", "floor"],
    "throw": ["person", "arm", "ball"],
    "swim": ["water", "arm", "head"],
}


@dataclass
class FakeReward:
    accuracy: float
    classwise: dict[str, float]
    weights: str | None
    seconds: float
    extra: dict = field(default_factory=dict)


class FakeEnv:
    """Class accuracy = share of the class's useful objects covered - 0.01 per object.

    `interrupt_at`: raise KeyboardInterrupt when asked to evaluate that trial
    folder (a simulated kill); sets with "bad" in them are rejected as bad input.
    """

    def __init__(self, interrupt_at: str | None = None, penalty: float = 0.01):
        self.classes = list(USEFUL)
        self.penalty = penalty
        self.interrupt_at = interrupt_at
        self.calls: list[tuple[str, list[str]]] = []
        self.epochs: list[int | None] = []

    def settings(self) -> dict:
        return {"penalty": self.penalty}

    def evaluate(self, objects, trial_dir: Path, epochs: int | None = None) -> FakeReward:
        if trial_dir.name == self.interrupt_at:
            raise KeyboardInterrupt
        self.calls.append((trial_dir.name, list(objects)))
        self.epochs.append(epochs)
        if any("bad" in o for o in objects):
            raise BadInputError(f"the detector cannot find {objects[-1]!r}", where="objects")
        classwise = {}
        for name, useful in USEFUL.items():
            covered = len(set(objects) & set(useful)) / len(useful)
            classwise[name] = min(1.0, max(0.0, covered - self.penalty * len(objects)))
        trial_dir.mkdir(parents=True, exist_ok=True)
        weights = trial_dir / "weights.pt"
        weights.write_text("w")
        accuracy = sum(classwise.values()) / len(classwise)
        return FakeReward(accuracy, classwise, str(weights), 0.5, {"epochs": epochs or 1})


class Scripted:
    """Proposes the given sets in order and remembers the history it was shown."""

    kind = "fixed"
    uses_history = True

    def __init__(self, sets, name: str = "scripted"):
        self.sets = [list(s) if not isinstance(s, Exception) else s for s in sets]
        self.name = name
        self.seen: list[list[Trial]] = []

    @property
    def spec(self) -> dict:
        return {"kind": self.kind, "name": self.name}

    def propose(self, task, history, iteration):
        self.seen.append(list(history))
        item = self.sets[iteration - 1]
        if isinstance(item, Exception):
            raise item
        return ProposedSet(item, f"set {iteration}", {"edit": "scripted"})


@pytest.fixture
def task() -> TaskDescription:
    return TaskDescription("toy", list(USEFUL), max_objects=15)


def test_best_is_argmax_and_first_on_ties(tmp_path: Path, task: TaskDescription) -> None:
    sets = [["person"], ["person", "arm"], ["arm", "person"], ["ball"]]  # 2 and 3 tie
    env = FakeEnv()
    result = run_icrl(Scripted(sets), env, task, tmp_path / "run", iterations=4)
    accs = [t.accuracy for t in result.trials]
    assert accs[1] == accs[2] and accs[1] == max(accs)
    assert result.best.iteration == 2
    assert result.best.objects == ["person", "arm"]
    assert result.best.weights == str(tmp_path / "run" / "trials" / "02" / "weights.pt")
    assert [name for name, _ in env.calls] == ["01", "02", "03", "04"]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["best"]["iteration"] == 2
    assert summary["best"]["objects"] == ["person", "arm"]
    assert summary["accuracy_per_iteration"] == pytest.approx(accs)
    assert summary["search_seconds"] >= 4 * 0.5
    assert summary["policy"]["kind"] == "fixed"


def test_truncation_to_max_objects(tmp_path: Path, task: TaskDescription) -> None:
    many = [f"thing {i}" for i in range(10)]
    env = FakeEnv()
    result = run_icrl(Scripted([many]), env, task, tmp_path / "run", iterations=1, max_objects=3)
    assert env.calls[0][1] == ["thing 0", "thing 1", "thing 2"]
    assert result.trials[0].objects == ["thing 0", "thing 1", "thing 2"]
    assert result.trials[0].extra["truncated"] == many[3:]
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["max_objects"] == 3 and config["task"]["max_objects"] == 3


def test_duplicates_dropped_and_progress_bar(tmp_path: Path, task: TaskDescription) -> None:
    env = FakeEnv()
    result = run_icrl(
        Scripted([["arm", "leg", "arm"]]), env, task, tmp_path / "run", 1, progress=True
    )
    assert env.calls == [("01", ["arm", "leg"])]
    assert result.trials[0].extra["duplicates_dropped"] == 1


def test_history_file_content(tmp_path: Path, task: TaskDescription) -> None:
    run_icrl(Scripted([["person", "leg"], ["ball"]]), FakeEnv(), task, tmp_path / "r", iterations=2)
    lines = (tmp_path / "r" / "history.jsonl").read_text().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["iteration"] == 1
    assert first["objects"] == ["person", "leg"]
    assert first["status"] == "ok" and first["source"] == "run" and first["error"] is None
    expected = {
        "jump": 2 / 3 - 0.02,
        "throw": 1 / 3 - 0.02,
        "swim": 0.0,
    }
    assert first["classwise"] == pytest.approx(expected)
    assert first["accuracy"] == pytest.approx(sum(expected.values()) / 3)
    assert first["policy_note"] == "set 1"
    assert first["extra"]["policy"] == {"edit": "scripted"}
    assert first["extra"]["reward"] == {"epochs": 1}
    assert json.loads(lines[1])["objects"] == ["ball"]


def test_resume_after_kill_does_not_redo_iterations(tmp_path: Path, task: TaskDescription) -> None:
    sets = [["person"], ["person", "arm"], ["person", "arm", "leg"], ["head"]]
    killed = FakeEnv(interrupt_at="03")
    with pytest.raises(KeyboardInterrupt):
        run_icrl(Scripted(sets), killed, task, tmp_path / "run", iterations=4)
    assert [name for name, _ in killed.calls] == ["01", "02"]
    assert len(read_history(tmp_path / "run")) == 2

    # A truncated last line (a kill during a write) is dropped on resume.
    with (tmp_path / "run" / "history.jsonl").open("a") as fh:
        fh.write('{"iteration": 3, "objects": ["hal')
    env = FakeEnv()
    policy = Scripted(sets)
    result = run_icrl(policy, env, task, tmp_path / "run", iterations=4)
    assert [name for name, _ in env.calls] == ["03", "04"]  # 1-2 not re-evaluated
    assert [len(h) for h in policy.seen] == [2, 3]  # same history as before the kill
    assert [t.iteration for t in result.trials] == [1, 2, 3, 4]
    assert result.best.objects == ["person", "arm", "leg"]
    lines = (tmp_path / "run" / "history.jsonl").read_text().splitlines()
    assert [json.loads(x)["iteration"] for x in lines] == [1, 2, 3, 4]

    # A finished run reruns as a no-op; more iterations continue it.
    again = FakeEnv()
    run_icrl(Scripted(sets), again, task, tmp_path / "run", iterations=4)
    assert again.calls == []
    more = FakeEnv()
    run_icrl(Scripted([*sets, ["ball"]]), more, task, tmp_path / "run", iterations=5)
    assert [name for name, _ in more.calls] == ["05"]


def test_config_mismatch_refused_unless_forced(tmp_path: Path, task: TaskDescription) -> None:
    run_icrl(Scripted([["person"]]), FakeEnv(), task, tmp_path / "run", iterations=1)
    with pytest.raises(BadInputError, match=r"max_objects") as err:
        run_icrl(Scripted([["person"]]), FakeEnv(), task, tmp_path / "run", 1, max_objects=4)
    assert "task.max_objects" in str(err.value)
    with pytest.raises(BadInputError, match=r"environment\.penalty"):
        run_icrl(Scripted([["person"]]), FakeEnv(penalty=0.5), task, tmp_path / "run", 1)
    with pytest.raises(BadInputError, match=r"policy\.name"):
        run_icrl(Scripted([["person"]], name="other"), FakeEnv(), task, tmp_path / "run", 1)
    env = FakeEnv(penalty=0.5)
    result = run_icrl(Scripted([["arm"]]), env, task, tmp_path / "run", 1, force=True)
    assert env.calls == [("01", ["arm"])]
    assert [t.objects for t in result.trials] == [["arm"]]


def test_failed_trials_are_recorded_and_never_best(tmp_path: Path, task: TaskDescription) -> None:
    sets = [["bad thing"], PolicyError("no usable list"), ["person"], ["person", "bad one"]]
    policy = Scripted(sets)
    result = run_icrl(policy, FakeEnv(), task, tmp_path / "run", iterations=4)
    status = [(t.iteration, t.status) for t in result.trials]
    assert status == [(1, "failed"), (2, "failed"), (3, "ok"), (4, "failed")]
    assert result.trials[0].error.startswith("environment:")
    assert "cannot find" in result.trials[0].error
    assert result.trials[1].error == "policy: no usable list"
    assert result.best.iteration == 3
    assert all(t.accuracy == -math.inf for t in result.trials if not t.ok)
    # The policy saw the failures in its history.
    assert [t.status for t in policy.seen[2]] == ["failed", "failed"]
    row = json.loads((tmp_path / "run" / "history.jsonl").read_text().splitlines()[0])
    assert row["accuracy"] is None and row["status"] == "failed"
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["failed"] == 3
    assert summary["accuracy_per_iteration"][:2] == [None, None]


def test_all_failed_raises(tmp_path: Path, task: TaskDescription) -> None:
    with pytest.raises(ICRLError, match="all 2 trials failed"):
        run_icrl(Scripted([["bad"], ["bad too"]]), FakeEnv(), task, tmp_path / "run", 2)


def test_outage_stops_without_using_the_iteration(tmp_path: Path, task: TaskDescription) -> None:
    sets = [["person"], PolicyUnavailable("endpoint down"), ["arm"]]
    with pytest.raises(PolicyUnavailable):
        run_icrl(Scripted(sets), FakeEnv(), task, tmp_path / "run", iterations=3)
    assert [t.iteration for t in read_history(tmp_path / "run")] == [1]
    env = FakeEnv()
    result = run_icrl(
        Scripted([["person"], ["leg"], ["arm"]]), env, task, tmp_path / "run", iterations=3
    )
    assert [name for name, _ in env.calls] == ["02", "03"]
    assert [t.objects for t in result.trials] == [["person"], ["leg"], ["arm"]]


def test_injected_history_is_shown_but_never_best(tmp_path: Path, task: TaskDescription) -> None:
    # Another run (another "dataset") with a very good trial.
    other = TaskDescription("other", ["a", "b"])
    run_icrl(Scripted([["person", "arm", "leg", "floor", "ball", "water", "head"]]), FakeEnv(),
             other, tmp_path / "other", iterations=1)  # fmt: skip
    injected = load_injected_history(tmp_path / "other")
    assert len(injected) == 1 and injected[0].source == "injected"
    injected[0].accuracy = 0.99  # better than anything this run can reach
    policy = Scripted([["person"], ["arm"]])
    result = run_icrl(policy, FakeEnv(), task, tmp_path / "run", 2, initial_history=injected)
    assert result.best.source == "run" and result.best.iteration in (1, 2)
    assert result.best.accuracy < 0.99
    assert [t.source for t in policy.seen[0]] == ["injected"]
    assert [t.source for t in policy.seen[1]] == ["injected", "run"]
    rows = [json.loads(x) for x in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert [r["source"] for r in rows] == ["injected", "run", "run"]
    assert rows[0]["extra"]["from"] == str(tmp_path / "other")
    # Resuming without the same injected history is a different run.
    with pytest.raises(BadInputError, match="initial_history"):
        run_icrl(Scripted([["person"], ["arm"]]), FakeEnv(), task, tmp_path / "run", 2)


def test_only_injected_good_still_raises_when_own_fail(tmp_path: Path, task: TaskDescription):
    good = Trial(1, ["person"], 0.9, {"jump": 0.9}, None, 1.0)
    with pytest.raises(ICRLError):
        run_icrl(Scripted([["bad"]]), FakeEnv(), task, tmp_path / "run", 1, initial_history=[good])


def test_final_training_with_best_set(tmp_path: Path, task: TaskDescription) -> None:
    env = FakeEnv()
    result = run_icrl(
        Scripted([["person"], ["person", "arm"]]), env, task, tmp_path / "run", 2, final_epochs=7
    )
    assert env.calls[-1] == ("final", ["person", "arm"])
    assert env.epochs == [None, None, 7]
    assert result.final is not None and result.final["epochs"] == 7
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["final"]["epochs"] == 7
    again = FakeEnv()
    run_icrl(Scripted([["person"], ["person", "arm"]]), again, task, tmp_path / "run", 2,
             final_epochs=7)  # fmt: skip
    assert again.calls == []  # final.json is reused


def test_fixed_policy_and_bad_arguments(tmp_path: Path, task: TaskDescription) -> None:
    result = run_icrl(FixedPolicy(["Person", "ARM", "arm"], "plain"), FakeEnv(), task,
                      tmp_path / "run", iterations=2)  # fmt: skip
    assert [t.objects for t in result.trials] == [["person", "arm"]] * 2
    assert result.best.iteration == 1
    with pytest.raises(BadInputError, match="iterations"):
        run_icrl(FixedPolicy(["a"]), FakeEnv(), task, tmp_path / "x", iterations=0)

    class NoEpochs:
        def __init__(self) -> None:
            self.classes = ["a"]

        def evaluate(self, objects, trial_dir):
            raise AssertionError("not reached")

    with pytest.raises(BadInputError, match="final"):
        run_icrl(FixedPolicy(["a"]), NoEpochs(), task, tmp_path / "y", 1, final_epochs=2)


def _manifest(name: str, ids: list[str]):
    from actionbias.data import Manifest, VideoRecord

    classes = list(USEFUL)
    records = [VideoRecord(i, f"/videos/{i}.mp4", classes[k % 3], k % 3) for k, i in enumerate(ids)]
    return Manifest(records, classes, name=name, source=f"{name}.csv")


class SplitEnv(FakeEnv):
    """FakeEnv with train/val manifests and a checkpoint scorer whose accuracy differs by split."""

    def __init__(self) -> None:
        super().__init__()
        self.train = _manifest("toy-train", ["a", "b", "c"])
        self.val = _manifest("toy-val", ["d", "e", "f"])
        self.scored: list[tuple[str, str, list[str], str]] = []

    def evaluate_checkpoint(self, weights, manifest, objects, out_dir=None, name=None):
        from types import SimpleNamespace

        self.scored.append((str(weights), manifest.name, list(objects), str(out_dir)))
        Path(out_dir).mkdir(parents=True)  # a stale audit folder would make this fail
        return SimpleNamespace(
            accuracy=0.25, classwise={"jump": 0.25}, clips=len(manifest), skipped=0
        )


def test_final_figure_comes_from_the_held_out_test_split(tmp_path: Path, task) -> None:
    env = SplitEnv()
    test = _manifest("toy-test", ["g", "h", "i", "j"])
    sets = [["person"], ["person", "arm"]]
    result = run_icrl(Scripted(sets), env, task, tmp_path / "run", 2, final_epochs=3, test=test)
    final_weights = str(tmp_path / "run" / "final" / "weights.pt")
    # Scored once, on the test split, with the final training's weights and the best set.
    assert env.scored == [
        (final_weights, "toy-test", ["person", "arm"], str(tmp_path / "run" / "test"))
    ]
    assert result.test is not None and result.test["accuracy"] == 0.25
    assert result.test["accuracy"] != result.best.accuracy  # not the selection figure
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["selection"]["split"] == "toy-val" and summary["selection"]["clips"] == 3
    assert summary["test"]["split"] == "toy-test" and summary["test"]["clips"] == 4
    assert summary["test"]["selection_split"] == "toy-val"
    assert summary["test"]["model"] == "final training (3 epochs)"
    assert json.loads((tmp_path / "run" / "test.json").read_text()) == summary["test"]
    # A rerun reuses test.json; another test split is scored again (stale audit replaced).
    run_icrl(Scripted(sets), env, task, tmp_path / "run", 2, final_epochs=3, test=test)
    assert len(env.scored) == 1
    other = _manifest("toy-test2", ["k", "l"])
    again = run_icrl(Scripted(sets), env, task, tmp_path / "run", 2, final_epochs=3, test=other)
    assert len(env.scored) == 2 and again.test["split"] == "toy-test2"


def test_without_final_training_the_best_trial_is_scored(tmp_path: Path, task) -> None:
    env = SplitEnv()
    test = _manifest("toy-test", ["g", "h"])
    result = run_icrl(Scripted([["arm"], ["person", "arm"]]), env, task, tmp_path / "r", 2,
                      test=test)  # fmt: skip
    assert env.scored[0][0] == result.best.weights
    assert result.test["model"] == "best trial's weights (iteration 2)"
    no_test = run_icrl(Scripted([["arm"]]), SplitEnv(), task, tmp_path / "n", 1)
    assert no_test.test is None and no_test.summary["test"] is None
    assert no_test.summary["selection"]["split"] == "toy-val"


@pytest.mark.parametrize("shared", ["d", "a"])
def test_a_test_split_overlapping_train_or_val_is_refused(tmp_path: Path, task, shared) -> None:
    env = SplitEnv()
    test = _manifest("toy-test", ["g", shared])
    with pytest.raises(BadInputError, match=r"shares 1 clip\(s\) with the (val|train) split"):
        run_icrl(Scripted([["arm"]]), env, task, tmp_path / "r", 1, test=test)
    assert env.calls == []  # refused before any training
    with pytest.raises(BadInputError, match="evaluate_checkpoint"):
        run_icrl(Scripted([["arm"]]), FakeEnv(), task, tmp_path / "f", 1, test=test)
