"""A local InternVL3 (tiny, random weights) answering MCQs by log-probabilities or text."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from actionbias.audit.runner import run_audit
from actionbias.audit.scorers import LocalVLMAnswerer

sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
import hf_tiny


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
