"""The run plumbing every resumable workflow shares: settings guard, state file, stages."""

from __future__ import annotations

import json

import pytest

from actionbias.errors import BadInputError
from actionbias.runstate import (
    StateFile,
    check_settings,
    clear_outputs,
    describe_differences,
    differences,
    finished_record,
    read_record,
    refuse_other_settings,
    timed,
    write_record,
)


def test_differences_are_dotted_keys_after_a_json_round_trip():
    old = {"a": 1, "b": {"c": [1, 2], "d": "x"}, "created": "then"}
    new = {"a": 1, "b": {"c": (1, 2), "d": "y"}, "e": None, "created": "now"}
    assert differences(old, new, ignore=("created",)) == ["b.d", "e"]
    assert differences(old, old) == []
    assert differences({"a": 1}, {"a": 1.0}) == []


def test_long_difference_lists_are_cut():
    names = [f"k{i}" for i in range(10)]
    assert describe_differences(names[:2]) == "k0, k1"
    assert describe_differences(names, 8) == ", ".join(names[:8]) + " (+2 more)"
    refuse_other_settings([], holds="x", remedy="y")  # nothing differs: no error
    with pytest.raises(BadInputError, match=r"holds a run with other settings \(differs in k0"):
        refuse_other_settings(names, holds="a run", remedy="use another folder", limit=3)


def test_state_file_reads_what_it_wrote_in_its_own_layout(tmp_path):
    state = StateFile(tmp_path / "state.json", "fmt-1", indent=1, sort_keys=True)
    assert state.read() is None
    state.write({"format": "fmt-1", "settings": {"b": 1, "a": (1, 2)}})
    text = (tmp_path / "state.json").read_text()
    assert text == json.dumps({"format": "fmt-1", "settings": {"a": [1, 2], "b": 1}},
                              indent=1, sort_keys=True) + "\n"  # fmt: skip
    assert state.read() == {"format": "fmt-1", "settings": {"a": [1, 2], "b": 1}}
    (tmp_path / "state.json").write_text('{"format": "other"}')
    with pytest.raises(BadInputError, match=r"not a run state file \(format 'fmt-1' expected\)"):
        state.read()
    (tmp_path / "state.json").write_text("{half")
    with pytest.raises(BadInputError, match="unreadable"):
        state.read()


def test_settings_guard_resumes_refuses_or_discards(tmp_path):
    state = StateFile(tmp_path / "run.json", "f")
    args = {"holds": "a test run", "remedy": "use force"}
    assert check_settings(state, {"lr": 1}, **args) is None  # new folder
    state.write({"format": "f", "settings": {"lr": 1, "seed": 0}, "done": 3})
    assert check_settings(state, {"lr": 1, "seed": 0}, **args)["done"] == 3  # resumes
    with pytest.raises(BadInputError, match=r"run\.json: holds a test run .*\(differs in lr\)"):
        check_settings(state, {"lr": 2, "seed": 0}, **args)
    assert check_settings(state, {"lr": 2}, **args, ignore=("lr", "seed")) is not None
    discarded = []
    assert check_settings(state, {"lr": 2}, **args, discard=lambda: discarded.append(1)) is None
    assert discarded == [1]
    # settings as the whole object (key=None); the error names the folder given as source
    whole = StateFile(tmp_path / "settings.json")
    whole.write({"epochs": 3})
    with pytest.raises(BadInputError, match=r"^\S+sub: .*differs in epochs"):
        check_settings(whole, {"epochs": 4}, key=None, source=tmp_path / "sub", **args)


def test_clear_outputs_removes_files_and_folders_only_by_name(tmp_path):
    (tmp_path / "trials" / "01").mkdir(parents=True)
    (tmp_path / "summary.json").write_text("{}")
    (tmp_path / "keep.json").write_text("{}")
    clear_outputs(tmp_path, ["trials", "summary.json", "missing"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.json"]


def test_a_stage_record_is_reused_only_for_the_same_inputs(tmp_path):
    path = tmp_path / "final.json"
    assert read_record(path) is None and finished_record(path, epochs=3) is None
    write_record(path, {"objects": ["arm", "hand"], "epochs": 3, "accuracy": 0.5})
    assert finished_record(path, objects=("arm", "hand"), epochs=3)["accuracy"] == 0.5
    assert finished_record(path, objects=["arm"], epochs=3) is None
    assert finished_record(path, epochs=3, weights="w.ckpt") is None  # key not recorded
    path.write_text("{trunc")
    assert read_record(path) is None  # unreadable: the stage runs again


def test_timed_records_seconds_of_a_block():
    timings: dict[str, float] = {}
    with timed(timings, "stage"):
        pass
    assert set(timings) == {"stage"} and timings["stage"] >= 0.0
