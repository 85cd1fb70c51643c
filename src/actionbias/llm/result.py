"""Chat replies: the parsed result type and the parser of the raw JSON body.

The parser is strict about what the caller needs (a first choice with a text
message) and lenient about the rest (usage, logprobs), because servers differ:
a reply without `choices` is broken and worth retrying, while a server that
omits logprobs has simply not got them, and the caller falls back to text.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field


class MalformedReply(Exception):
    """The HTTP exchange succeeded but the body is not a usable chat completion."""


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token, its log-probability and the server's top alternatives."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()

    def alternatives(self, normalize: Callable[[str], str] | None = str.strip) -> dict[str, float]:
        """Top alternatives (the token itself included) as {token: logprob}.

        Tokenisers spell one answer several ways (" A", "A", "A."); with a
        `normalize` function the variants that map to the same key are merged
        by adding their probabilities, which is the probability of the answer.
        """
        merged: dict[str, float] = {}
        seen: set[str] = set()
        for token, logprob in ((self.token, self.logprob), *self.top):
            if token in seen:  # the chosen token is usually listed in `top` as well
                continue
            seen.add(token)
            key = normalize(token) if normalize else token
            old = merged.get(key)
            merged[key] = logprob if old is None else _logaddexp(old, logprob)
        return merged

    def to_dict(self) -> dict:
        return {
            "token": self.token,
            "logprob": self.logprob,
            "top_logprobs": [{"token": t, "logprob": lp} for t, lp in self.top],
        }


@dataclass(frozen=True)
class ChatResult:
    """The first choice of a chat completion.

    `logprobs` is None when they were not requested or the server gave none.
    `cached` says the result came from the on-disk cache (no request was made);
    `attempts` counts the HTTP requests this call made (0 when cached).
    """

    text: str
    logprobs: list[TokenLogprob] | None = None
    usage: dict[str, int] = field(default_factory=dict)
    cached: bool = False
    finish_reason: str | None = None
    model: str | None = None
    refusal: str | None = None
    attempts: int = 0

    @property
    def prompt_tokens(self) -> int:
        return int(self.usage.get("prompt_tokens", 0))

    @property
    def completion_tokens(self) -> int:
        return int(self.usage.get("completion_tokens", 0))

    def first_token_alternatives(
        self, normalize: Callable[[str], str] | None = str.strip, skip_blank: bool = True
    ) -> dict[str, float] | None:
        """{token: logprob} at the first (non-blank) generated position, or None without logprobs.

        What a multiple-choice reader needs: the log-probability of each option
        letter as the answer's first token.
        """
        if not self.logprobs:
            return None
        for entry in self.logprobs:
            if skip_blank and not entry.token.strip():
                continue
            return entry.alternatives(normalize)
        return None


def _logaddexp(a: float, b: float) -> float:
    top = max(a, b)
    if top == -math.inf:
        return top
    return top + math.log(math.exp(a - top) + math.exp(b - top))


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) or value == -math.inf else None


def parse_logprobs(raw: object) -> list[TokenLogprob] | None:
    """`choices[0].logprobs` (OpenAI shape) as TokenLogprobs; None when absent or unreadable."""
    if not isinstance(raw, dict):
        return None
    content = raw.get("content")
    if not isinstance(content, list) or not content:
        return None
    out = []
    for item in content:
        if not isinstance(item, dict) or not isinstance(item.get("token"), str):
            return None
        logprob = _number(item.get("logprob"))
        if logprob is None:
            return None
        top = []
        for alt in item.get("top_logprobs") or ():
            if isinstance(alt, dict) and isinstance(alt.get("token"), str):
                alt_lp = _number(alt.get("logprob"))
                if alt_lp is not None:
                    top.append((alt["token"], alt_lp))
        out.append(TokenLogprob(item["token"], logprob, tuple(top)))
    return out


def parse_usage(raw: object) -> dict[str, int]:
    if not isinstance(raw, dict):
        return {}
    usage = {}
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        value = raw.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            usage[key] = value
    return usage


def _content_text(content: object) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # some servers answer with a list of text parts
        texts = [p.get("text") for p in content if isinstance(p, dict)]
        if texts and all(isinstance(t, str) for t in texts):
            return "".join(texts)
    return None


def parse_reply(body: object, *, cached: bool = False, attempts: int = 0) -> ChatResult:
    """A ChatResult from a decoded chat-completion body; MalformedReply if it is not one."""
    if not isinstance(body, dict):
        raise MalformedReply(f"reply is a JSON {type(body).__name__}, not an object")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            raise MalformedReply(f"reply has no choices; error: {error['message'][:200]}")
        raise MalformedReply("reply has no choices")
    choice = choices[0]
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise MalformedReply("reply's first choice has no message")
    text = _content_text(message.get("content"))
    refusal = message.get("refusal") if isinstance(message.get("refusal"), str) else None
    if text is None:
        if refusal is None:
            raise MalformedReply("reply's message has no text content")
        text = ""
    finish = choice.get("finish_reason")
    model = body.get("model")
    return ChatResult(
        text=text,
        logprobs=parse_logprobs(choice.get("logprobs")),
        usage=parse_usage(body.get("usage")),
        cached=cached,
        finish_reason=finish if isinstance(finish, str) else None,
        model=model if isinstance(model, str) else None,
        refusal=refusal,
        attempts=attempts,
    )
