"""`actionbias a2o demo --quick` end to end, its resume and its settings guard."""

from __future__ import annotations

import dataclasses
import json

import pytest

from actionbias.a2o.demo import A2ODemoSettings, demo_settings, run_a2o_demo
from actionbias.a2o.policies import PC3D_PLUS_PLUS
from actionbias.cli import build_parser
from actionbias.errors import BadInputError
from actionbias.synth import read_synthact


def _run(argv: list[str]) -> int:
    args = build_parser("a2o").parse_args(argv)
    return args.handler(args)


def _tiny(**changes) -> A2ODemoSettings:
    """The quick demo cut further: 2 iterations, one epoch everywhere."""
    values = {"iterations": 2, "search_epochs": 1, "final_epochs": 1, **changes}
    return dataclasses.replace(demo_settings(quick=True), **values)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("a2o_demo")
    result = run_a2o_demo(out, settings=_tiny(), progress=False)
    return out, result


def test_demo_writes_rows_history_audits_and_report(finished) -> None:
    out, result = finished
    rows = result.results["rows"]
    assert set(rows) == {"plain", "initial", "icrl"}
    assert rows["plain"]["objects"] == []
    assert rows["initial"]["objects"] == list(demo_settings(quick=True).initial)
    history = [json.loads(line) for line in (out / "icrl" / "history.jsonl").open()]
    assert [t["iteration"] for t in history] == [1, 2]
    best = max(history, key=lambda t: t["accuracy"])
    assert rows["icrl"]["objects"] == best["objects"]
    for name in rows:
        metrics = json.loads((out / "audit" / name / "metrics.json").read_text())
        groups = metrics["summary"]["groups"]
        assert set(groups) == {"test", "swap", "mimetic"}
        assert "sberr" in groups["swap"]["swap"]
        figures = rows[name]["figures"]
        assert 0.0 <= figures["test"]["value"] <= 1.0
        assert figures["sberr"]["low"] <= figures["sberr"]["value"] <= figures["sberr"]["high"]
    html = (out / "report.html").read_text()
    assert "A2O: object vocabulary search" in html
    assert "offline search, not an LLM" in html
    assert "http://" not in html and "https://" not in html


def test_demo_rerun_resumes_without_training(finished, monkeypatch) -> None:
    out, first = finished
    from actionbias.a2o import environment

    def no_training(*args, **kwargs):
        raise AssertionError("a finished demo trained again")

    monkeypatch.setattr(environment.TrainEnvironment, "evaluate", no_training)
    again = run_a2o_demo(out, settings=_tiny(), progress=False)
    assert again.results["rows"]["icrl"]["figures"] == first.results["rows"]["icrl"]["figures"]


def test_demo_refuses_other_settings(finished) -> None:
    out, _ = finished
    with pytest.raises(BadInputError, match="iterations"):
        run_a2o_demo(out, settings=_tiny(iterations=3), progress=False)


def test_cli_run_with_fixed_policy_on_synthact(finished, tmp_path, capsys) -> None:
    out, _ = finished
    run = tmp_path / "run"
    code = _run(
        [
            "a2o", "run", "--data", str(out / "synthact"), "--out", str(run),
            "--policy", "fixed", "--objects", "person,arm", "--iterations", "1",
            "--cache", str(out / "maps"), "--batch-size", "8", "--no-progress",
        ]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "best (iteration 1)" in printed
    assert "on the selection split synthact-val" in printed
    history = [json.loads(line) for line in (run / "history.jsonl").open()]
    assert history[0]["objects"] == ["person", "arm"]
    # The final figure: the held-out test split, never the selection split.
    summary = json.loads((run / "summary.json").read_text())
    test, selection = summary["test"], summary["selection"]
    assert selection["split"] == "synthact-val" and test["split"] == "synthact-test"
    test_ids = [r.id for r in read_synthact(out / "synthact")["test"].records]
    assert test["clips"] == len(test_ids) and test["selection_split"] == "synthact-val"
    assert test["weights"] == history[0]["weights"]  # no final training: W_best
    assert f"test: {100 * test['accuracy']:.1f}% on the held-out split synthact-test" in printed
    rows = [json.loads(line) for line in (run / "test" / "predictions.jsonl").open()]
    assert sorted(r["id"] for r in rows) == sorted(test_ids)
    # The report of the test audit says which split the figure is on.
    from actionbias.report.page import write_report

    html = write_report([run / "test"], tmp_path / "report.html").read_text()
    assert "synthact-test" in html and "held-out test" in html


def test_cli_tune_runs_optuna_trials_and_resumes(finished, tmp_path, capsys) -> None:
    pytest.importorskip("optuna")
    out, _ = finished
    argv = [
        "a2o", "tune", "--data", str(out / "synthact"), "--out", str(tmp_path / "tune"),
        "--objects", "person", "--trials", "2", "--cache", str(out / "maps"),
        "--batch-size", "8", "--no-progress",
    ]  # fmt: skip
    assert _run(argv) == 0
    assert "best of 2 trials" in capsys.readouterr().out
    summary = json.loads((tmp_path / "tune" / "tuning.json").read_text())
    assert len(summary["trials"]) == 2 and summary["objects"] == ["person"]
    assert _run([*argv[:9], "3", *argv[10:]]) == 0  # one more trial, the first two kept
    assert len(json.loads((tmp_path / "tune" / "tuning.json").read_text())["trials"]) == 3


def test_cli_bad_input_names_the_option(tmp_path) -> None:
    with pytest.raises(BadInputError, match="--backend-opt"):
        _run(["a2o", "maps", "--data", str(tmp_path), "--queries", "a", "--out", str(tmp_path),
              "--backend-opt", "nonsense"])  # fmt: skip
    with pytest.raises(BadInputError, match="--val"):
        _run(["a2o", "run", "--data", str(tmp_path / "train.csv"), "--out", str(tmp_path)])
    with pytest.raises(BadInputError, match="--test"):  # no held-out split, not waived
        _run(["a2o", "run", "--data", str(tmp_path / "train.csv"), "--val",
              str(tmp_path / "val.csv"), "--out", str(tmp_path)])  # fmt: skip


@pytest.mark.slow
def test_demo_with_the_pc3d_row(finished) -> None:
    """PC3D++: the same recogniser reading mediapipe pose maps (about a minute on tiny data)."""
    out, _ = finished
    result = run_a2o_demo(out, settings=_tiny(pc3d=True), progress=False, force=True)
    rows = result.results["rows"]
    assert set(rows) == {"plain", "pc3d++", "initial", "icrl"}
    assert rows["pc3d++"]["objects"] == list(PC3D_PLUS_PLUS)
    assert any((out / "maps" / "pose").rglob("*.npz"))
    assert "PC3D++" in (out / "report.html").read_text()


def test_settings_hold_a_digest_of_the_resolved_synthact_config(monkeypatch) -> None:
    import actionbias.synth.config as synth_config

    before = _tiny().to_dict()
    assert len(before["data_sha256"]) == 16
    preset = before["data_preset"]
    recalibrated = dataclasses.replace(synth_config.PRESETS[preset], correlation=0.5)
    monkeypatch.setitem(synth_config.PRESETS, preset, recalibrated)
    assert _tiny().to_dict()["data_sha256"] != before["data_sha256"]
