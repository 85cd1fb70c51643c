from __future__ import annotations

import csv
import json

import pytest

from actionbias.audit.rundir import RunDir, config_differences, read_run
from actionbias.errors import BadInputError

CLASSES = ["jump", "run", "wave"]


def _config(**changes):
    config = {
        "name": "cheat",
        "model": {"type": "callable", "id": "border"},
        "protocol": "all",
        "frames": 8,
        "data": {"path": "/data/synth", "splits": ["test", "swap"]},
        "seed": 0,
        "questions": None,
        "classes": CLASSES,
    }
    config.update(changes)
    return config


def _row(vid, label, prediction, dataset, background=None):
    row = {"id": vid, "label": label, "prediction": prediction, "dataset": dataset}
    if background is not None:
        row["background_label"] = background
    return row


ROWS = [
    _row("a", "run", "run", "test"),
    _row("b", "jump", "run", "test"),
    _row("c", "run", "run", "swap", "jump"),
    _row("d", "run", "jump", "swap", "jump"),
    _row("e", "jump", "wave", "swap", "run"),
    _row("f", "wave", "", "swap", "run"),
]


def test_finalize_matches_hand_counts(tmp_path):
    run = RunDir.open(tmp_path / "run", _config())
    run.append(ROWS[:3])
    run.append(ROWS[3:])
    run.skip("g", "/videos/g.mp4", "zero bytes")
    metrics = run.finalize(n_boot=200)
    assert metrics["videos"] == 6 and metrics["skipped"] == 1 and metrics["no_answer"] == 1
    assert metrics["skipped_reasons"] == {"zero bytes": 1}
    groups = metrics["summary"]["groups"]
    assert groups["test"]["top1"]["value"] == pytest.approx(1 / 2)
    swap = groups["swap"]["swap"]
    # c: human, d: background, e: other, f: no answer -> other
    assert swap["shacc"]["value"] == pytest.approx(1 / 4)
    assert swap["sberr"]["value"] == pytest.approx(1 / 4)
    assert swap["other"]["value"] == pytest.approx(2 / 4)
    on_disk = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert on_disk["videos"] == 6 and on_disk["run"]["name"] == "cheat"
    with (tmp_path / "run" / "metrics.csv").open() as fh:
        table = {(r["group"], r["metric"]): r for r in csv.DictReader(fh)}
    assert float(table["swap", "sberr"]["value"]) == pytest.approx(0.25)
    assert table["swap", "sberr"]["n"] == "4"
    assert float(table["test", "top1"]["value"]) == pytest.approx(0.5)
    config, preds, again = read_run(tmp_path / "run")
    assert config["protocol"] == "all" and len(preds) == 6 and again == on_disk
    assert preds.classes == CLASSES


def test_resume_skips_done_and_drops_truncated_tail(tmp_path):
    run = RunDir.open(tmp_path / "run", _config())
    run.append(ROWS[:2])
    run.skip("zz", "/v/zz.mp4", "truncated")
    # A kill in the middle of a write leaves a partial line.
    with (tmp_path / "run" / "predictions.jsonl").open("a") as fh:
        fh.write('{"id": "c", "label": "ru')
    again = RunDir.open(tmp_path / "run", _config())
    assert again.done_ids() == {"a", "b", "zz"}
    assert again.done_ids(include_skipped=False) == {"a", "b"}
    again.append(ROWS[2:])
    lines = (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a", "b", "c", "d", "e", "f"]
    assert again.finalize(n_boot=50)["videos"] == 6


def test_reopen_keeps_created_and_refuses_other_config(tmp_path):
    first = RunDir.open(tmp_path / "run", _config())
    created = first.config["created"]
    # volatile keys do not matter
    same = RunDir.open(tmp_path / "run", {**_config(), "created": "yesterday"})
    assert same.config["created"] == created
    with pytest.raises(BadInputError) as err:
        RunDir.open(tmp_path / "run", _config(frames=16, model={"type": "callable", "id": "x"}))
    assert "frames" in str(err.value) and "model.id" in str(err.value)
    assert str(tmp_path / "run") in str(err.value)


def test_force_discards_previous_results(tmp_path):
    run = RunDir.open(tmp_path / "run", _config())
    run.append(ROWS)
    run.skip("g", "/v/g.mp4", "broken")
    run.finalize(n_boot=20)
    forced = RunDir.open(tmp_path / "run", _config(frames=4), force=True)
    assert forced.done_ids() == set()
    assert forced.config["frames"] == 4
    assert not (tmp_path / "run" / "metrics.json").exists()
    assert json.loads((tmp_path / "run" / "config.json").read_text())["frames"] == 4


def test_config_needs_classes(tmp_path):
    config = _config()
    del config["classes"]
    with pytest.raises(ValueError, match="classes"):
        RunDir.open(tmp_path / "run", config)


def test_shards_write_own_files_and_finalize_merges(tmp_path):
    shards = [RunDir.open(tmp_path / "run", _config(), shard=(k, 3)) for k in range(3)]
    for k, shard in enumerate(shards):
        shard.append(ROWS[k::3])
    names = sorted(p.name for p in (tmp_path / "run").glob("predictions*.jsonl"))
    assert names == [f"predictions.shard-{k}-of-3.jsonl" for k in range(3)]
    shards[1].skip("g", "/v/g.mp4", "broken")
    assert shards[0].done_ids() == {r["id"] for r in ROWS} | {"g"}
    metrics = shards[2].finalize(n_boot=20)
    assert metrics["videos"] == 6 and metrics["skipped"] == 1
    merged = (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["id"] for line in merged) == sorted(r["id"] for r in ROWS)
    assert (tmp_path / "run" / "skipped.jsonl").is_file()
    # finalize again (e.g. the unsharded rerun): idempotent, no duplicate rows
    RunDir.open(tmp_path / "run", _config()).finalize(n_boot=20)
    assert len((tmp_path / "run" / "predictions.jsonl").read_text().splitlines()) == 6


def test_error_rows_are_retried_and_replaced(tmp_path):
    run = RunDir.open(tmp_path / "run", _config())
    error = {**ROWS[0], "prediction": "", "answer_source": "error", "reply": "HTTP 500"}
    run.append([error, ROWS[1]])
    assert run.done_ids() == {"b"}
    assert run.done_ids(retry_errors=False) == {"a", "b"}
    metrics = run.finalize(n_boot=20)
    assert metrics["errors"] == 1 and metrics["no_answer"] == 1
    run.append([{**ROWS[0], "answer_source": "text"}])
    metrics = run.finalize(n_boot=20)
    assert metrics["errors"] == 0 and metrics["no_answer"] == 0 and metrics["videos"] == 2
    assert metrics["answer_sources"] == {"prediction": 1, "text": 1}


def test_corrupt_middle_line_is_bad_input(tmp_path):
    run = RunDir.open(tmp_path / "run", _config())
    run.append(ROWS[:1])
    with (tmp_path / "run" / "predictions.jsonl").open("a") as fh:
        fh.write("not json\n")
    run.append(ROWS[1:2])
    with pytest.raises(BadInputError, match="line 2"):
        run.done_ids()


def test_empty_run_cannot_finalize(tmp_path):
    run = RunDir.open(tmp_path / "run", _config())
    run.skip("a", "/v/a.mp4", "broken")
    with pytest.raises(BadInputError, match="1 videos skipped"):
        run.finalize()


def test_config_differences_nested():
    a = _config()
    b = _config(data={"path": "/other", "splits": ["test", "swap"]}, created="x")
    assert config_differences(a, b) == ["data.path"]
    assert config_differences(a, {**a, "extra": 1}) == ["extra"]
