"""A Hugging Face video classifier audited in the data's classes (id2label matched by name)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from actionbias.audit.runner import run_audit
from actionbias.audit.scorers import parse_model_string
from actionbias.synth import read_synthact
from actionbias.video import read_clip

sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
import hf_tiny


@pytest.mark.parametrize("kind", ["videomae", "vivit"])
def test_hf_video_classifier_audit_maps_id2label_to_the_data(synthact, tmp_path, kind):
    from actionbias.models.hf_video import HFVideoClassifier

    classes = read_synthact(synthact)["test"].classes
    # the model knows all but the last data class (spelt its own way) and one class more
    labels = [*(c.upper().replace(" ", "_") for c in classes[:-1]), "juggling balls"]
    model, processor = hf_tiny.tiny_video_classifier(kind, labels, seed=2)
    folder = tmp_path / kind
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    assert parse_model_string(f"hf:{folder}") == {"type": "hf", "id": str(folder)}
    run = tmp_path / "run"
    metrics = run_audit(
        f"hf:{folder}", synthact, run, splits=["test", "swap"], batch_size=3, progress=False
    )
    config = json.loads((run / "config.json").read_text())
    assert config["frames"] == 4  # the model's num_frames
    assert config["model"]["type"] == "hf" and config["model"]["model_type"] == kind
    assert config["classes"] == [*classes[:-1], "juggling balls"]
    match = config["label_match"]
    assert match["matched"] == len(classes) - 1
    assert match["model_labels_not_in_data_examples"] == ["juggling balls"]
    assert match["data_classes_not_in_model"] == [classes[-1]]
    rows = [json.loads(x) for x in (run / "predictions.jsonl").read_text().splitlines()]
    assert rows and all(row["label"] != classes[-1] for row in rows)  # unnameable: left out
    test = read_synthact(synthact)["test"]
    kept = [r for r in test if r.label != classes[-1]]
    assert metrics["summary"]["groups"]["test"]["n"] == len(kept)
    # scores are the softmax of the model's logits on the model's own frame count
    reference = HFVideoClassifier.from_pretrained(folder)
    row = next(r for r in rows if r["dataset"] == "test")
    record = next(r for r in test if r.id == row["id"])
    logits = reference.logits([read_clip(record.path, num_frames=4).frames])[0]
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    np.testing.assert_allclose(row["scores"], expected, rtol=1e-5, atol=1e-7)
    assert "swap" in metrics["summary"]["groups"]["swap"]
