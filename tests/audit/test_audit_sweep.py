"""Sweeps over models and frame counts, and the audit / sweep / evaluate commands."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from actionbias.audit.commands import COMMANDS
from actionbias.audit.scorers import CallableScorer
from actionbias.audit.sweep import model_slug, run_sweep
from actionbias.commandline import add_commands
from actionbias.errors import BadInputError
from actionbias.synth import read_synthact


class FrameCounter:
    """Scores from the mean colour of the clip (a fixed random projection); counts frames seen."""

    def __init__(self, classes: list[str], seed: int) -> None:
        self.weights = np.random.default_rng(seed).normal(size=(3, len(classes)))
        self.frames_seen: list[int] = []

    def __call__(self, clips: list[np.ndarray]) -> np.ndarray:
        self.frames_seen.extend(c.shape[0] for c in clips)
        return np.stack([c.reshape(-1, 3).mean(axis=0) / 255.0 for c in clips]) @ self.weights


def test_sweep_frames_and_models_shares_questions_and_resumes(synthact, tmp_path):
    classes = read_synthact(synthact)["test"].classes
    counters = [FrameCounter(classes, seed) for seed in (0, 1)]
    models = [CallableScorer(c, classes, name=f"mean-{i}") for i, c in enumerate(counters)]
    out = tmp_path / "sweep"
    entries = run_sweep(models, [1, 3], synthact, out, "mcq", limit=3, progress=False)
    names = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert names == ["mean-0__f1", "mean-0__f3", "mean-1__f1", "mean-1__f3"]
    assert sorted(counters[0].frames_seen) == [1] * 9 + [3] * 9
    shared = (out / "questions.jsonl").read_bytes()
    for name in names:
        config = json.loads((out / name / "config.json").read_text())
        model, frames = name.split("__f")
        assert config["sweep"] == {
            "axis": "frames",
            "value": int(frames),
            "model": model,
            "frames": int(frames),
        }
        assert config["frames"] == int(frames)
        assert (out / name / "questions.jsonl").read_bytes() == shared
    index = json.loads((out / "sweep.json").read_text())
    assert [r["run_dir"] for r in index["runs"]] == [e["run_dir"] for e in entries]
    assert all("sberr" in r["groups"]["swap"] for r in index["runs"])
    assert not any(e["reused"] for e in entries)
    # run again: every point is finished, no model is called
    again = run_sweep(models, [1, 3], synthact, out, "mcq", limit=3, progress=False)
    assert all(e["reused"] for e in again) and len(counters[0].frames_seen) == 18
    # a larger limit is another sweep point definition: resumed, not reused
    more = run_sweep(models[:1], [1], synthact, out, "mcq", limit=4, progress=False)
    assert not more[0]["reused"] and counters[0].frames_seen.count(1) == 9 + 3


def test_sweep_over_models_at_one_frame_count(synthact, tmp_path):
    classes = read_synthact(synthact)["test"].classes
    models = [CallableScorer(FrameCounter(classes, s), classes, name=f"m{s}") for s in (0, 1)]
    run_sweep(models, [2], synthact, tmp_path, "all", splits=["swap"], limit=2, progress=False)
    config = json.loads((tmp_path / "m1__f2" / "config.json").read_text())
    assert config["sweep"]["axis"] == "model" and config["sweep"]["value"] == "m1"
    assert not (tmp_path / "questions.jsonl").exists()  # the all-classes protocol needs none


def test_model_slug():
    assert model_slug("clip:openai/clip-vit-base-patch32") == "clip-openai-clip-vit-base-patch32"
    assert model_slug("runs/slow/checkpoints/best.ckpt") == "slow-best"
    assert model_slug("openai:gpt-4o-mini@http://127.0.0.1:8000/v1") == (
        "openai-gpt-4o-mini-127.0.0.1-8000-v1"
    )
    assert model_slug({"type": "clip", "id": "a/b"}) == "clip-a-b"


def test_shard_flag(capsys):
    base = ["audit", "--model", "m", "--data", "d", "--out", "o"]
    assert _parser().parse_args([*base, "--shard", "1/4"]).shard == (1, 4)
    assert _parser().parse_args(base).shard is None
    for bad in ("4/4", "x", "1/0"):
        with pytest.raises(SystemExit) as exit_info:
            _parser().parse_args([*base, "--shard", bad])
        assert exit_info.value.code == 2
        assert f"--shard: expected K/N with 0 <= K < N (e.g. 0/4), got '{bad}'" in (
            capsys.readouterr().err
        )


def _checkpoint(path: Path, classes: list[str]) -> Path:
    import lightning as L

    from actionbias.train.config import DataConfig
    from actionbias.train.module import ClassifierModule
    from actionbias.train.runner import PREPROCESSING

    data = dataclasses.asdict(DataConfig(short_side=64, crop_size=64, num_frames=2))
    module = ClassifierModule("slow_tiny", classes, data={k: data[k] for k in PREPROCESSING})
    trainer = L.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.strategy.connect(module)
    trainer.save_checkpoint(path)
    return path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="actionbias")
    add_commands(parser.add_subparsers(dest="command", required=True), COMMANDS)
    return parser


def _run(argv: list[str], capsys) -> dict:
    args = _parser().parse_args(argv)
    assert args.handler(args) == 0
    return json.loads(capsys.readouterr().out)


def test_audit_sweep_evaluate_commands(synthact, tmp_path, capsys):
    classes = read_synthact(synthact)["test"].classes
    checkpoint = _checkpoint(tmp_path / "runs" / "slow" / "checkpoints" / "best.ckpt", classes)
    data = ["--data", str(synthact), "--limit", "2", "--bootstrap", "50", "--no-progress"]
    audit = _run(["audit", "--model", str(checkpoint), *data, "--out", str(tmp_path / "a")], capsys)
    assert audit["videos"] == 6 and set(audit["groups"]) == {"test", "swap", "mimetic"}
    assert "sberr" in audit["groups"]["swap"] and audit["name"] == "slow_tiny"
    # evaluate = the audit of a checkpoint, with the old comma-separated --splits
    out = tmp_path / "e"
    summary = _run(
        ["evaluate", str(checkpoint), *data, "--splits", "test,swap", "--out", str(out)], capsys
    )
    assert set(summary["groups"]) == {"test", "swap"} and summary["videos"] == 4
    assert "by_background" in summary["groups"]["swap"]  # the full summary, as before
    assert (out / "metrics.json").is_file() and (out / "metrics.csv").is_file()
    # the old form: a predictions file
    preds = tmp_path / "preds.jsonl"
    old = _run(["evaluate", str(checkpoint), "--data", str(synthact), "--splits", "swap",
                "--out", str(preds), "--bootstrap", "20"], capsys)  # fmt: skip
    assert preds.is_file() and set(old["groups"]) == {"swap"}
    # sharded audit: two shards, then the unsharded rerun merges and scores
    run = tmp_path / "sharded"
    for k in (0, 1):
        _run(
            ["audit", "--model", str(checkpoint), *data, "--out", str(run), "--shard", f"{k}/2"],
            capsys,
        )
    assert (run / "predictions.shard-0-of-2.jsonl").is_file()
    merged = _run(["audit", "--model", str(checkpoint), *data, "--out", str(run)], capsys)
    assert merged["videos"] == 6 and merged["complete"] is True
    sweep = _run(
        [
            "sweep",
            "--models",
            str(checkpoint),
            "--frames",
            "1",
            "2",
            *data,
            "--protocol",
            "all",
            "--splits",
            "swap",
            "--out",
            str(tmp_path / "sw"),
        ],
        capsys,
    )
    assert [r["run_dir"] for r in sweep["runs"]] == ["slow-best__f1", "slow-best__f2"]
    # bad input is a BadInputError (the CLI's exit code 2)
    args = _parser().parse_args(["audit", "--model", "nope:x", *data, "--out", str(tmp_path / "x")])
    with pytest.raises(BadInputError, match="unknown model kind"):
        args.handler(args)
    args = _parser().parse_args(
        ["audit", "--model", str(checkpoint), *data, "--out", str(tmp_path / "a"), "--frames", "3"]
    )
    with pytest.raises(BadInputError, match="another config"):
        args.handler(args)
