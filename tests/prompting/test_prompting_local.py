"""A local VLM (`LocalVLMAnswerer`, as for InternVL3) scores prompts; only the optimiser is HTTP."""

from __future__ import annotations

import pytest
from prompting_fakes import FRAMES, FakeLocalChat, FakeOptimizer, expected_score

from actionbias.audit.mcq_prompt import MCQPrompt
from actionbias.audit.scorers import LocalVLMAnswerer
from actionbias.llm import ChatClient, FakeOpenAIServer
from actionbias.prompting import Optimizer, instruction_prompt, run_prompt_tuning, with_prompt


def test_with_prompt_shares_the_model():
    chat = object()
    base = LocalVLMAnswerer(chat, MCQPrompt(), mode="text", max_new_tokens=7, spec={"id": "m"})
    view = with_prompt(base, instruction_prompt("Look at the person. What is it?"))
    assert view.chat is chat and view.mode == "text" and view.max_new_tokens == 7
    assert view.spec["prompt"]["question"] == "Look at the person. What is it?"
    assert base.prompt == MCQPrompt()
    with pytest.raises(TypeError, match="cannot take another prompt"):
        with_prompt(object(), MCQPrompt())


def test_tuning_with_a_local_scorer(synthact, tmp_path):
    chat = FakeLocalChat(synthact, FRAMES)
    answerer = LocalVLMAnswerer(chat, spec={"type": "vlm-local", "id": "fake-internvl"})
    with FakeOpenAIServer(FakeOptimizer(empty_first=set(), unformatted_first={1})) as server:
        client = ChatClient(
            server.url,
            "fake-optimizer",
            api_key_env="ACTIONBIAS_TEST_NO_KEY",
            cache_dir=tmp_path / "cache",
            sleep=lambda s: None,
        )
        result = run_prompt_tuning(
            answerer,
            Optimizer(client),
            synthact,
            tmp_path / "tune",
            iterations=2,
            frames=FRAMES,
            limit=16,
            tune_fraction=0.5,
            manual_styles=("neutral", "human", "background"),
            n_boot=20,
        )
    assert len(result.split.tune) == 8 and len(result.split.heldout) == 8
    assert [s["status"] for s in result.steps] == ["ok", "ok"]
    for record in (*result.manual, *result.automated):
        for part in ("tune", "heldout"):
            ids = list(getattr(result.split, part))
            shacc, sberr, none = expected_score(record.instruction, ids)
            score = getattr(record, part)
            assert (score.shacc, score.sberr, score.no_answer) == (
                pytest.approx(shacc),
                pytest.approx(sberr),
                none,
            )
    assert chat.calls == 5 * 16  # every prompt, every video, once
