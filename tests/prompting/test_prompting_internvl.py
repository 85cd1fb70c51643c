"""The local path end to end: a real tiny InternVL3 (random weights) loaded from a folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from prompting_fakes import FRAMES, FakeOptimizer

from actionbias.audit.scorers import LocalVLMAnswerer
from actionbias.llm import ChatClient, FakeOpenAIServer
from actionbias.prompting import Optimizer, build_answerer, run_prompt_tuning

sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
import hf_tiny


@pytest.mark.slow  # ~15 s, mostly building the tiny model (fast twin: test_prompting_local)
def test_prompt_tuning_with_a_local_internvl(synthact, tmp_path):
    tiny = hf_tiny.tiny_internvl(seed=0)
    hf_tiny.favour_letters(tiny.model, tiny.tokenizer)
    folder = tiny.save(tmp_path / "tiny-internvl")
    answerer = build_answerer(f"internvl:{folder}", frames=FRAMES, device="cpu")
    assert isinstance(answerer, LocalVLMAnswerer)
    with FakeOpenAIServer(FakeOptimizer(empty_first=set(), unformatted_first=set())) as server:
        client = ChatClient(server.url, "fake-optimizer", api_key_env="ACTIONBIAS_TEST_NO_KEY")
        result = run_prompt_tuning(
            answerer,
            Optimizer(client),
            synthact,
            tmp_path / "tune",
            iterations=1,
            frames=FRAMES,
            limit=4,
            manual_styles=("neutral", "human"),
            seed_styles=("neutral", "human"),
            n_boot=20,
        )
    records = [*result.manual, *result.automated]
    assert len(records) == 3
    for record in records:
        for part, n in (("tune", 1), ("heldout", 3)):
            score = getattr(record, part)
            assert score.n == n and score.no_answer == 0
            assert 0.0 <= score.shacc + score.sberr <= 1.0
            run = tmp_path / "tune" / "prompts" / record.key / part
            config = json.loads((run / "config.json").read_text())
            assert config["model"]["prompt"]["question"] == record.instruction
            metrics = json.loads((run / "metrics.json").read_text())
            assert metrics["answer_sources"] == {"logprobs": n}
    assert result.config["model"]["type"] == "vlm-local"
