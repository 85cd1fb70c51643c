"""The OpenAI shapes a fake server answers in, and reply builders for handlers.

A handler may answer with plain text; `completion_body` turns that into the
chat-completion JSON a real server sends (usage counts, logprobs made up from
the text when asked and not given), so clients parse fake and real replies
through the same code. `letter_reply` builds the answer of a multiple-choice
model whose first token's logprobs favour one letter over another.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from actionbias.llm.testing.reading import request_images, request_text


def fake_tokens(text: str) -> list[str]:
    """Word-level "tokens" with their leading whitespace, like a BPE tokenizer's output."""
    return re.findall(r"\s*\S+|\s+", text) or ([text] if text else [])


def count_prompt_tokens(request: dict) -> int:
    return len(fake_tokens(request_text(request))) + 85 * len(request_images(request))


def letter_reply(letter: str, other: str, logprob: float, other_logprob: float) -> dict[str, Any]:
    """A reply of ``letter`` whose one token's top logprobs rank it above ``other``."""
    top = [{"token": letter, "logprob": logprob}, {"token": other, "logprob": other_logprob}]
    return {
        "content": letter,
        "logprobs": [{"token": letter, "logprob": logprob, "top_logprobs": top}],
    }


def completion_body(
    answer: Any,
    request: dict,
    next_number: Callable[[], int],
    logprobs_mode: str,
    default_model: str,
) -> dict:
    """The chat-completion body for ``answer`` (a handler's str, dict or whole completion).

    ``next_number()`` numbers the reply's id; ``logprobs_mode`` is the server's
    (``serve`` gives logprobs when the request asks for them).
    """
    if isinstance(answer, dict) and "choices" in answer:
        return answer
    if isinstance(answer, str):
        answer = {"content": answer}
    if not isinstance(answer, dict) or not isinstance(answer.get("content"), str):
        raise TypeError(
            f"handler must return a str or a dict with 'content', got {type(answer).__name__}"
        )
    text = answer["content"]
    wants = bool(request.get("logprobs")) or request.get("top_logprobs") is not None
    logprobs = None
    if wants and logprobs_mode == "serve":
        top_n = int(request.get("top_logprobs") or 0)
        entries = answer.get("logprobs")
        if entries is None:
            entries = [
                {"token": tok, "logprob": 0.0, "top_logprobs": [{"token": tok, "logprob": 0.0}]}
                for tok in fake_tokens(text)
            ]
        content = []
        for entry in entries:
            top = [
                {**alt, "bytes": list(alt["token"].encode("utf-8"))}
                for alt in entry.get("top_logprobs", [])[:top_n]
            ]
            content.append(
                {
                    "token": entry["token"],
                    "logprob": entry["logprob"],
                    "bytes": list(entry["token"].encode("utf-8")),
                    "top_logprobs": top,
                }
            )
        logprobs = {"content": content, "refusal": None}
    number = next_number()
    prompt_tokens = count_prompt_tokens(request)
    completion_tokens = len(fake_tokens(text))
    return {
        "id": f"chatcmpl-fake{number:06d}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(request.get("model") or default_model),
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": logprobs,
                "finish_reason": answer.get("finish_reason", "stop"),
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def error_body(message: str, kind: str, code: str | None = None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
