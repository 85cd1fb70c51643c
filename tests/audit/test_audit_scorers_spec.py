"""``--model`` strings -> model specs (`actionbias.audit.scorers.spec`)."""

from __future__ import annotations

import pytest

from actionbias.audit.scorers import parse_model_string
from actionbias.errors import BadInputError


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
