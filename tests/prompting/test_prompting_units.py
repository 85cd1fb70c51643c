"""Objective parsing, the seeded split, the meta-prompt and reading optimiser replies."""

from __future__ import annotations

import json

import pytest

from actionbias.data import Manifest, VideoRecord
from actionbias.errors import BadInputError
from actionbias.prompting import Objective, Tried, make_split, meta_prompt, parse_proposal
from actionbias.prompting.optimizer import ProposalError, format_history, normalise
from actionbias.prompting.splits import load_or_make_split


@pytest.mark.parametrize(
    ("text", "weights", "shown"),
    [
        ("shacc - sberr", (1.0, -1.0), "SHAcc - SBErr"),
        ("SHAcc-SBErr", (1.0, -1.0), "SHAcc - SBErr"),
        ("shacc", (1.0, 0.0), "SHAcc"),
        ("-sberr", (0.0, -1.0), "-SBErr"),
        ("2*shacc - 0.5 sberr", (2.0, -0.5), "2*SHAcc - 0.5*SBErr"),
    ],
)
def test_objective_parse(text, weights, shown):
    objective = Objective.parse(text)
    assert (objective.w_shacc, objective.w_sberr) == weights
    assert objective.describe() == shown
    assert Objective.parse(shown) == objective
    assert objective(0.5, 0.25) == pytest.approx(weights[0] * 0.5 + weights[1] * 0.25)


@pytest.mark.parametrize("text", ["", "accuracy", "shacc sberr", "shacc - sberr + x", "0*shacc"])
def test_objective_rejects_junk(text):
    with pytest.raises(BadInputError, match="--objective"):
        Objective.parse(text)


def test_split_is_seeded_stratified_and_disjoint():
    ids = [f"v{i:02d}" for i in range(40)]
    labels = [f"class{i % 5}" for i in range(40)]
    split = make_split(ids, labels, 0.25, seed=7)
    assert split == make_split(ids, labels, 0.25, seed=7)
    assert split != make_split(ids, labels, 0.25, seed=8)
    assert len(split.tune) == 10 and len(split.heldout) == 30
    assert sorted(split.tune + split.heldout) == ids
    per_class = {c: sum(labels[ids.index(v)] == c for v in split.tune) for c in set(labels)}
    assert set(per_class.values()) == {2}  # every class gives its 25 %
    assert list(split.tune) == sorted(split.tune)  # kept in the data's order


def test_split_edge_cases():
    tiny = make_split(["a", "b"], ["x", "x"], 0.25, 0)
    assert len(tiny.tune) == 1 and len(tiny.heldout) == 1
    with pytest.raises(BadInputError, match="--tune-fraction"):
        make_split(["a", "b"], ["x", "y"], 1.0, 0)
    with pytest.raises(BadInputError, match="at least 2"):
        make_split(["a"], ["x"], 0.25, 0)


def _manifest(n: int) -> Manifest:
    records = [
        VideoRecord(id=f"v{i}", path=f"/v{i}.mp4", label=f"c{i % 2}", label_id=i % 2)
        for i in range(n)
    ]
    return Manifest(records, ["c0", "c1"], name="swap")


def test_split_is_stored_and_refused_when_settings_change(tmp_path):
    path = tmp_path / "split.json"
    first = load_or_make_split(path, _manifest(12), 0.25, 3)
    assert json.loads(path.read_text())["tune"] == list(first.tune)
    assert load_or_make_split(path, _manifest(12), 0.25, 3) == first
    with pytest.raises(BadInputError, match=r"fraction 0\.25 and seed 3"):
        load_or_make_split(path, _manifest(12), 0.25, 4)
    with pytest.raises(BadInputError, match="does not have"):
        load_or_make_split(path, _manifest(4), 0.25, 3)
    with pytest.raises(BadInputError, match="the stored split lacks"):
        load_or_make_split(path, _manifest(13), 0.25, 3)
    path.write_text("{not json")
    with pytest.raises(BadInputError, match="unreadable split"):
        load_or_make_split(path, _manifest(12), 0.25, 3)


def test_meta_prompt_sorts_ascending_and_keeps_the_best_k():
    tried = [
        Tried("Second best.", 0.40, 0.30, 0.10),
        Tried("Worst.", 0.20, 0.60, -0.40),
        Tried("Best?", 0.50, 0.20, 0.30),
        Tried("Middle.", 0.30, 0.30, 0.00),
    ]
    text = meta_prompt(tried, Objective(), top_k=3, answer_instruction="Answer with a letter.")
    order = [
        line.removeprefix("Instruction: ") for line in text.splitlines() if "Instruction:" in line
    ]
    assert order == ["Middle.", "Second best.", "Best?"]  # ascending, worst one dropped
    assert "SHAcc: 50.00%, SBErr: 20.00%, score: 30.00" in text
    assert "SHAcc - SBErr" in text and "Answer with a letter." in text
    assert text.rstrip().endswith("on one line, and write nothing else.")
    assert "PROMPT:" in text
    assert format_history([], Objective(), 5) == ""


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            "PROMPT: Ignore the scene. What is the person doing?",
            "Ignore the scene. What is the person doing?",
        ),
        (
            'Here you go.\n**PROMPT:** "Watch the body. What action?"\n\nWhy: ...',
            "Watch the body. What action?",
        ),
        ("prompt: draft one\nPROMPT: final one", "final one"),
        ("PROMPT: a\nsecond line\n\nnotes", "a second line"),
        ("PROMPT: A.  The person\n B. fake option", "A. The person B. fake option"),
    ],
)
def test_parse_proposal_accepts(reply, expected):
    assert parse_proposal(reply, ["What is the action being performed?"]) == expected


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "empty"),
        (None, "empty"),
        ("Ignore the background. What is the person doing?", "no line starting"),
        ("PROMPT:   \n\nmore", "nothing follows"),
        ("PROMPT: " + "word " * 200, "characters"),
        ("PROMPT: ...", "no words"),
        ("PROMPT: what is the ACTION being performed", "already tried"),
    ],
)
def test_parse_proposal_rejects(reply, reason):
    with pytest.raises(ProposalError, match=reason):
        parse_proposal(reply, ["What is the action being performed?"])


def test_paper_prompts():
    from actionbias.prompting.paper import PAPER_AUTOMATED_PROMPTS, PAPER_BEST

    assert len(PAPER_AUTOMATED_PROMPTS) == 20
    assert len({normalise(text) for text, _, _ in PAPER_AUTOMATED_PROMPTS}) == 20
    best = max(PAPER_AUTOMATED_PROMPTS, key=lambda p: Objective()(p[1], p[2]))
    assert best[0] == PAPER_BEST and best[1:] == (46.70, 41.55)
    for text, _, _ in PAPER_AUTOMATED_PROMPTS:
        assert parse_proposal(f"PROMPT: {text}") == text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"iterations": -1}, "--iterations"),
        ({"top_k": 0}, "--top-k"),
        ({"manual_styles": ("neutral", "loud")}, "unknown prompt style"),
        ({"seed_styles": ("prefixed",)}, "cannot seed"),
        ({"manual_styles": ("neutral",), "seed_styles": ("human",)}, "not among the manual"),
        ({"objective": "accuracy"}, "--objective"),
    ],
)
def test_run_prompt_tuning_refuses_bad_settings(tmp_path, options, message):
    from actionbias.prompting import run_prompt_tuning

    with pytest.raises(BadInputError, match=message):
        run_prompt_tuning(object(), object(), tmp_path / "none", tmp_path / "out", **options)
    assert not (tmp_path / "out").exists()
