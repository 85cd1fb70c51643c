"""The disk cache: reruns make no requests, keys separate what differs, failures are not stored."""

from __future__ import annotations

import json

import numpy as np
import pytest

from actionbias.llm import FakeHTTPError, LLMError, ReplyCache, cache_key, endpoint_id, user_message
from actionbias.llm.testing import last_user_text


def answer_handler(request: dict) -> str:
    return "answer to " + last_user_text(request)


def prompts(n: int) -> list[list[dict]]:
    return [[user_message(f"question {i}")] for i in range(n)]


def cache_files(root) -> list:
    return sorted(root.glob("??/??/*.json"))


def test_rerun_makes_no_new_requests(tmp_path, fake_server, make_client):
    server = fake_server(answer_handler, fault_rate=0.4, seed=7)
    first = make_client(server, cache_dir=tmp_path / "cache").chat_many(prompts(12))
    sent = server.count()
    assert sent >= 12 and not any(r.cached for r in first)
    assert len(cache_files(tmp_path / "cache")) == 12

    client = make_client(server, cache_dir=tmp_path / "cache")
    again = client.chat_many(prompts(12))
    assert server.count() == sent  # not a single new request
    assert [r.text for r in again] == [r.text for r in first]
    assert all(r.cached and r.attempts == 0 for r in again)
    assert [r.usage for r in again] == [r.usage for r in first]
    stats = client.stats.to_dict()
    assert stats["cache_hits"] == 12 and stats["requests"] == 0 and stats["prompt_tokens"] == 0


def test_cache_files_are_sharded_json_with_no_messages_payload(tmp_path, fake_server, make_client):
    server = fake_server(answer_handler)
    frames = np.full((2, 32, 32, 3), 200, np.uint8)
    client = make_client(server, cache_dir=tmp_path)
    client.chat([user_message("look", frames)], max_tokens=3)
    (path,) = cache_files(tmp_path)
    key = path.stem
    assert path.parent.name == key[2:4] and path.parent.parent.name == key[:2]
    entry = json.loads(path.read_text())
    assert entry["key"] == key and entry["model"] == "fake-model"
    assert entry["endpoint"] == endpoint_id(server.url)
    assert entry["params"] == {"temperature": 0.0, "max_tokens": 3, "sample_index": 0}
    assert entry["prompt"] == "user: <image_url> <image_url> look"
    assert entry["reply"]["choices"][0]["message"]["content"] == "answer to look"
    assert "base64" not in path.read_text()  # the images are hashed, not stored


@pytest.mark.parametrize(
    "change",
    [
        {"temperature": 0.5},
        {"max_tokens": 7},
        {"logprobs": True},
        {"top_logprobs": 2},
        {"seed": 3},
        {"stop": ["."]},
        {"sample_index": 1},
        {"extra_body": {"guided_choice": ["A"]}},
    ],
)
def test_every_sampling_parameter_is_in_the_key(change, tmp_path, fake_server, make_client):
    server = fake_server(answer_handler)
    client = make_client(server, cache_dir=tmp_path)
    client.chat([user_message("q")])
    client.chat([user_message("q")])
    assert server.count() == 1
    client.chat([user_message("q")], **change)
    assert server.count() == 2
    client.chat([user_message("q")], **change)
    assert server.count() == 2


def test_key_separates_model_endpoint_and_messages_but_not_the_api_key():
    messages = [user_message("q")]
    base = cache_key("h:1/v1", "m", messages, {"temperature": 0.0})
    assert base != cache_key("h:2/v1", "m", messages, {"temperature": 0.0})
    assert base != cache_key("h:1/v1", "m2", messages, {"temperature": 0.0})
    assert base != cache_key("h:1/v1", "m", [user_message("q2")], {"temperature": 0.0})
    assert base == cache_key("h:1/v1", "m", messages, {"temperature": 0.0, "seed": None})
    # Scheme and credentials in the URL do not change the endpoint id.
    assert endpoint_id("http://user:pw@h:1/v1/") == endpoint_id("https://h:1/v1") == "h:1/v1"


def test_changing_the_api_key_keeps_the_cache(tmp_path, fake_server, make_client, monkeypatch):
    server = fake_server(answer_handler)
    monkeypatch.setenv("ACTIONBIAS_TEST_KEY", "key-one-aaaaaaaa")
    make_client(server, cache_dir=tmp_path, api_key_env="ACTIONBIAS_TEST_KEY").chat_many(prompts(3))
    monkeypatch.setenv("ACTIONBIAS_TEST_KEY", "key-two-bbbbbbbb")
    make_client(server, cache_dir=tmp_path, api_key_env="ACTIONBIAS_TEST_KEY").chat_many(prompts(3))
    assert server.count() == 3


def test_temperature_samples_are_cached_per_sample_index(tmp_path, fake_server, make_client):
    counter = iter(range(100))
    server = fake_server(lambda request: f"sample {next(counter)}")
    client = make_client(server, cache_dir=tmp_path)
    messages = [user_message("write a prompt")]
    first = client.chat_many([messages] * 3, temperature=0.9, sample_indices=[0, 1, 2])
    assert server.count() == 3 and len({r.text for r in first}) == 3
    again = client.chat_many([messages] * 3, temperature=0.9, sample_indices=[0, 1, 2])
    assert server.count() == 3 and [r.text for r in again] == [r.text for r in first]
    client.chat(messages, temperature=0.9, sample_index=3)
    assert server.count() == 4


def test_identical_concurrent_calls_make_one_request(tmp_path, fake_server, make_client):
    server = fake_server(answer_handler, latency=0.05)
    client = make_client(server, cache_dir=tmp_path, concurrency=4)
    results = client.chat_many([[user_message("same")]] * 6)
    assert server.count() == 1
    assert sum(r.cached for r in results) == 5 and {r.text for r in results} == {"answer to same"}

    no_cache = make_client(server, concurrency=4)
    no_cache.chat_many([[user_message("same")]] * 3)
    assert server.count() == 4


def test_failures_are_not_cached(tmp_path, fake_server, make_client):
    calls = {"n": 0}

    def flaky(request: dict) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise FakeHTTPError(400, "rejected once")
        return "fine"

    server = fake_server(flaky)
    client = make_client(server, cache_dir=tmp_path)
    with pytest.raises(LLMError):
        client.chat([user_message("q")])
    assert cache_files(tmp_path) == []
    assert client.chat([user_message("q")]).text == "fine"
    assert len(cache_files(tmp_path)) == 1 and server.count() == 2


def test_unreadable_cache_entries_are_refetched(tmp_path, fake_server, make_client, caplog):
    server = fake_server(answer_handler)
    client = make_client(server, cache_dir=tmp_path)
    client.chat_many(prompts(3))
    broken, wrong_shape, _intact = cache_files(tmp_path)
    broken.write_text('{"format": "actionbias.llm.ca')
    wrong_shape.write_text(json.dumps({"format": "actionbias.llm.cache/1", "key": "x"}))
    results = make_client(server, cache_dir=tmp_path).chat_many(prompts(3))
    assert server.count() == 5
    assert sum(r.cached for r in results) == 1
    assert "calling the server again" in caplog.text
    assert ReplyCache(tmp_path).get(broken.stem) is not None  # rewritten


def test_use_cache_false_refreshes_the_entry(tmp_path, fake_server, make_client):
    counter = iter(range(100))
    server = fake_server(lambda request: f"reply {next(counter)}")
    client = make_client(server, cache_dir=tmp_path)
    assert client.chat([user_message("q")]).text == "reply 0"
    assert client.chat([user_message("q")], use_cache=False).text == "reply 1"
    assert client.chat([user_message("q")]).text == "reply 1"
    assert server.count() == 2


def test_cache_namespace_survives_a_moved_server(tmp_path, fake_server, make_client):
    old = fake_server(answer_handler)
    make_client(old, cache_dir=tmp_path, cache_namespace="my-vllm").chat_many(prompts(2))
    new = fake_server(answer_handler)
    make_client(new, cache_dir=tmp_path, cache_namespace="my-vllm").chat_many(prompts(2))
    assert new.count() == 0
    make_client(new, cache_dir=tmp_path).chat_many(prompts(2))  # endpoint in the key: new port
    assert new.count() == 2
