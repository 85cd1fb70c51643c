"""Log-probabilities: requested when asked, parsed, and None (not fatal) when a server has none."""

from __future__ import annotations

import math

import pytest

from actionbias.llm import ChatResult, FakeHTTPError, LLMError, TokenLogprob, user_message
from actionbias.llm.result import parse_logprobs

OPTION_REPLY = {
    "content": "B",
    "logprobs": [
        {
            "token": "B",
            "logprob": -0.1,
            "top_logprobs": [
                {"token": "B", "logprob": -0.1},
                {"token": " A", "logprob": -2.5},
                {"token": "A", "logprob": -3.0},
                {"token": "C", "logprob": -4.0},
            ],
        }
    ],
}


def test_logprobs_are_requested_and_parsed(fake_server, make_client):
    server = fake_server(lambda request: OPTION_REPLY)
    client = make_client(server)
    result = client.chat([user_message("A, B or C?")], top_logprobs=3, max_tokens=1)
    body = server.chat_requests()[-1].body
    assert body["logprobs"] is True and body["top_logprobs"] == 3
    assert result.text == "B"
    (first,) = result.logprobs
    assert first.token == "B" and first.logprob == pytest.approx(-0.1)
    assert first.top == (("B", -0.1), (" A", -2.5), ("A", -3.0))  # server cut to 3
    alts = result.first_token_alternatives()
    assert alts["B"] == pytest.approx(-0.1)
    assert alts["A"] == pytest.approx(math.log(math.exp(-2.5) + math.exp(-3.0)))
    assert "C" not in alts


def test_logprobs_without_top_alternatives(fake_server, make_client):
    server = fake_server(lambda request: "two words")
    result = make_client(server).chat([user_message("q")], logprobs=True)
    assert [t.token for t in result.logprobs] == ["two", " words"]
    assert all(t.top == () for t in result.logprobs)
    assert "top_logprobs" not in server.chat_requests()[-1].body


def test_no_logprobs_unless_asked(fake_server, make_client):
    server = fake_server(lambda request: OPTION_REPLY)
    result = make_client(server).chat([user_message("q")])
    assert result.logprobs is None and result.first_token_alternatives() is None
    assert "logprobs" not in server.chat_requests()[-1].body


def test_server_that_ignores_logprobs_gives_none(fake_server, make_client):
    server = fake_server(lambda request: OPTION_REPLY, logprobs="ignore")
    result = make_client(server).chat([user_message("q")], top_logprobs=5)
    assert result.text == "B" and result.logprobs is None


def test_server_that_refuses_logprobs_is_asked_without_them(fake_server, make_client, sleeps):
    server = fake_server(lambda request: OPTION_REPLY, logprobs="refuse")
    client = make_client(server)
    result = client.chat([user_message("q1")], top_logprobs=5)
    assert result.text == "B" and result.logprobs is None
    assert [("logprobs" in r.body) for r in server.chat_requests()] == [True, False]
    assert client.stats.logprobs_refused and client.stats.total_retries == 0 and sleeps.calls == []
    client.chat([user_message("q2")], top_logprobs=5)  # no second refusal
    assert server.count() == 3 and "logprobs" not in server.chat_requests()[-1].body


def test_an_unrelated_400_is_not_blamed_on_logprobs(fake_server, make_client):
    def always_bad(request: dict) -> str:
        raise FakeHTTPError(400, "image too large")

    server = fake_server(always_bad)
    client = make_client(server)
    with pytest.raises(LLMError, match="image too large"):
        client.chat([user_message("q")], logprobs=True)
    assert server.count() == 2  # once with logprobs, once without
    assert not client.stats.logprobs_refused


def test_unreadable_logprobs_are_dropped_not_fatal(fake_server, make_client):
    bad = {"content": "B", "logprobs": [{"token": "B", "logprob": "very likely"}]}
    server = fake_server(lambda request: bad)
    result = make_client(server).chat([user_message("q")], logprobs=True)
    assert result.text == "B" and result.logprobs is None


def test_parse_logprobs_shapes():
    assert parse_logprobs(None) is None
    assert parse_logprobs({"content": None}) is None
    assert parse_logprobs({"content": []}) is None
    parsed = parse_logprobs(
        {"content": [{"token": " A", "logprob": -0.5, "top_logprobs": [{"token": "x"}, 3]}]}
    )
    assert parsed == [TokenLogprob(" A", -0.5, ())]


def test_first_token_alternatives_skips_blank_tokens():
    result = ChatResult(
        text=" A",
        logprobs=[
            TokenLogprob(" ", -0.01, ((" ", -0.01),)),
            TokenLogprob("A", -0.2, (("A", -0.2), ("B", -1.8))),
        ],
    )
    assert result.first_token_alternatives() == {"A": -0.2, "B": -1.8}
    assert result.first_token_alternatives(skip_blank=False) == {"": -0.01}
    raw = TokenLogprob(" A", -0.2, ((" A", -0.2), ("A", -1.0)))
    assert raw.alternatives(normalize=None) == {" A": -0.2, "A": -1.0}
