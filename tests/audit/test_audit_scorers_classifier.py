"""Classifier checkpoints audited as trained (masks included), in their own class list."""

from __future__ import annotations

import json

import numpy as np
import pytest
from audit_testkit import prediction_rows, tiny_checkpoint

from actionbias.audit import read_predictions
from actionbias.audit.audit_data import load_audit_data
from actionbias.audit.runner import run_audit
from actionbias.errors import BadInputError
from actionbias.synth import read_synthact


def test_classifier_checkpoint_with_masks_matches_train_evaluate(synthact, tmp_path):
    from actionbias.train import evaluate

    swap = read_synthact(synthact)["swap"]
    classes = swap.classes
    subset = swap[:10]
    checkpoint = tiny_checkpoint(tmp_path / "dual.ckpt", classes, "dual_sum")
    spec = {"type": "classifier", "checkpoint": str(checkpoint)}
    metrics = run_audit(spec, subset, tmp_path / "run", batch_size=4, progress=False)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["frames"] == 4 and config["model"]["model_name"] == "dual_sum"
    assert len(config["model"]["sha256"]) == 64
    assert metrics["videos"] == 10 and "swap" in metrics["summary"]["groups"]["swap"]
    ours = read_predictions(tmp_path / "run" / "predictions.jsonl", classes)
    reference = evaluate(checkpoint, subset, dataset="swap").table
    order = [reference.ids.index(i) for i in ours.ids]
    np.testing.assert_allclose(ours.scores, reference.scores[order], atol=1e-6)
    assert list(ours.predictions) == list(reference.predictions[order])
    assert list(ours.backgrounds) == list(reference.backgrounds[order])
    # the same checkpoint answers the MCQ by its scores restricted to the choices
    mcq = run_audit(spec, subset[:3], tmp_path / "mcq", protocol="mcq", progress=False)
    assert mcq["answer_sources"] == {"scores": 3}


def test_checkpoint_is_audited_on_its_own_class_list(synthact, tmp_path, capsys):
    """A Kinetics-style CSV with no class list beside it is read in the checkpoint's classes."""
    from actionbias.cli import main

    classes = list(reversed(read_synthact(synthact)["test"].classes))  # not alphabetical
    checkpoint = tiny_checkpoint(tmp_path / "slow.ckpt", classes, "slow_tiny")
    lonely = tmp_path / "csv" / "test.csv"  # no classes.txt beside it
    lonely.parent.mkdir()
    lonely.write_text((synthact / "annotations" / "test.csv").read_text())
    with pytest.raises(BadInputError, match="400-class list"):
        load_audit_data(lonely, root=synthact / "videos")  # what happened before
    args = ["audit", "--model", str(checkpoint), "--data", str(lonely)]
    args += ["--root", str(synthact / "videos"), "--limit", "3", "--no-progress"]
    assert main([*args, "--out", str(tmp_path / "run")]) == 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["classes"] == classes
    rows = prediction_rows(tmp_path / "run")
    assert len(rows) == 3 and all(row["label"] in classes for row in rows)
    # --classes still wins: a list without the data's labels is a one-line error.
    other = tmp_path / "other.txt"
    other.write_text("\n".join(classes[1:]) + "\n")
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "run2"), "--classes", str(other)]) == 2
    assert "test.csv:line" in capsys.readouterr().err


def test_audits_share_decoded_clips_through_a_clip_cache(synthact, tmp_path, monkeypatch):
    """With ``clip_cache`` the second audit loads the first one's clips, same scores."""
    import actionbias.train.dataset as dataset_module

    swap = read_synthact(synthact)["swap"]
    subset = swap[:10]
    checkpoint = tiny_checkpoint(tmp_path / "dual.ckpt", swap.classes, "dual_sum")
    plain = {"type": "classifier", "checkpoint": str(checkpoint)}
    cache = tmp_path / "cache"
    cached = {**plain, "overrides": {"clip_cache": str(cache)}}
    run_audit(plain, subset, tmp_path / "plain", batch_size=4, progress=False)
    run_audit(cached, subset, tmp_path / "first", batch_size=4, progress=False)
    assert len([p for p in cache.iterdir() if p.is_dir()]) == 1  # one entry, stored

    def no_decoding(*args, **kwargs):
        raise AssertionError("the second audit decoded a clip")

    monkeypatch.setattr(dataset_module, "decode_record", no_decoding)
    run_audit(cached, subset, tmp_path / "second", batch_size=4, progress=False)
    reference = read_predictions(tmp_path / "plain" / "predictions.jsonl", swap.classes)
    for name in ("first", "second"):
        ours = read_predictions(tmp_path / name / "predictions.jsonl", swap.classes)
        assert ours.ids == reference.ids
        np.testing.assert_array_equal(ours.scores, reference.scores)


def test_clip_cache_is_not_used_when_the_clips_would_not_fit_in_memory(synthact, tmp_path):
    swap = read_synthact(synthact)["swap"]
    checkpoint = tiny_checkpoint(tmp_path / "slow.ckpt", swap.classes, "slow_tiny")
    cache = tmp_path / "cache"
    spec = {
        "type": "classifier",
        "checkpoint": str(checkpoint),
        "overrides": {"clip_cache": str(cache), "cache_limit_mb": 1},
    }
    # 24 clips of 4 x 64 x 64 x 3 bytes are 1.2 MB, over the 1 MB limit
    metrics = run_audit(spec, swap, tmp_path / "run", batch_size=8, progress=False)
    assert metrics["videos"] == len(swap) == 24 and not cache.exists()  # nothing stored
