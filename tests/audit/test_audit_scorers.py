from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from actionbias.audit.runner import run_audit
from actionbias.audit.scorers import (
    CallableScorer,
    ClipScorer,
    LocalVLMAnswerer,
    MCQAnswerer,
    ZeroShotScorer,
    describe,
    parse_model_string,
    read_chat_answer,
)
from actionbias.errors import BadInputError
from actionbias.llm import TokenLogprob
from actionbias.synth import read_synthact
from actionbias.video import read_clip

sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
import hf_tiny

OPTIONS = [["eating ice cream"], ["running"], ["jumping"], ["playing basketball"], ["waving"]]


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        (
            "clip:openai/clip-vit-base-patch32",
            {"type": "clip", "pooling": "center", "prompts": "label"},
        ),
        ("clip:x?prompts=authors", {"type": "clip", "prompts": "authors"}),
        ("siglip:x?prompts=a video of {}.", {"type": "siglip", "prompts": "a video of {}."}),
        ("clip:openai/clip-vit-base-patch32?pooling=mean", {"type": "clip", "pooling": "mean"}),
        ("siglip:google/siglip2-base-patch16-224", {"type": "siglip", "pooling": "center"}),
        ("internvl:OpenGVLab/InternVL3-8B-hf", {"type": "vlm-local", "mode": "logprobs"}),
        ("internvl:x?mode=text", {"type": "vlm-local", "id": "x", "mode": "text"}),
        (
            "openai:gpt-4o-mini",
            {
                "type": "vlm-endpoint",
                "model": "gpt-4o-mini",
                "base_url": "https://api.openai.com/v1",
            },
        ),
        (
            "openai:qwen2.5-vl@http://127.0.0.1:8000/v1?key_env=VLLM_KEY&logprobs=false",
            {
                "type": "vlm-endpoint",
                "model": "qwen2.5-vl",
                "base_url": "http://127.0.0.1:8000/v1",
                "api_key_env": "VLLM_KEY",
                "logprobs": False,
            },
        ),
    ],
)
def test_parse_model_string(text, spec):
    parsed = parse_model_string(text)
    assert {k: parsed[k] for k in spec} == spec


def test_parse_model_string_errors_and_checkpoints(tmp_path):
    checkpoint = tmp_path / "best.ckpt"
    checkpoint.write_bytes(b"x")
    assert parse_model_string(str(checkpoint)) == {
        "type": "classifier",
        "checkpoint": str(checkpoint),
    }
    for bad, message in [
        ("", "empty"),
        ("nope:thing", "unknown model kind"),
        ("clip:", "no id"),
        ("clip:x?pooling=max", "pooling"),
        ("clip:x?colour=red", "unknown option"),
        ("clip:x?prompts=a video", "prompts must be label, authors or a template"),
        (str(tmp_path / "missing.ckpt"), "neither an existing checkpoint"),
    ]:
        with pytest.raises(BadInputError, match=message):
            parse_model_string(bad)


def test_callable_scorer_checks_shapes():
    scorer = CallableScorer(lambda clips: np.zeros((len(clips), 3)), ["a", "b", "c"], name="zeros")
    clips = [np.zeros((2, 8, 8, 3), np.uint8)] * 2
    assert scorer.score(clips).shape == (2, 3)
    assert isinstance(scorer, ClipScorer) and not isinstance(scorer, MCQAnswerer)
    assert describe(scorer) == ("zeros", {"type": "callable", "id": "zeros"})
    with pytest.raises(ValueError, match="4 classes"):
        CallableScorer(lambda c: np.zeros((len(c), 3)), ["a", "b", "c", "d"]).score(clips)
    with pytest.raises(ValueError, match="shape"):
        CallableScorer(lambda c: np.zeros(3)).score(clips)


def _tok(token, logprob, *top):
    return TokenLogprob(token, logprob, tuple(top))


def test_read_chat_answer_prefers_letter_logprobs():
    letters = "ABCDE"
    # greedy "B" but the alternatives are read: B is still the most probable letter
    reply = read_chat_answer(
        "B", [_tok("B", -0.4, ("B", -0.4), ("A", -1.2), ("x", -3))], letters, OPTIONS
    )
    assert (reply.choice, reply.source) == (1, "logprobs")
    assert reply.logprobs == {"B": -0.4, "A": -1.2}
    # spelled " C" and "C": merged; decoration tokens are skipped
    tokens = [_tok("(", -0.1), _tok("C", -0.9, ("C", -0.9), (" C", -1.0), ("D", -0.8))]
    assert read_chat_answer("(C) jumping", tokens, letters, OPTIONS).choice == 2
    # "A person is waving": the first token is the article, the text names E
    tokens = [_tok("A", -0.1, ("A", -0.1)), _tok(" person", -0.2)]
    reply = read_chat_answer("A person is waving", tokens, letters, OPTIONS)
    assert (reply.choice, reply.source) == (4, "text")
    # no logprobs, or a reply that does not start with a letter: the text decides
    assert read_chat_answer("Answer: D", None, letters, OPTIONS).source == "text"
    tokens = [_tok("Answer", -0.1, ("Answer", -0.1), ("B", -2.0))]
    reply = read_chat_answer("Answer: D", tokens, letters, OPTIONS)
    assert (reply.choice, reply.source) == (3, "text")
    reply = read_chat_answer("no idea", [_tok("no", -0.1)], letters, OPTIONS)
    assert (reply.choice, reply.source) == (None, "none")


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


def test_local_internvl_logprobs_and_text_agree(synthact, tmp_path):
    tiny = hf_tiny.tiny_internvl(seed=0)
    hf_tiny.favour_letters(tiny.model, tiny.tokenizer)
    folder = tiny.save(tmp_path / "tiny-internvl")
    by_logprobs = run_audit(
        f"internvl:{folder}",
        synthact,
        tmp_path / "lp",
        protocol="mcq",
        frames=2,
        limit=2,
        device="cpu",
        progress=False,
    )
    assert by_logprobs["answer_sources"] == {"logprobs": 6} and by_logprobs["no_answer"] == 0
    from actionbias.models.internvl import InternVLChat

    chat = InternVLChat(tiny.model, tiny.tokenizer, tiny.image_processor, num_frames=2)
    answerer = LocalVLMAnswerer(
        chat, mode="text", max_new_tokens=1, spec={"type": "vlm-local", "id": "tiny-text"}
    )
    questions = tmp_path / "lp" / "questions.jsonl"
    by_text = run_audit(
        answerer,
        synthact,
        tmp_path / "text",
        "mcq",
        2,
        limit=2,
        questions=questions,
        progress=False,
    )
    assert by_text["answer_sources"] == {"text": 6}
    lp_rows = [
        json.loads(x) for x in (tmp_path / "lp" / "predictions.jsonl").read_text().splitlines()
    ]
    text_rows = {
        r["id"]: r
        for r in map(json.loads, (tmp_path / "text" / "predictions.jsonl").read_text().splitlines())
    }
    for row in lp_rows:
        best = max(row["option_logprobs"], key=row["option_logprobs"].get)
        assert row["choice"] == best
        # the greedy first token is the most probable letter: both readings agree
        assert text_rows[row["id"]]["choice"] == best
        assert text_rows[row["id"]]["prediction"] == row["prediction"]


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


def test_label_space_choice_and_errors(synthact):
    from actionbias.audit.runner import choose_label_space
    from actionbias.data import mimetics_classes

    mimetics = choose_label_space(None, mimetics_classes())
    assert mimetics.name == "kinetics400" and len(mimetics.classes) == 400
    synth = read_synthact(synthact)["test"].classes
    assert choose_label_space("auto", synth).name == "dataset"
    assert choose_label_space("dataset", mimetics_classes()).classes == mimetics_classes()
    with pytest.raises(BadInputError, match="not Kinetics-400 classes") as err:
        choose_label_space("kinetics400", synth)
    assert "--label-space kinetics400" in str(err.value)
    with pytest.raises(BadInputError, match="label space must be one of"):
        choose_label_space("imagenet", synth)


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
