"""`run_audit` end to end: bias shown, limits and resumes, broken videos, kills, protocols."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from audit_testkit import FakeSceneVLM, prediction_rows, scene_cheat

from actionbias.audit import read_run
from actionbias.audit.runner import run_audit
from actionbias.audit.scorers import CallableScorer, LocalVLMAnswerer
from actionbias.audit.settings import AuditSettings
from actionbias.data import Manifest, VideoRecord
from actionbias.errors import BadInputError
from actionbias.synth import read_synthact


def test_scene_cheat_shows_background_bias(synthact, tmp_path):
    run = tmp_path / "cheat"
    metrics = run_audit(scene_cheat(synthact), synthact, run, frames=4, progress=False)
    rows = prediction_rows(run)
    swap_rows = [r for r in rows if r["dataset"] == "swap"]
    assert {r["dataset"] for r in rows} == {"test", "swap", "mimetic"}
    assert len(swap_rows) == 24 and all("background_label" in r for r in swap_rows)
    # hand counts from the written rows agree with the reported figures
    sberr = np.mean([r["prediction"] == r["background_label"] for r in swap_rows])
    shacc = np.mean([r["prediction"] == r["label"] for r in swap_rows])
    swap = metrics["summary"]["groups"]["swap"]["swap"]
    assert swap["sberr"]["value"] == pytest.approx(sberr)
    assert swap["shacc"]["value"] == pytest.approx(shacc)
    assert sberr > 0.6 and sberr > shacc + 0.4
    test_acc = metrics["summary"]["groups"]["test"]["top1"]["value"]
    assert test_acc > 0.6  # scenes predict the class in-distribution (correlation 0.9)
    assert "top5" in metrics["summary"]["groups"]["test"]  # scores were stored
    config, table, stored = read_run(run)
    assert config["name"] == "scene-cheat" and config["frames"] == 4
    assert config["data"]["splits"] == ["test", "swap", "mimetic"]
    assert stored["videos"] == len(table) == 60 and stored["skipped"] == 0


def test_limit_then_resume_and_config_guard(synthact, tmp_path):
    run = tmp_path / "run"
    calls: list[int] = []
    cheat = scene_cheat(synthact)

    def counting(clips):
        calls.append(len(clips))
        return cheat.score(clips)

    scorer = CallableScorer(counting, cheat.class_names, name="counting")
    first = run_audit(scorer, synthact, run, splits=["test", "swap"], limit=3, progress=False)
    assert first["videos"] == 6 and sum(calls) == 6
    second = run_audit(scorer, synthact, run, splits=["test", "swap"], progress=False)
    assert second["videos"] == 48 and sum(calls) == 48  # nothing recomputed
    again = run_audit(scorer, synthact, run, splits=["test", "swap"], progress=False)
    assert again["videos"] == 48 and sum(calls) == 48
    with pytest.raises(BadInputError, match="frames"):
        run_audit(scorer, synthact, run, splits=["test", "swap"], frames=2, progress=False)
    forced = run_audit(
        scorer, synthact, run, splits=["test"], frames=2, force=True, limit=2, progress=False
    )
    assert forced["videos"] == 2 and forced["run"]["frames"] == 2


def test_broken_videos_are_skipped_logged_and_counted(synthact, tmp_path):
    test = read_synthact(synthact)["test"]
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"")
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video at all" * 50)
    records = [
        *test.records[:4],
        VideoRecord("zero", str(broken), test.classes[0], 0),
        VideoRecord("junk", str(garbage), test.classes[1], 1),
        VideoRecord("gone", str(tmp_path / "missing.mp4"), test.classes[2], 2),
    ]
    manifest = Manifest(records, test.classes, name="mixed")
    metrics = run_audit(scene_cheat(synthact), manifest, tmp_path / "run", progress=False)
    assert metrics["videos"] == 4 and metrics["skipped"] == 3
    skipped = [json.loads(x) for x in (tmp_path / "run" / "skipped.jsonl").read_text().splitlines()]
    assert {s["id"] for s in skipped} == {"zero", "junk", "gone"}
    assert all(s["reason"] and s["path"] for s in skipped)
    # a rerun does not try them again nor count them twice
    again = run_audit(scene_cheat(synthact), manifest, tmp_path / "run", progress=False)
    assert again["skipped"] == 3
    assert len((tmp_path / "run" / "skipped.jsonl").read_text().splitlines()) == 3


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from actionbias.audit.runner import run_audit
    from actionbias.audit.scorers import CallableScorer

    data, out, calls, delay = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    classes = [line for line in open(data + "/classes.txt").read().splitlines() if line]

    def predict(clips):
        with open(calls, "a") as fh:
            fh.write("clip\\n" * len(clips))
        time.sleep(delay)
        return np.stack([c.mean(axis=(0, 1, 2))[[0, 1, 2, 0, 1, 2]] for c in clips])

    run_audit(CallableScorer(predict, classes, name="slow"), data, out, frames=2,
              batch_size=2, workers=1, progress=False)
    """
)


def test_resume_after_kill_no_recompute_no_duplicate(synthact, tmp_path):
    script = tmp_path / "audit_script.py"
    script.write_text(KILL_SCRIPT)
    run, calls = tmp_path / "run", tmp_path / "calls.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, str(script), str(synthact), str(run), str(calls)]
    process = subprocess.Popen([*args, "0.15"], env=env)
    predictions = run / "predictions.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if predictions.is_file() and predictions.read_text().count("\n") >= 6:
            break
        if process.poll() is not None:
            pytest.fail("the audit ended before it could be killed")
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    persisted = predictions.read_text().count("\n")
    total = 60
    assert 6 <= persisted < total
    before = calls.read_text().count("\n")
    assert before >= persisted
    subprocess.run([*args, "0"], env=env, check=True, timeout=300)
    recomputed = calls.read_text().count("\n") - before
    assert recomputed == total - persisted  # only what was not on disk
    ids = [json.loads(line)["id"] for line in predictions.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == total
    assert json.loads((run / "metrics.json").read_text())["videos"] == total


def test_vlm_answerer_needs_mcq_protocol(synthact, tmp_path):
    answerer = LocalVLMAnswerer(FakeSceneVLM(synthact), spec={"type": "vlm-local", "id": "x"})
    with pytest.raises(BadInputError, match="--protocol mcq"):
        run_audit(answerer, synthact, tmp_path / "run", progress=False)


def test_run_audit_takes_exactly_the_settings_options():
    """run_audit hands its keyword arguments to AuditSettings one for one."""
    parameters = list(inspect.signature(run_audit).parameters.values())[3:]
    fields = dataclasses.fields(AuditSettings)
    assert [p.name for p in parameters] == [f.name for f in fields]
    assert [p.default for p in parameters] == [f.default for f in fields]
