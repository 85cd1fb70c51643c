"""Class descriptions: the paper's THUMOS14 set, loading, LLM generation with cache, mismatching."""

from __future__ import annotations

import json

import pytest

from actionbias.errors import BadInputError
from actionbias.tal.language import descriptions as D

THUMOS14 = [
    "BaseballPitch", "BasketballDunk", "Billiards", "CleanAndJerk", "CliffDiving",
    "CricketBowling", "CricketShot", "Diving", "FrisbeeCatch", "GolfSwing", "HammerThrow",
    "HighJump", "JavelinThrow", "LongJump", "PoleVault", "Shotput", "SoccerPenalty",
    "TennisSwing", "ThrowDiscus", "VolleyballSpiking",
]  # fmt: skip


def test_all_twenty_thumos14_classes_have_the_papers_descriptions():
    desc = D.thumos14_descriptions()
    assert sorted(desc) == sorted(THUMOS14)
    assert all(len(text.split()) >= 10 for text in desc.values())
    assert desc["LongJump"].startswith("The individual begins running along the track")
    assert "forcefully pushed through the basket" in desc["BasketballDunk"]
    assert "BasketballDunk" in D.DESCRIPTION_PROMPT


def test_mismatched_descriptions_is_a_deterministic_derangement():
    texts = [f"d{i}" for i in range(20)]
    for seed in range(10):
        out = D.mismatched_descriptions(texts, seed=seed)
        assert sorted(out) == sorted(texts)
        assert all(a != b for a, b in zip(out, texts, strict=True))
    assert D.mismatched_descriptions(texts, 3) == D.mismatched_descriptions(texts, 3)
    assert D.mismatched_descriptions(texts, 3) != D.mismatched_descriptions(texts, 4)
    assert D.mismatched_descriptions(["a", "b"]) == ["b", "a"]
    with pytest.raises(ValueError):
        D.mismatched_descriptions(["a"])


def test_clean_description_strips_echoed_class_name_and_quotes():
    reply = '  **HighJump**: "The athlete runs\n to the bar and lands on the mat."  '
    assert (
        D.clean_description("HighJump", reply)
        == "The athlete runs to the bar and lands on the mat."
    )
    with pytest.raises(ValueError, match="empty"):
        D.clean_description("HighJump", "HighJump:  ")
    with pytest.raises(ValueError, match="characters"):
        D.clean_description("X", "word " * 400)


def test_load_descriptions_json_yaml_and_bad_input(tmp_path):
    good = tmp_path / "d.yaml"
    good.write_text("Jump: The person jumps.\nWave: The person waves.\n")
    assert D.load_descriptions(good) == {"Jump": "The person jumps.", "Wave": "The person waves."}
    wrapped = tmp_path / "d.json"
    wrapped.write_text(json.dumps({"descriptions": {"A": "x  y"}}))
    assert D.load_descriptions(wrapped) == {"A": "x y"}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"A": ""}))
    with pytest.raises(BadInputError, match=r"bad\.json:field A"):
        D.load_descriptions(bad)
    with pytest.raises(BadInputError, match="mapping"):
        (tmp_path / "list.yaml").write_text("- a\n- b\n")
        D.load_descriptions(tmp_path / "list.yaml")
    with pytest.raises(BadInputError, match="cannot read"):
        D.load_descriptions(tmp_path / "missing.json")


def test_generate_uses_known_descriptions_then_llm_and_caches(tmp_path):
    from actionbias.llm import ChatClient
    from actionbias.llm.testing import FakeOpenAIServer

    def answer(request: dict) -> str:
        prompt = request["messages"][-1]["content"]
        name = prompt.rsplit("\n", 1)[-1].rstrip(":")
        return f"{name}: The figure starts {name.lower()} and ends at rest."

    cache = tmp_path / "desc.json"
    with FakeOpenAIServer(answer) as server:
        client = ChatClient(server.url, "fake", api_key_env=None, sleep=lambda s: None)
        out = D.generate_descriptions(["Wave", "LongJump", "Squat"], client, cache_path=cache)
        assert server.count() == 2  # LongJump comes from the paper
        assert out["Wave"] == "The figure starts wave and ends at rest."
        assert out["LongJump"] == D.thumos14_descriptions()["LongJump"]
        assert list(out) == ["Wave", "LongJump", "Squat"]
        assert D.load_descriptions(cache)["Squat"].startswith("The figure starts squat")
        again = D.generate_descriptions(["Squat", "Wave"], client, cache_path=cache)
        assert server.count() == 2  # all cached
        assert again == {"Squat": out["Squat"], "Wave": out["Wave"]}
        sent = server.chat_requests()[0].body["messages"][-1]["content"]
        assert sent.startswith(D.DESCRIPTION_PROMPT)
    with pytest.raises(ValueError, match="no LLM client"):
        D.generate_descriptions(["Unknown"], None)


def test_instruction_and_proposal_templates():
    text = D.instruction_text(["A", "B"], ["does a.", "does b."])
    assert text.startswith(D.INSTRUCTION_PROMPT) and text.endswith("A: does a. B: does b.")
    sentence = D.proposals_text([[30.2, 40.0], [3.0, 9.6]], [1, 0], ["Jump", "Wave"])
    assert sentence == "Jump from 3 to 10. Wave from 30 to 40."
    assert D.proposals_text([], [], ["Jump"]) == "No action."
    assert D.descriptions_for(["B", "A"], {"A": "a", "B": "b"}) == ["b", "a"]
    with pytest.raises(ValueError, match="'C'"):
        D.descriptions_for(["C"], {"A": "a"})
