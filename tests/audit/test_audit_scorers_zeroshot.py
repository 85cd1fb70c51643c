"""CLIP/SigLIP and X-CLIP zero-shot audits on tiny random-weight models."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from actionbias.audit.runner import run_audit
from actionbias.audit.scorers import ZeroShotScorer, parse_model_string
from actionbias.errors import BadInputError
from actionbias.synth import read_synthact
from actionbias.video import read_clip

sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
import hf_tiny


def test_zero_shot_clip_from_a_model_string(synthact, tmp_path):
    model, processor = hf_tiny.tiny_clip(seed=0)
    folder = tmp_path / "tiny-clip"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    metrics = run_audit(
        f"clip:{folder}",
        synthact,
        tmp_path / "run",
        frames=3,
        limit=2,
        device="cpu",
        progress=False,
    )
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["model"] == {
        "type": "clip",
        "id": str(folder),
        "pooling": "center",
        "prompts": "label",
    }
    assert config["name"] == str(folder) and metrics["videos"] == 6
    assert config["label_space"]["name"] == "dataset"  # SynthAct's classes are not K400's
    # scores are the wrapper's logits of the centre frame against the raw class names
    from actionbias.models.zeroshot import ZeroShotVideoClassifier

    reference = ZeroShotVideoClassifier(model, processor, templates=["{}"])
    row = json.loads((tmp_path / "run" / "predictions.jsonl").read_text().splitlines()[0])
    record = next(r for r in read_synthact(synthact)["test"] if r.id == row["id"])
    clip = read_clip(record.path, num_frames=3).frames
    expected = reference.class_scores([clip], [c for c in config["classes"]])[0]
    np.testing.assert_allclose(row["scores"], expected, rtol=1e-4, atol=1e-5)
    # the MCQ protocol answers from the same scores restricted to the five choices
    mcq = run_audit(
        ZeroShotScorer(reference, config["classes"], {"type": "clip", "id": "tiny"}),
        synthact,
        tmp_path / "mcq",
        protocol="mcq",
        frames=1,
        limit=2,
        progress=False,
    )
    assert mcq["answer_sources"] == {"scores": 6}


def _kinetics_subset(synthact, names):
    """SynthAct test clips relabelled with Kinetics-400 names: a Kinetics-50-like subset."""
    from actionbias.data import Manifest

    test = read_synthact(synthact)["test"]
    rename = dict(zip(test.classes, names, strict=False))
    records = [
        dataclasses.replace(r, label=rename[r.label], label_id=None) for r in test.records[:4]
    ]
    return Manifest(records, list(names), name="test").with_classes(list(names))


def test_zero_shot_scores_the_400_kinetics_labels_on_a_kinetics_subset(synthact, tmp_path):
    from actionbias.data import kinetics400_classes
    from actionbias.data.class_names import kinetics400_lookup
    from actionbias.models.zeroshot import ZeroShotVideoClassifier

    k400 = kinetics400_classes()
    names = ["air_drumming", "Abseiling", "skiing (not slalom or crosscountry)", "bowling"]
    names += ["zumba", "yoga"]
    data = _kinetics_subset(synthact, names)
    model, processor = hf_tiny.tiny_clip(seed=1)
    folder = tmp_path / "tiny-clip"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    run = tmp_path / "run"
    run_audit(f"clip:{folder}", data, run, frames=1, device="cpu", progress=False)
    config = json.loads((run / "config.json").read_text())
    assert config["label_space"]["name"] == "kinetics400"
    assert config["label_space"]["classes"] == 400 and config["classes"] == k400
    assert "auto" in config["label_space"]["reason"]
    rows = [json.loads(x) for x in (run / "predictions.jsonl").read_text().splitlines()]
    assert all(len(row["scores"]) == 400 and row["label"] in k400 for row in rows)
    canonical = {k400[kinetics400_lookup().find(name)] for name in names}
    assert {row["label"] for row in rows} <= canonical  # K400 spelling of the subset's labels
    reference = ZeroShotVideoClassifier(model, processor, templates=["{}"])
    record = next(r for r in data if r.id == rows[0]["id"])
    clip = read_clip(record.path, num_frames=1).frames
    expected = reference.class_scores([clip], k400)[0]
    np.testing.assert_allclose(rows[0]["scores"], expected, rtol=1e-4, atol=1e-5)
    # the dataset's own label space is still available, and recorded
    run_audit(
        f"clip:{folder}?prompts=authors",
        data,
        tmp_path / "own",
        frames=1,
        device="cpu",
        progress=False,
        label_space="dataset",
    )
    own = json.loads((tmp_path / "own" / "config.json").read_text())
    assert own["label_space"]["name"] == "dataset" and len(own["classes"]) == 6
    assert own["model"]["prompts"] == "authors"


def test_xclip_zero_shot_over_the_kinetics_label_space(synthact, tmp_path):
    import torch

    from actionbias.data import kinetics400_classes

    names = ["abseiling", "air drumming", "bowling", "yoga", "zumba", "juggling balls"]
    data = _kinetics_subset(synthact, names)
    model, processor = hf_tiny.tiny_xclip(seed=4)
    folder = tmp_path / "tiny-xclip"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    assert parse_model_string(f"xclip:{folder}")["prompts"] == "label"
    run = tmp_path / "run"
    run_audit(f"xclip:{folder}", data, run, batch_size=2, device="cpu", progress=False)
    config = json.loads((run / "config.json").read_text())
    assert config["label_space"]["name"] == "kinetics400" and config["frames"] == 4
    assert config["model"] == {"type": "xclip", "id": str(folder), "prompts": "label", "frames": 4}
    rows = [json.loads(x) for x in (run / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == len(data) and all(len(r["scores"]) == 400 for r in rows)
    # the scores are X-CLIP's logits_per_video against the 400 raw labels
    record = next(r for r in data if r.id == rows[0]["id"])
    clip = read_clip(record.path, num_frames=4).frames
    k400 = kinetics400_classes()
    with torch.no_grad():
        inputs = processor(text=k400, videos=[list(clip)], return_tensors="pt", padding=True)
        expected = model(**inputs).logits_per_video[0].numpy()
    np.testing.assert_allclose(rows[0]["scores"], expected, rtol=1e-4, atol=1e-4)
    with pytest.raises(BadInputError, match="X-CLIP prompts"):
        parse_model_string("xclip:x?prompts=authors")
