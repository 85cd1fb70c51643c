"""`run_demo(quick=True)` end to end (one run per module), then resume, refusal and force.

The quick demo is the tiny SynthAct preset and two-epoch trainings: ~30-60 s on two
cores, so it runs in the default suite. Its numbers mean nothing; the tests check
the structure every consumer relies on (10 audit run dirs in the shared format,
tables with every model and both augment settings, the report) and the resume
rules (a second call trains and evaluates nothing; a half-done run continues).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from actionbias.audit import read_run
from actionbias.demo.pipeline import MANAGED, run_demo
from actionbias.demo.runs import AUGMENTS, MODELS, DemoResult
from actionbias.errors import BadInputError
from actionbias.runstate import clear_outputs


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    out = tmp_path_factory.mktemp("demo") / "out"
    return run_demo(out, quick=True, progress=False)


def _mtimes(result: DemoResult) -> dict[str, int]:
    files = [p for o in result.runs for p in (o.train_dir / "checkpoints").glob("*.ckpt")]
    files += [o.audit_dir / "metrics.json" for o in result.runs]
    return {str(p): p.stat().st_mtime_ns for p in files}


def test_ten_audit_run_dirs_in_the_shared_format(demo: DemoResult):
    assert len(demo.runs) == len(MODELS) * len(AUGMENTS) == 10
    names = set()
    for outcome in demo.runs:
        assert outcome.training == "trained" and outcome.evaluation == "evaluated"
        config, table, metrics = read_run(outcome.audit_dir)
        run = outcome.run
        expected = run.model if run.augment == "none" else f"{run.model} + scene-swap"
        assert config["name"] == expected
        assert config["tags"] == {
            "model": run.model,
            "augment": run.augment,
            "seed": 0,
            "train_run": str(outcome.train_dir),
        }
        assert config["model"]["type"] == "classifier"
        assert config["model"]["id"] == str(outcome.checkpoint)
        assert metrics is not None and metrics["skipped"] == 0
        assert set(metrics["summary"]["groups"]) == {"test", "swap", "mimetic"}
        assert (outcome.audit_dir / "metrics.csv").is_file()
        assert len(table) == metrics["videos"] > 0
        names.add(config["name"])
        # the baseline is the recipe's Slow-only backbone on raw video
        results = json.loads((outcome.train_dir / "results.json").read_text())
        assert results["model"] == ("slow_tiny" if run.model == "baseline" else run.model)
        assert results["scene_swap"] is (run.augment == "scene-swap")
        assert results["epochs"] == (2 if run.augment == "none" else 1)
    assert "dual_sum + scene-swap" in names and "baseline" in names


def test_tables_hold_every_model_and_both_augment_settings(demo: DemoResult):
    for table in ("table2", "table3"):
        for ext in ("csv", "md", "json"):
            assert (demo.out_dir / f"{table}.{ext}").is_file(), f"{table}.{ext}"
    rows = list(csv.DictReader((demo.out_dir / "table3.csv").open()))
    cells = {(r["model"], r["augment"], r["metric"]) for r in rows}
    assert len(cells) == len(rows) == 10 * 4
    assert {(m, a) for m, a, _ in cells} == {(m, a) for m in MODELS for a in AUGMENTS}
    for row in rows:
        assert 0.0 <= float(row["value"]) <= 1.0
        assert float(row["low"]) <= float(row["value"]) <= float(row["high"])
        assert row["method"] == "bootstrap" and row["seeds"] == "0"
    table2 = json.loads((demo.out_dir / "table2.json").read_text())
    assert [r["model"] for r in table2["rows"]] == list(MODELS)
    assert {r["augment"] for r in table2["rows"]} == {"none"}
    md = (demo.out_dir / "table3.md").read_text()
    for model in MODELS:
        assert f"| {model} | original |" in md and f"| {model} | + scene-swap |" in md
    # the figures in the tables are the audits' figures
    base = next(o for o in demo.runs if o.run.model == "baseline" and o.run.augment == "none")
    cell = next(r for r in table2["rows"] if r["model"] == "baseline")["cells"]["swap_sberr"]
    assert cell["value"] == base.figures["swap_sberr"]["value"]


def test_report_and_state_are_written(demo: DemoResult):
    assert demo.report == demo.out_dir / "report.html"
    html = demo.report.read_text(encoding="utf-8")
    assert "dual_stack + scene-swap" in html and "<script src=" not in html
    state = json.loads((demo.out_dir / "demo.json").read_text())
    assert state["status"] == "complete" and state["seeds"] == [0]
    assert len(state["runs"]) == 10 and state["settings"]["quick"] is True
    assert demo.timings["total"] > 0 and set(demo.timings) >= {"generate", "train", "evaluate"}


def test_a_second_call_trains_and_evaluates_nothing(demo: DemoResult):
    before = _mtimes(demo)
    again = run_demo(demo.out_dir, quick=True, progress=False)
    assert {o.training for o in again.runs} == {"before"}
    assert {o.evaluation for o in again.runs} == {"before"}
    assert again.timings["train"] == 0 and again.timings["evaluate"] == 0
    assert _mtimes(again) == before
    # the state file keeps the seconds the first call measured
    state = json.loads((again.out_dir / "demo.json").read_text())
    assert all(entry["train_seconds"] > 0 for entry in state["runs"].values())
    assert all(
        0.0 <= entry["convergence"]["final_train_acc"] <= 1.0 for entry in state["runs"].values()
    )
    assert (again.out_dir / "table3.csv").read_text() == (demo.out_dir / "table3.csv").read_text()


def test_a_half_done_run_continues_where_it_stopped(demo: DemoResult):
    target = next(o for o in demo.runs if o.run.model == "dual_stack" and o.run.augment == "none")
    other = next(o for o in demo.runs if o.run.model == "segmented" and o.run.augment == "none")
    # A kill before results.json: training restarts from last.ckpt (nothing left to train).
    (target.train_dir / "results.json").unlink()
    (target.audit_dir / "metrics.json").unlink()
    # A kill during an audit: metrics missing, predictions cut mid-line.
    predictions = other.audit_dir / "predictions.jsonl"
    lines = predictions.read_text().splitlines(keepends=True)
    predictions.write_text("".join(lines[:5]) + lines[5][:20])
    (other.audit_dir / "metrics.json").unlink()
    untouched = other.train_dir / "checkpoints" / "last.ckpt"
    stamp = untouched.stat().st_mtime_ns

    again = run_demo(demo.out_dir, quick=True, progress=False)
    by_slug = {o.run.slug: o for o in again.runs}
    assert by_slug[target.run.slug].training == "resumed"
    assert by_slug[target.run.slug].epochs == 2  # dual_stack without augmentation
    assert by_slug[other.run.slug].training == "before"
    assert by_slug[other.run.slug].evaluation == "resumed"
    assert untouched.stat().st_mtime_ns == stamp
    rows = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert len(rows) == len({r["id"] for r in rows}) == len(lines)
    trained_again = [o.run.slug for o in again.runs if o.training != "before"]
    assert trained_again == [target.run.slug]


def test_other_settings_are_refused(demo: DemoResult):
    with pytest.raises(BadInputError, match=r"trainer\.max_epochs.*--force"):
        run_demo(demo.out_dir, quick=True, progress=False, overrides=["trainer.max_epochs=3"])
    with pytest.raises(BadInputError, match="quick"):
        run_demo(demo.out_dir, quick=False, progress=False)


def test_bad_arguments_are_one_line_errors(tmp_path: Path):
    with pytest.raises(BadInputError, match="seeds"):
        run_demo(tmp_path / "x", quick=True, seeds=(0, 0), progress=False)
    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(BadInputError, match="not a directory"):
        run_demo(a_file, quick=True, progress=False)


def test_force_clears_only_what_the_demo_owns(tmp_path: Path):
    for name in (
        "train/a/x.ckpt",
        "audit/a/metrics.json",
        "cache/clips/k/frames.npy",
        "table2.md",
        "report.html",
        "demo.json",
        "synthact/synthact.json",
        "notes.txt",
    ):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    clear_outputs(tmp_path, MANAGED)
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["notes.txt", os.path.join("synthact", "synthact.json")]


def test_command_arguments_parse_and_reject_bad_seeds(capsys: pytest.CaptureFixture[str]):
    import argparse

    from actionbias.demo.commands import add_demo_arguments, cmd_demo

    parser = argparse.ArgumentParser(prog="actionbias demo")
    add_demo_arguments(parser)
    parser.set_defaults(handler=cmd_demo)
    args = parser.parse_args(["--out", "x", "--seeds", "0,1,2", "--set", "trainer.max_epochs=3"])
    assert args.seeds == [0, 1, 2] and args.set == ["trainer.max_epochs=3"]
    assert args.scene_swap_epochs == "same-steps" and not args.quick and args.handler is cmd_demo
    for bad in ("0,0", "a", "-1"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--seeds", bad])
    assert "seeds" in capsys.readouterr().err
