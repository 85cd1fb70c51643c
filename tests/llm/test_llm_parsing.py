"""Reply parsing, Retry-After parsing and the backoff law, without a server."""

from __future__ import annotations

import email.utils

import pytest

from actionbias.llm import Backoff, LLMError, parse_reply, parse_retry_after
from actionbias.llm.result import MalformedReply
from actionbias.llm.retry import is_retryable_status


def completion(**message) -> dict:
    return {
        "id": "x",
        "object": "chat.completion",
        "model": "m-2024",
        "choices": [
            {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
    }


def test_parse_a_normal_reply():
    result = parse_reply(completion(content="Answer: B"))
    assert result.text == "Answer: B" and result.finish_reason == "stop"
    assert result.model == "m-2024" and result.prompt_tokens == 12 and result.completion_tokens == 3
    assert result.logprobs is None and not result.cached


def test_parse_tolerates_missing_usage_and_list_content():
    body = completion(content=[{"type": "text", "text": "a"}, {"type": "text", "text": "b"}])
    del body["usage"]
    result = parse_reply(body)
    assert result.text == "ab" and result.usage == {} and result.prompt_tokens == 0


def test_a_refusal_is_a_reply_not_a_malformed_one():
    result = parse_reply(completion(content=None, refusal="I can't help with that."))
    assert result.text == "" and result.refusal == "I can't help with that."


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ([1, 2], "not an object"),
        ({"choices": []}, "no choices"),
        ({"object": "chat.completion"}, "no choices"),
        ({"error": {"message": "overloaded"}}, "overloaded"),
        ({"choices": [{"index": 0}]}, "no message"),
        ({"choices": ["text"]}, "no message"),
        (completion(content=None), "no text content"),
        (completion(content=42), "no text content"),
    ],
)
def test_malformed_bodies(body, match):
    with pytest.raises(MalformedReply, match=match):
        parse_reply(body)


def test_retry_after_forms():
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after": "0.5", "retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after": "-3"}) == 0.0
    assert parse_retry_after({}) is None and parse_retry_after(None) is None
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=1_000_000) == pytest.approx(30.0)


def test_backoff_law():
    backoff = Backoff(base=1.0, cap=5.0, max_retry_after=20.0, seed=0)
    for retry in range(8):
        for _ in range(50):
            assert 0.0 <= backoff.delay(retry) <= min(5.0, 2.0**retry)
    assert backoff.delay(0, retry_after=7.0) == 7.0  # server's wait beats ours
    assert backoff.delay(0, retry_after=100.0) == 20.0  # but is capped
    assert Backoff(seed=3).delay(2) == Backoff(seed=3).delay(2)
    with pytest.raises(ValueError):
        Backoff(base=-1.0)


def test_retryable_statuses():
    assert all(is_retryable_status(s) for s in (408, 409, 429, 500, 502, 503, 504))
    assert not any(is_retryable_status(s) for s in (400, 401, 403, 404, 413, 422))


def test_llm_error_is_one_line_and_picklable():
    import pickle

    err = LLMError("first line\nsecond", reason="http_500", status=500, attempts=3, retryable=True)
    assert str(err) == "first line second"
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.reason, copy.status, copy.attempts, copy.retryable) == ("http_500", 500, 3, True)
    assert str(copy) == str(err)
