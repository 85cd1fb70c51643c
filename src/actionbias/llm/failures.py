"""What went wrong with one request, classified and said without secrets.

The client's retry loop needs three facts about a failed attempt: a short
reason tag, whether another attempt can help, and a one-line detail it may log.
Server text is untrusted and may echo the API key back (some servers put the
bearer token into their 401 message), so every detail passes a scrubber that
knows the key before it reaches a log line or an exception.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from actionbias.llm.result import MalformedReply
from actionbias.llm.retry import is_retryable_status, parse_retry_after

_BEARER = re.compile(r"(?i)(bearer\s+)\S+")
DETAIL_LIMIT = 300


@dataclass(frozen=True)
class Failure:
    """One failed attempt, classified."""

    reason: str
    retryable: bool
    detail: str
    status: int | None = None
    retry_after: float | None = None


def classify(
    exc: BaseException, openai: Any, timeout: float, scrub: Callable[[str], str]
) -> Failure | None:
    """Reason, retryability and a scrubbed one-line detail; None for unexpected errors.

    ``openai`` is the SDK module (its exception types), ``timeout`` the client's
    request timeout (named in the detail of a timeout).
    """
    if isinstance(exc, MalformedReply):
        return Failure("malformed", True, scrub(str(exc)))
    if isinstance(exc, openai.APITimeoutError):
        return Failure("timeout", True, f"no reply within {timeout:g} s")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        detail = f"{type(cause).__name__}: {cause}" if cause is not None else str(exc)
        return Failure("connection", True, scrub(one_line(detail)))
    if isinstance(exc, openai.APIStatusError):
        status = int(exc.status_code)
        return Failure(
            reason=f"http_{status}",
            retryable=is_retryable_status(status),
            detail=scrub(status_detail(exc)),
            status=status,
            retry_after=parse_retry_after(exc.response.headers),
        )
    return None


def one_line(text: str, limit: int = DETAIL_LIMIT) -> str:
    """``text`` with its white space folded, cut to ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def status_detail(exc: Any) -> str:
    """The server's own message of an HTTP error, else its body, else the status."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        message = body.get("message")
        if isinstance(message, str) and message:
            return one_line(message)
        return one_line(json.dumps(body, ensure_ascii=False, default=str))
    if isinstance(body, str) and body.strip():
        return one_line(body)
    return one_line(getattr(exc, "message", "") or f"HTTP {exc.status_code}")


def make_scrubber(*secrets: str) -> Callable[[str], str]:
    """A function that removes the `secrets` (and any bearer token) from text."""
    kept = tuple(secret for secret in secrets if len(secret) >= 4)

    def scrub(text: str) -> str:
        for secret in kept:
            text = text.replace(secret, "[redacted]")
        return _BEARER.sub(r"\1[redacted]", text)

    return scrub
