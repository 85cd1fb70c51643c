"""ChatClient end to end against the fake server: faults, retries, errors, concurrency, stats."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest

from actionbias.errors import BadInputError
from actionbias.llm import ChatClient, FakeHTTPError, LLMError, user_message
from actionbias.llm.testing import TRANSIENT_FAULTS, last_user_text

REASON_OF_FAULT = {
    "429": "http_429",
    "500": "http_500",
    "503": "http_503",
    "slow": "timeout",
    "malformed": "malformed",
    "empty": "malformed",
    "drop": "connection",
}


def answer_handler(request: dict) -> str:
    return "answer to " + last_user_text(request)


def prompts(n: int) -> list[list[dict]]:
    return [[user_message(f"question {i}")] for i in range(n)]


def test_high_fault_rate_all_results_correct(fake_server, make_client):
    server = fake_server(answer_handler, fault_rate=0.4, seed=3, slow_seconds=3.0)
    client = make_client(server, max_retries=10)
    results = client.chat_many(prompts(30))

    assert [r.text for r in results] == [f"answer to question {i}" for i in range(30)]
    faults = server.fault_counts()
    assert sum(faults.values()) >= 6  # ~40 % of the requests failed ...
    assert len(faults) >= 4  # ... in several different ways
    # Every request the server saw was made by the client, and each retry was for a fault.
    stats = client.stats
    assert stats.requests == server.count() == sum(r.attempts for r in results)
    assert stats.total_retries == server.count() - 30 == sum(faults.values())
    expected = Counter()
    for fault, n in faults.items():
        expected[REASON_OF_FAULT[fault]] += n
    assert stats.retries == expected
    assert stats.failures == 0
    assert stats.calls == 30


@pytest.mark.parametrize("fault", TRANSIENT_FAULTS)
def test_each_transient_fault_is_retried(fault, fake_server, make_client, sleeps):
    server = fake_server(answer_handler, script=[fault, fault], slow_seconds=3.0)
    client = make_client(server, timeout=0.25)
    start = time.monotonic()
    result = client.chat([user_message("q")])
    assert result.text == "answer to q"
    assert result.attempts == 3
    assert server.count() == 3
    assert [r.fault for r in server.chat_requests()] == [fault, fault, None]
    assert dict(client.stats.retries) == {REASON_OF_FAULT[fault]: 2}
    assert len(sleeps.calls) == 2
    assert time.monotonic() - start < 2.0  # a slow reply costs the timeout, not the server's delay


def test_retries_are_bounded_then_llm_error(fake_server, make_client, sleeps):
    server = fake_server(answer_handler, script=["503"] * 10)
    client = make_client(server, max_retries=3)
    with pytest.raises(LLMError) as info:
        client.chat([user_message("q")])
    err = info.value
    assert err.reason == "http_503" and err.status == 503 and err.retryable
    assert err.attempts == 4
    assert "gave up after 4 attempts" in str(err) and "fake-model" in str(err)
    assert "\n" not in str(err)
    assert server.count() == 4
    assert len(sleeps.calls) == 3
    assert client.stats.failures == 1 and client.stats.failures_by_reason == {"http_503": 1}


def test_max_retries_zero_makes_one_request(fake_server, make_client, sleeps):
    server = fake_server(answer_handler, script=["500"])
    client = make_client(server, max_retries=0)
    with pytest.raises(LLMError, match="gave up after 1 attempts"):
        client.chat([user_message("q")])
    assert server.count() == 1 and sleeps.calls == []


def test_malformed_replies_exhausted_raise_llm_error(fake_server, make_client):
    server = fake_server(answer_handler, script=["malformed", "empty", "malformed"])
    client = make_client(server, max_retries=2)
    with pytest.raises(LLMError) as info:
        client.chat([user_message("q")])
    assert info.value.reason == "malformed" and info.value.status is None
    assert "not JSON" in str(info.value)


def test_backoff_grows_exponentially_with_full_jitter(fake_server, make_client, sleeps):
    server = fake_server(answer_handler, script=["500"] * 6)
    client = make_client(server, max_retries=6, backoff=(0.5, 4.0))
    client.chat([user_message("q")])
    assert len(sleeps.calls) == 6
    for n, wait in enumerate(sleeps.calls):
        assert 0.0 <= wait <= min(4.0, 0.5 * 2**n)
    assert len(set(sleeps.calls)) == 6  # jittered, not a fixed ladder


def test_backoff_is_reproducible_with_a_seed(fake_server, make_client, sleeps):
    waits = []
    for _ in range(2):
        server = fake_server(answer_handler, script=["500"] * 3)
        client = make_client(server, jitter_seed=42)
        sleeps.calls.clear()
        client.chat([user_message("q")])
        waits.append(list(sleeps.calls))
    assert waits[0] == waits[1]


def test_retry_after_is_honoured_up_to_the_cap(fake_server, make_client, sleeps):
    server = fake_server(answer_handler, script=["429"], retry_after=3.0)
    client = make_client(server, backoff=(0.01, 0.01), max_retry_after=10.0)
    client.chat([user_message("q")])
    assert sleeps.calls == [pytest.approx(3.0)]

    sleeps.calls.clear()
    server = fake_server(answer_handler, script=["429"], retry_after=30.0)
    client = make_client(server, backoff=(0.01, 0.01), max_retry_after=1.5)
    client.chat([user_message("q")])
    assert sleeps.calls == [pytest.approx(1.5)]


@pytest.mark.parametrize(
    ("fault", "hint"),
    [("400", "bad request"), ("401", "ACTIONBIAS_TEST_NO_KEY is not set"), ("404", "base_url")],
)
def test_client_errors_fail_at_once(fault, hint, fake_server, make_client, sleeps):
    server = fake_server(answer_handler, script=[fault])
    client = make_client(server)
    with pytest.raises(LLMError) as info:
        client.chat([user_message("q")])
    assert info.value.status == int(fault) and not info.value.retryable
    assert info.value.attempts == 1
    assert hint in str(info.value)
    assert server.count() == 1 and sleeps.calls == []


def test_408_409_and_5xx_are_retried_other_4xx_not(fake_server, make_client):
    calls = {"n": 0}

    def handler(request: dict) -> str:
        calls["n"] += 1
        status = {1: 408, 2: 409, 3: 502}.get(calls["n"])
        if status:
            raise FakeHTTPError(status, f"transient {status}")
        return "ok"

    server = fake_server(handler)
    client = make_client(server)
    assert client.chat([user_message("q")]).text == "ok"
    assert dict(client.stats.retries) == {"http_408": 1, "http_409": 1, "http_502": 1}

    def unprocessable(request: dict) -> str:
        raise FakeHTTPError(422, "unprocessable")

    server = fake_server(unprocessable)
    client = make_client(server)
    with pytest.raises(LLMError, match="http_422: unprocessable"):
        client.chat([user_message("q")])
    assert server.count() == 1


def test_connection_refused_is_retried_then_fails(fake_server, make_client, sleeps):
    server = fake_server()
    url = server.url
    server.stop()
    client = ChatClient(url, "m", max_retries=2, timeout=0.3, sleep=sleeps, api_key_env=None)
    with pytest.raises(LLMError) as info:
        client.chat([user_message("q")])
    assert info.value.reason == "connection" and info.value.attempts == 3
    assert len(sleeps.calls) == 2
    client.close()


def test_chat_many_honours_concurrency_and_keeps_order(fake_server, make_client):
    def handler(request: dict) -> str:
        i = int(last_user_text(request).split()[-1])
        time.sleep(0.005 * (12 - i))  # later items finish first
        return str(i)

    server = fake_server(handler, latency=0.03)
    client = make_client(server, concurrency=3)
    finished = []
    results = client.chat_many(prompts(12), on_result=lambda i, r: finished.append(i))
    assert [r.text for r in results] == [str(i) for i in range(12)]
    assert 2 <= server.max_in_flight <= 3  # parallel, and never more than allowed
    assert sorted(finished) == list(range(12)) and finished != list(range(12))

    server = fake_server(handler, latency=0.01)
    client = make_client(server, concurrency=1)
    client.chat_many(prompts(4))
    assert server.max_in_flight == 1


def test_concurrency_limit_is_shared_by_threads_calling_chat(fake_server, make_client):
    server = fake_server(answer_handler, latency=0.03)
    client = make_client(server, concurrency=2)
    threads = [
        threading.Thread(target=client.chat_many, args=(prompts(4),), kwargs={"temperature": t})
        for t in (0.1, 0.2, 0.3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.count() == 12 and server.max_in_flight <= 2


def item_three_fails(request: dict) -> str:
    text = last_user_text(request)
    if text.endswith(" 3"):
        raise FakeHTTPError(400, "item three is bad")
    return "answer to " + text


def test_chat_many_failure_raises_after_the_others_finish(fake_server, make_client):
    server = fake_server(item_three_fails)
    client = make_client(server)
    with pytest.raises(LLMError) as info:
        client.chat_many(prompts(8))
    assert "1 of 8 requests failed; first (item 3)" in str(info.value)
    assert "item three is bad" in str(info.value)
    assert info.value.status == 400
    assert server.count() == 8  # every other item was still answered


def test_chat_many_return_exceptions_puts_the_error_in_its_slot(fake_server, make_client):
    server = fake_server(item_three_fails, fault_rate=0.3, seed=1)
    client = make_client(server)
    seen = {}
    results = client.chat_many(
        prompts(8), return_exceptions=True, on_result=lambda i, r: seen.setdefault(i, r)
    )
    assert isinstance(results[3], LLMError) and results[3].status == 400
    assert [r.text for i, r in enumerate(results) if i != 3] == [
        f"answer to question {i}" for i in range(8) if i != 3
    ]
    assert seen == dict(enumerate(results))
    assert client.stats.failures == 1


def test_chat_many_stops_queued_work_when_the_callback_fails(fake_server, make_client):
    server = fake_server(answer_handler, latency=0.02)
    client = make_client(server, concurrency=1)

    def callback(index: int, result) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        client.chat_many(prompts(20), on_result=callback)
    assert server.count() < 20


def test_bad_messages_are_rejected_before_any_request(fake_server, make_client):
    server = fake_server()
    client = make_client(server)
    with pytest.raises(ValueError, match=r"messages\[0\]\.role"):
        client.chat([{"role": "wizard", "content": "hi"}])
    with pytest.raises(ValueError, match=r"requests\[1\]: messages: empty list"):
        client.chat_many([[user_message("a")], []])
    with pytest.raises(ValueError, match="top_logprobs"):
        client.chat([user_message("a")], top_logprobs=50)
    assert server.count() == 0


def test_stats_count_tokens_time_and_cost(fake_server, make_client):
    server = fake_server(answer_handler, fault_rate=0.3, seed=5, faults=("429", "500"))
    client = make_client(server, prices={"fake-model": (2.0, 10.0)})
    results = client.chat_many(prompts(10))
    stats = client.stats
    assert stats.prompt_tokens == sum(r.prompt_tokens for r in results) > 0
    assert stats.completion_tokens == sum(r.completion_tokens for r in results) > 0
    expected = (stats.prompt_tokens * 2.0 + stats.completion_tokens * 10.0) / 1e6
    assert stats.estimated_cost_usd == pytest.approx(expected)
    data = stats.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["requests"] == server.count() and data["calls"] == 10
    assert data["wall_seconds"] > 0 and data["request_seconds"] > 0
    assert "10 calls" in stats.summary()

    other = make_client(server, prices={"another-model": (1.0, 1.0)})
    other.chat([user_message("x")])
    assert other.stats.estimated_cost_usd is None


def test_max_tokens_field_and_sampling_params_reach_the_server(fake_server, make_client):
    server = fake_server(answer_handler)
    client = make_client(server)
    client.chat(
        [user_message("q")],
        temperature=0.7,
        max_tokens=5,
        top_p=0.9,
        stop=["\n"],
        seed=11,
        extra_body={"guided_choice": ["A", "B"]},
    )
    body = server.chat_requests()[-1].body
    assert body["max_tokens"] == 5 and body["temperature"] == 0.7 and body["top_p"] == 0.9
    assert body["stop"] == ["\n"] and body["seed"] == 11 and body["guided_choice"] == ["A", "B"]
    assert "logprobs" not in body and "sample_index" not in body

    client = make_client(server, token_limit_param="max_completion_tokens")
    client.chat([user_message("q")], max_tokens=5)
    body = server.chat_requests()[-1].body
    assert body["max_completion_tokens"] == 5 and "max_tokens" not in body


def test_list_models(fake_server, make_client):
    server = fake_server(models=("a-model", "b-model"))
    assert make_client(server).list_models() == ["a-model", "b-model"]


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"base_url": "localhost:8000/v1"}, "base_url"),
        ({"base_url": "ftp://host/v1"}, "base_url"),
        ({"model": " "}, "model"),
        ({"timeout": 0}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"concurrency": 0}, "concurrency"),
        ({"token_limit_param": "max_new_tokens"}, "token_limit_param"),
    ],
)
def test_unusable_settings_are_one_line_bad_input_errors(kwargs, where):
    options = {"base_url": "http://127.0.0.1:8000/v1", "model": "m", **kwargs}
    with pytest.raises(BadInputError) as info:
        ChatClient(options.pop("base_url"), options.pop("model"), **options)
    assert info.value.where == where and "\n" not in str(info.value)
