"""Reading a video LLM's reply: the option letter from log-probabilities, else the text.

Chat clients return tokens and their alternatives in several shapes (OpenAI
objects, plain dicts, `actionbias.llm.TokenLogprob`); everything here accepts
any of them, so each answerer only says where its reply came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from actionbias.audit.mcq_prompt import letter_from_logprobs, parse_answer
from actionbias.audit.scorers.base import MCQReply


def rounded_logprobs(scores: dict[str, Any]) -> dict[str, float]:
    return {str(k): round(float(v), 6) for k, v in scores.items()}


def reply_field(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _candidates(entry: Any) -> list[tuple[str, float]]:
    """The (token, logprob) alternatives of one generated token, whatever the client's shape."""
    top = reply_field(entry, "top_logprobs")
    if top is None:
        top = reply_field(entry, "top")  # actionbias.llm.TokenLogprob
    out: list[tuple[str, float]] = []
    if isinstance(top, dict):
        return [(str(k), float(v)) for k, v in top.items() if v is not None]
    for item in top or []:
        if isinstance(item, (tuple, list)) and len(item) == 2:
            token, logprob = item
        else:
            token, logprob = reply_field(item, "token"), reply_field(item, "logprob")
        if token is not None and logprob is not None:
            out.append((str(token), float(logprob)))
    token, logprob = reply_field(entry, "token"), reply_field(entry, "logprob")
    if token is not None and logprob is not None and all(t != token for t, _ in out):
        out.append((str(token), float(logprob)))
    return out


_DECORATION = re.compile(r"[\W_]")


def read_chat_answer(
    text: str,
    token_logprobs: Sequence[Any] | None,
    letters: str,
    option_texts: Sequence[Sequence[str]],
) -> MCQReply:
    """Answer of one chat completion: letter log-probabilities when usable, else the text.

    The log-probabilities are read at the first generated token that carries
    content (decoration such as "(" or "**" is skipped) when that token is
    itself an option letter and the text does not name a different option
    ("A person is..." starts with the article A). There the answer is the
    valid letter with the highest probability among the returned alternatives.
    """
    parsed = parse_answer(text, letters, option_texts)
    for entry in token_logprobs or []:
        token = str(reply_field(entry, "token") or "")
        content = _DECORATION.sub("", token)
        if not content:
            continue
        if len(content) == 1 and content in letters and parsed in (None, letters.index(content)):
            candidates = _candidates(entry)
            choice = letter_from_logprobs(candidates, letters)
            if choice is not None:
                letter_scores: dict[str, float] = {}
                for tok, lp in candidates:
                    key = _DECORATION.sub("", tok)
                    if len(key) == 1 and key in letters:
                        letter_scores[key] = max(letter_scores.get(key, -np.inf), lp)
                return MCQReply(choice, "logprobs", text, logprobs=rounded_logprobs(letter_scores))
        break
    return MCQReply(parsed, "text" if parsed is not None else "none", text)
