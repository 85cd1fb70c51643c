"""MCQ questions: drawn once, stored, reused by other models, checked against the data."""

from __future__ import annotations

import dataclasses
import json

import pytest
from audit_testkit import FakeSceneVLM, prediction_rows, scene_cheat, tiny_checkpoint

from actionbias.audit.runner import run_audit
from actionbias.audit.scorers import LocalVLMAnswerer
from actionbias.data import Manifest
from actionbias.errors import BadInputError
from actionbias.metrics import load_questions
from actionbias.synth import read_synthact


def test_mcq_questions_stored_and_reused_by_two_models(synthact, tmp_path):
    first, second, third = tmp_path / "cheat", tmp_path / "vlm", tmp_path / "vlm-lp"
    m1 = run_audit(scene_cheat(synthact), synthact, first, protocol="mcq", seed=3, progress=False)
    stored = first / "questions.jsonl"
    questions = {q.id: q for q in load_questions(stored)}
    assert len(questions) == 60
    rows = prediction_rows(first)
    classes = read_synthact(synthact)["test"].classes
    for row in rows:
        q = questions[row["id"]]
        assert classes.index(row["prediction"]) in q.choices
        assert q.choices[q.answer] == classes.index(row["label"])
        if "background_label" in row:
            assert q.choices[q.background] == classes.index(row["background_label"])
        assert row["answer_source"] == "scores" and "scores" not in row
    assert m1["summary"]["groups"]["swap"]["swap"]["sberr"]["value"] > 0.6

    vlm = FakeSceneVLM(synthact)
    answerer = LocalVLMAnswerer(vlm, mode="text", spec={"type": "vlm-local", "id": "fake"})
    m2 = run_audit(answerer, synthact, second, protocol="mcq", questions=stored, progress=False)
    assert (second / "questions.jsonl").read_bytes() == stored.read_bytes()
    config = json.loads((second / "config.json").read_text())
    assert config["questions_from"]["file"] == str(stored.resolve())
    assert config["model"]["prompt"]["question"] == "What is the action being performed?"
    unusable = vlm.calls // 4
    assert m2["no_answer"] == unusable and m2["answer_sources"] == {
        "none": unusable,
        "text": 60 - unusable,
    }
    rows2 = {r["id"]: r for r in prediction_rows(second)}
    for vid, row in rows2.items():
        if row["answer_source"] == "text":
            q = questions[vid]
            assert row["reply"].startswith(f"The answer is {row['choice']})")
            assert q.choices[q.letters().index(row["choice"])] == classes.index(row["prediction"])
        else:
            assert row["prediction"] == "" and row["reply"] == "I cannot tell from these frames."
    # log-prob reading: one answer per question, never unparseable
    lp = LocalVLMAnswerer(FakeSceneVLM(synthact), spec={"type": "vlm-local", "id": "fake-lp"})
    m3 = run_audit(lp, synthact, third, protocol="mcq", questions=stored, progress=False)
    assert m3["no_answer"] == 0 and m3["answer_sources"] == {"logprobs": 60}
    # the same model answers the same questions the same way whichever reading is used
    rows3 = {r["id"]: r for r in prediction_rows(third)}
    for vid, row in rows2.items():
        if row["answer_source"] == "text":
            assert rows3[vid]["prediction"] == row["prediction"]


def test_mcq_questions_must_match_the_data(synthact, tmp_path):
    run_audit(scene_cheat(synthact), synthact, tmp_path / "a", protocol="mcq", progress=False)
    lines = (tmp_path / "a" / "questions.jsonl").read_text().splitlines()
    partial = tmp_path / "partial.jsonl"
    partial.write_text("\n".join(lines[1:]) + "\n")
    with pytest.raises(BadInputError, match="no question for this video"):
        run_audit(
            scene_cheat(synthact), synthact, tmp_path / "b", protocol="mcq", questions=partial
        )
    wrong = json.loads(lines[0])
    wrong["answer"] = (wrong["answer"] + 1) % 5
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([json.dumps(wrong), *lines[1:]]) + "\n")
    with pytest.raises(BadInputError, match="do not match"):
        run_audit(scene_cheat(synthact), synthact, tmp_path / "c", protocol="mcq", questions=bad)


class FirstOption:
    """A stand-in video LLM that always answers (A) and records what it was shown."""

    def __init__(self) -> None:
        self.shown: list[list[str]] = []

    def answer(self, clips, questions, class_names):
        from actionbias.audit.scorers import MCQReply

        for q in questions:
            self.shown.append([class_names[c] for c in q.choices])
        return [MCQReply(0, "text", "A") for _ in questions]


def test_mcq_distractors_come_from_kinetics400_for_a_kinetics_subset(synthact, tmp_path):
    from actionbias.audit.questions import write_questions
    from actionbias.data import kinetics400_classes

    swap = read_synthact(synthact)["swap"]
    names = ["abseiling", "air drumming", "bowling", "yoga", "zumba", "juggling balls"]
    rename = dict(zip(swap.classes, names, strict=False))
    records = [
        dataclasses.replace(
            r,
            label=rename[r.label],
            label_id=None,
            extras={**r.extras, "background_label": rename[r.extras["background_label"]]},
        )
        for r in swap.records
    ]
    data = Manifest(records, names, name="swap").with_classes(names)
    llm = FirstOption()
    metrics = run_audit(llm, data, tmp_path / "k400", protocol="mcq", progress=False)
    config = json.loads((tmp_path / "k400" / "config.json").read_text())
    assert config["label_space"]["name"] == "kinetics400"
    assert config["classes"] == kinetics400_classes()
    shown = {name for choices in llm.shown for name in choices}
    outside = shown - set(names)
    assert len(outside) > 20  # 3 distractors per question from the 394 other classes
    assert metrics["videos"] == len(records)
    # the same questions when drawn up front (what a sweep does)
    path = write_questions(data, tmp_path / "q.jsonl")
    assert load_questions(path) == load_questions(tmp_path / "k400" / "questions.jsonl")
    # --label-space dataset: every choice is one of the subset's classes
    own = FirstOption()
    run_audit(own, data, tmp_path / "own", protocol="mcq", progress=False, label_space="dataset")
    assert {name for choices in own.shown for name in choices} <= set(names)
    with pytest.raises(BadInputError, match="own 6 classes"):
        run_audit(
            str(tiny_checkpoint(tmp_path / "c.ckpt", names, "slow_tiny")),
            data,
            tmp_path / "clf",
            progress=False,
            label_space="kinetics400",
        )
