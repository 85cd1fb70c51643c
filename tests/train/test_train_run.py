"""Whole runs on the tiny SynthAct preset: checkpoints, resume, skips, determinism, evaluate."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import lightning as L
import pytest
import torch

from actionbias.audit import read_predictions, summarize
from actionbias.errors import BadInputError
from actionbias.synth import read_synthact
from actionbias.train import evaluate, load_classifier, train


@pytest.fixture(scope="module")
def trained(synthact: Path, tmp_path_factory: pytest.TempPathFactory):
    """One weighted-focus run (reads video and mask) shared by the evaluation tests."""
    from actionbias.train import load_config

    run_dir = tmp_path_factory.mktemp("trained") / "run"
    config = load_config(
        "synthact",
        [
            f"data.train={synthact}",
            f"data.val={synthact}",
            f"run_dir={run_dir}",
            "model.name=weighted_focus",
            "data.batch_size=12",
            "data.num_workers=0",
            "trainer.max_epochs=2",
            "trainer.progress=false",
        ],
    )
    return train(config)


def test_a_run_writes_checkpoints_history_logs_and_results(trained):
    run_dir = trained.run_dir
    assert trained.last_checkpoint == run_dir / "checkpoints" / "last.ckpt"
    assert trained.best_checkpoint is not None and trained.best_checkpoint.is_file()
    assert trained.best_checkpoint.parent == run_dir / "checkpoints"
    assert trained.monitor == "val/acc" and 0.0 <= trained.best_score <= 1.0
    assert [row["epoch"] for row in trained.history] == [0, 1]
    steps_per_epoch = 3  # 36 training clips, batch 12
    assert [row["step"] for row in trained.history] == [steps_per_epoch, 2 * steps_per_epoch]
    for row in trained.history:
        for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "train_alpha"):
            assert isinstance(row[key], float), key
    results = json.loads((run_dir / "results.json").read_text())
    assert results["epochs"] == 2 and results["skipped"]["count"] == 0
    assert results["best_checkpoint"] == str(trained.best_checkpoint)
    assert results["model"] == "weighted_focus"
    assert results["model_options"] == {"backbone": "slow_tiny"}
    assert (run_dir / "config.yaml").is_file() and (run_dir / "skipped.json").is_file()
    metrics = list(run_dir.glob("logs/version_*/metrics.csv"))
    assert metrics
    with metrics[0].open() as fh:
        columns = next(csv.reader(fh))
    assert {"val/loss", "val/acc", "train/loss_epoch"} <= set(columns)
    state = torch.load(trained.last_checkpoint, map_location="cpu", weights_only=True)
    assert state["epoch"] == 1 and state["global_step"] == 2 * steps_per_epoch


def test_checkpoint_alone_rebuilds_the_model(trained):
    module = load_classifier(trained.best_checkpoint)
    assert module.hparams.model_name == "weighted_focus"
    assert module.required_inputs == ("video", "mask")
    assert len(module.classes) == 6
    assert module.hparams.data["crop_size"] == 64


def test_evaluate_writes_predictions_the_audit_reads(trained, synthact: Path, tmp_path: Path):
    out = tmp_path / "preds.jsonl"
    result = evaluate(trained.best_checkpoint, synthact, out)
    assert result.path == out and out.is_file()
    assert (tmp_path / "preds.skipped.json").is_file()
    manifests = read_synthact(synthact)
    table = read_predictions(out)
    sizes = {name: len(manifests[name]) for name in ("test", "swap", "mimetic")}
    assert len(table) == sum(sizes.values())
    assert {name: table.datasets.count(name) for name in sizes} == sizes
    swap = [i for i, d in enumerate(table.datasets) if d == "swap"]
    assert all(table.backgrounds[i] >= 0 for i in swap)
    assert all(table.backgrounds[i] == -1 for i, d in enumerate(table.datasets) if d != "swap")
    assert table.scores is not None and table.scores.shape == (len(table), 6)
    sums = torch.from_numpy(table.scores.sum(axis=1))
    torch.testing.assert_close(sums, torch.ones(len(table), dtype=torch.float64))
    summary = summarize(table, n_boot=50)
    assert "swap" in json.dumps(summary) and "shacc" in json.dumps(summary)
    # Accuracies EvalResult reports agree with the file's.
    for name, accuracy in result.accuracy.items():
        rows = [i for i, d in enumerate(table.datasets) if d == name]
        expected = sum(table.predictions[i] == table.labels[i] for i in rows) / len(rows)
        assert accuracy == pytest.approx(expected)


def test_evaluate_a_plain_manifest_file(trained, make_config, synthact: Path, tmp_path: Path):
    csv_path = synthact / "annotations" / "val.csv"
    overrides = {"root": str(synthact / "videos")}
    # A Kinetics CSV's records carry no mask paths, so weighted focus cannot run on it.
    with pytest.raises(BadInputError, match=r"field data\.masks"):
        evaluate(trained.best_checkpoint, csv_path, tmp_path / "wf.jsonl", overrides=overrides)
    # A video-only model can; rows are grouped under the given dataset name.
    plain = train(make_config(run_dir=tmp_path / "plain"))
    result = evaluate(
        plain.best_checkpoint,
        csv_path,
        tmp_path / "val.jsonl",
        dataset="k-val",
        overrides=overrides,
    )
    table = read_predictions(tmp_path / "val.jsonl")
    assert set(table.datasets) == {"k-val"} and len(table) == 12
    assert set(result.accuracy) == {"k-val"}
    assert (table.backgrounds == -1).all()


def test_kill_and_resume_continues_from_the_last_epoch(make_config, tmp_path: Path):
    run_dir = tmp_path / "resumable"
    first = train(make_config(run_dir=run_dir))
    assert first.resumed_from is None and len(first.history) == 1
    first_epoch = first.history[0]

    second = train(make_config("trainer.max_epochs=2", run_dir=run_dir))
    assert second.resumed_from == run_dir / "checkpoints" / "last.ckpt"
    assert [row["epoch"] for row in second.history] == [0, 1]
    # Epoch 0 was not trained again: its record is untouched and the step count goes on.
    assert second.history[0] == first_epoch
    assert second.history[1]["step"] == 2 * first_epoch["step"]
    state = torch.load(second.last_checkpoint, map_location="cpu", weights_only=True)
    assert state["epoch"] == 1

    # Same max_epochs again: nothing left to do, the run returns as it was.
    third = train(make_config("trainer.max_epochs=2", run_dir=run_dir))
    assert third.history == second.history
    assert third.best_checkpoint is not None and third.best_checkpoint.is_file()


class _Crash(L.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.current_epoch == 1 and batch_idx == 1:
            raise RuntimeError("simulated kill")


def test_a_run_killed_mid_epoch_resumes_from_its_last_checkpoint(
    make_config, tmp_path: Path, monkeypatch
):
    import actionbias.train.runner as runner

    run_dir = tmp_path / "crashing"
    original = runner._make_trainer
    monkeypatch.setattr(
        runner,
        "_make_trainer",
        lambda config, hw, callbacks, run_dir: original(
            config, hw, [*callbacks, _Crash()], run_dir
        ),
    )
    with pytest.raises(RuntimeError, match="simulated kill"):
        train(make_config("trainer.max_epochs=3", run_dir=run_dir))
    monkeypatch.setattr(runner, "_make_trainer", original)
    state = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert state["epoch"] == 0  # the crash hit epoch 1; epoch 0 is safe on disk
    resumed = train(make_config("trainer.max_epochs=3", run_dir=run_dir))
    assert resumed.resumed_from is not None
    assert [row["epoch"] for row in resumed.history] == [0, 1, 2]
    assert [row["step"] for row in resumed.history] == [3, 6, 9]


def test_resume_never_refuses_to_overwrite_a_run(make_config, tmp_path: Path):
    run_dir = tmp_path / "once"
    train(make_config(run_dir=run_dir))
    with pytest.raises(BadInputError, match="field resume"):
        train(make_config("resume=never", run_dir=run_dir))
    with pytest.raises(BadInputError, match="nothing to resume"):
        train(make_config("resume=always", run_dir=tmp_path / "fresh"))


def test_same_seed_same_metrics(make_config, tmp_path: Path):
    a = train(make_config("model.name=segmented", run_dir=tmp_path / "a"))
    b = train(make_config("model.name=segmented", run_dir=tmp_path / "b"))
    keys = ("train_loss", "train_acc", "val_loss", "val_acc", "step")
    assert [{k: r[k] for k in keys} for r in a.history] == [
        {k: r[k] for k in keys} for r in b.history
    ]
    c = train(make_config("model.name=segmented", "seed=1", run_dir=tmp_path / "c"))
    assert c.history[0]["train_loss"] != a.history[0]["train_loss"]


@pytest.mark.parametrize("cached", [True, False])
def test_broken_videos_are_skipped_and_counted(make_config, synthact_copy: Path, tmp_path, cached):
    manifests = read_synthact(synthact_copy)
    broken = [manifests["train"][4], manifests["train"][9], manifests["val"][0]]
    Path(broken[0].path).write_bytes(b"")  # zero bytes
    Path(broken[1].path).write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x07" * 500)  # garbage
    Path(broken[2].path).unlink()  # gone
    result = train(
        make_config(
            f"data.cache_clips={str(cached).lower()}",
            f"data.num_workers={0 if cached else 1}",
            data=synthact_copy,
            run_dir=tmp_path / f"broken-{cached}",
        )
    )
    assert result.skipped["count"] == 3
    assert {item["id"] for item in result.skipped["items"]} == {r.id for r in broken}
    saved = json.loads((result.run_dir / "results.json").read_text())
    assert saved["skipped"]["count"] == 3
    assert json.loads((result.run_dir / "skipped.json").read_text())["count"] == 3
    assert result.history[-1]["skipped"] == 3


def test_missing_validation_data_is_a_field_error(make_config, tmp_path: Path):
    with pytest.raises(BadInputError, match=r"field data\.val"):
        train(make_config("data.val=null", run_dir=tmp_path / "noval"))
    with pytest.raises(BadInputError, match=r"field model\.backbone"):
        train(make_config("model.backbone=slow_small", run_dir=tmp_path / "conflict"))


def test_scene_swap_run_doubles_the_epoch(make_config, tmp_path: Path):
    result = train(
        make_config("data.scene_swap=true", "data.scene_variants=1", run_dir=tmp_path / "swap")
    )
    assert result.extras["train_items_per_epoch"] == 2 * 36
    assert result.history[0]["step"] == 6  # 72 items, batch 12
    assert json.loads((result.run_dir / "results.json").read_text())["scene_swap"] is True


def test_gpu_speed_flags_are_harmless_on_cpu(make_config, tmp_path: Path):
    result = train(
        make_config(
            "trainer.precision=bf16-mixed",
            "trainer.channels_last=true",
            "trainer.limit_train_batches=1",
            "trainer.limit_val_batches=1",
            "data.batch_size=4",
            run_dir=tmp_path / "flags",
        )
    )
    assert result.extras["precision"] == "bf16-mixed"
    assert result.extras["channels_last"] is True
    assert result.history[0]["step"] == 1
    assert all(isinstance(result.history[0][k], float) for k in ("train_loss", "val_loss"))


def test_evaluate_skips_and_counts_broken_videos(trained, synthact_copy: Path, tmp_path: Path):
    test = read_synthact(synthact_copy)["test"]
    Path(test[2].path).write_bytes(b"not a video at all")
    out = tmp_path / "preds.jsonl"
    result = evaluate(trained.best_checkpoint, synthact_copy, out, splits=["test"])
    assert result.skipped.count == 1 and test[2].id in result.skipped
    table = read_predictions(out)
    assert len(table) == len(test) - 1 and test[2].id not in table.ids
    skipped = json.loads((tmp_path / "preds.skipped.json").read_text())
    assert skipped["count"] == 1 and skipped["items"][0]["id"] == test[2].id
