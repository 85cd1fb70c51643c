from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from actionbias.audit import read_predictions, read_run
from actionbias.audit.runner import load_audit_data, run_audit
from actionbias.audit.scorers import CallableScorer, LocalVLMAnswerer
from actionbias.data import Manifest, VideoRecord
from actionbias.errors import BadInputError
from actionbias.metrics import load_questions
from actionbias.synth import read_synthact
from actionbias.video import read_clip


def border_colour(clip: np.ndarray, width: int = 4) -> np.ndarray:
    """Mean RGB of a clip's frame border: the scene, never the (central) person."""
    parts = [clip[:, :width], clip[:, -width:], clip[:, :, :width], clip[:, :, -width:]]
    return np.concatenate([p.reshape(-1, 3) for p in parts]).mean(axis=0)


def scene_prototypes(root: Path) -> tuple[list[str], np.ndarray]:
    manifests = read_synthact(root)
    classes = manifests["train"].classes
    colours: dict[int, list[np.ndarray]] = {}
    for split in ("train", "val"):
        for record in manifests[split]:
            clip = read_clip(record.path, num_frames=4).frames
            colours.setdefault(record.label_id, []).append(border_colour(clip))
    return classes, np.stack([np.mean(colours[c], axis=0) for c in range(len(classes))])


def scene_cheat(root: Path, name: str = "scene-cheat") -> CallableScorer:
    """A scene-only baseline: the class whose home scene colour is nearest the border's."""
    classes, prototypes = scene_prototypes(root)

    def predict(clips: list[np.ndarray]) -> np.ndarray:
        borders = np.stack([border_colour(c) for c in clips])
        return -np.linalg.norm(borders[:, None, :] - prototypes[None], axis=2)

    return CallableScorer(predict, classes, name=name)


def _rows(run: Path) -> list[dict]:
    lines = (run / "predictions.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_scene_cheat_shows_background_bias(synthact, tmp_path):
    run = tmp_path / "cheat"
    metrics = run_audit(scene_cheat(synthact), synthact, run, frames=4, progress=False)
    rows = _rows(run)
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


class FakeSceneVLM:
    """A local "VLM" for tests: picks the option whose scene colour is nearest the clip's.

    Speaks InternVLChat's interface (generate / option_logprobs) and reads the options
    from the prompt, as a real model would; every 4th reply is unusable text.
    """

    def __init__(self, root: Path) -> None:
        self.classes, self.prototypes = scene_prototypes(root)
        self.calls = 0

    def _options(self, prompt: str) -> list[tuple[str, str]]:
        lines = prompt.splitlines()[1:]
        return [(line[0], line[3:]) for line in lines if len(line) > 3 and line[1:3] == ". "]

    def _pick(self, frames: np.ndarray, prompt: str) -> tuple[str, str]:
        options = self._options(prompt)
        names = [c.replace("_", " ") for c in self.classes]
        border = border_colour(frames)
        distance = [np.linalg.norm(border - self.prototypes[names.index(t)]) for _, t in options]
        return options[int(np.argmin(distance))]

    def generate(self, frames: np.ndarray, prompt: str, max_new_tokens: int = 16) -> str:
        self.calls += 1
        if self.calls % 4 == 0:
            return "I cannot tell from these frames."
        letter, text = self._pick(frames, prompt)
        return f"The answer is {letter}) {text}"

    def option_logprobs(self, frames: np.ndarray, prompt: str, options: list[str]):
        letter, _ = self._pick(frames, prompt)
        return {o: (-0.1 if o == letter else -3.0) for o in options}


def test_mcq_questions_stored_and_reused_by_two_models(synthact, tmp_path):
    first, second, third = tmp_path / "cheat", tmp_path / "vlm", tmp_path / "vlm-lp"
    m1 = run_audit(scene_cheat(synthact), synthact, first, protocol="mcq", seed=3, progress=False)
    stored = first / "questions.jsonl"
    questions = {q.id: q for q in load_questions(stored)}
    assert len(questions) == 60
    rows = _rows(first)
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
    rows2 = {r["id"]: r for r in _rows(second)}
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
    rows3 = {r["id"]: r for r in _rows(third)}
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


def test_vlm_answerer_needs_mcq_protocol(synthact, tmp_path):
    answerer = LocalVLMAnswerer(FakeSceneVLM(synthact), spec={"type": "vlm-local", "id": "x"})
    with pytest.raises(BadInputError, match="--protocol mcq"):
        run_audit(answerer, synthact, tmp_path / "run", progress=False)


def _tiny_checkpoint(path: Path, classes: list[str], model: str) -> Path:
    import lightning as L

    from actionbias.train.config import DataConfig
    from actionbias.train.module import ClassifierModule
    from actionbias.train.runner import PREPROCESSING

    data = dataclasses.asdict(DataConfig(short_side=64, crop_size=64, num_frames=4))
    preprocessing = {k: data[k] for k in PREPROCESSING}
    options = {} if model.startswith("slow_") else {"backbone": "slow_tiny"}
    module = ClassifierModule(model, classes, model_options=options, data=preprocessing)
    trainer = L.Trainer(
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    trainer.strategy.connect(module)
    trainer.save_checkpoint(path)
    return path


def test_classifier_checkpoint_with_masks_matches_train_evaluate(synthact, tmp_path):
    from actionbias.train import evaluate

    swap = read_synthact(synthact)["swap"]
    classes = swap.classes
    subset = swap[:10]
    checkpoint = _tiny_checkpoint(tmp_path / "dual.ckpt", classes, "dual_sum")
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


def test_load_audit_data_forms(synthact, tmp_path):
    data = load_audit_data(synthact, ["swap"])
    assert [g for g, _ in data.groups] == ["swap"] and len(data.classes) == 6
    csv_data = load_audit_data(synthact / "annotations" / "mimetic.csv", root=synthact / "videos")
    assert [g for g, _ in csv_data.groups] == ["mimetic"]
    assert csv_data.groups[0][1].missing_media() == []
    plain = load_audit_data(synthact / "annotations" / "test.csv", root=synthact / "videos")
    assert [g for g, _ in plain.groups] == ["test"]
    with pytest.raises(BadInputError, match="no split 'nope'"):
        load_audit_data(synthact, ["nope"])
    with pytest.raises(BadInputError, match="not found"):
        load_audit_data(tmp_path / "missing")


def test_load_audit_data_from_named_manifests(synthact):
    """A mapping of groups is taken as given (e.g. a held-out half of the swap split)."""
    splits = read_synthact(synthact)
    half = Manifest(splits["swap"].records[::2], splits["swap"].classes, name="swap")
    data = load_audit_data({"test": splits["test"], "swap": half})
    assert [g for g, _ in data.groups] == ["test", "swap"]
    assert len(data.groups[1][1]) == len(half) and data.info["records"]["swap"] == len(half)
    other = Manifest(splits["test"].records, list(reversed(splits["test"].classes)))
    with pytest.raises(BadInputError, match="another class list"):
        load_audit_data({"test": splits["test"], "odd": other})


def test_checkpoint_is_audited_on_its_own_class_list(synthact, tmp_path, capsys):
    """A Kinetics-style CSV with no class list beside it is read in the checkpoint's classes."""
    from actionbias.cli import main

    classes = list(reversed(read_synthact(synthact)["test"].classes))  # not alphabetical
    checkpoint = _tiny_checkpoint(tmp_path / "slow.ckpt", classes, "slow_tiny")
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
    rows = _rows(tmp_path / "run")
    assert len(rows) == 3 and all(row["label"] in classes for row in rows)
    # --classes still wins: a list without the data's labels is a one-line error.
    other = tmp_path / "other.txt"
    other.write_text("\n".join(classes[1:]) + "\n")
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "run2"), "--classes", str(other)]) == 2
    assert "test.csv:line" in capsys.readouterr().err


def test_swap_rows_carry_their_sources_and_person_flag(synthact, tmp_path):
    swap = read_synthact(synthact)["swap"]
    records = [
        dataclasses.replace(r, extras={**r.extras, "has_person": "0" if i < 2 else "1"})
        for i, r in enumerate(swap.records)
    ]
    manifest = Manifest(records, swap.classes, name="swap", source=swap.source)
    metrics = run_audit(scene_cheat(synthact), manifest, tmp_path / "run", progress=False)
    rows = {row["id"]: row for row in _rows(tmp_path / "run")}
    for i, record in enumerate(records):
        row = rows[record.id]
        assert row["human_clip"] == record.extras["human_clip"]
        assert row["background_clip"] == record.extras["background_clip"]
        assert row["has_person"] is (i >= 2)
    group = metrics["summary"]["groups"]["swap"]
    assert group["n"] == len(records) - 2 and group["no_person"]["n"] == 2
    kept = records[2:]
    repeats = [
        key
        for key in ("human_clip", "background_clip")
        if len({r.extras[key] for r in kept}) < len(kept)
    ]
    assert group["resampling"]["unit"] == (" x ".join(repeats) or "video")
    assert group["swap"]["sberr"]["unit"] == group["resampling"]["unit"]
    bad = [dataclasses.replace(records[0], extras={**records[0].extras, "has_person": "?"})]
    with pytest.raises(BadInputError, match="has_person"):
        run_audit(
            scene_cheat(synthact),
            Manifest(bad, swap.classes, name="swap"),
            tmp_path / "bad",
            progress=False,
        )


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
    from actionbias.audit.runner import write_questions
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
            str(_tiny_checkpoint(tmp_path / "c.ckpt", names, "slow_tiny")),
            data,
            tmp_path / "clf",
            progress=False,
            label_space="kinetics400",
        )
