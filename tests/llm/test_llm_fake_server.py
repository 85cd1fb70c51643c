"""The fake server itself: real OpenAI response shapes, seeded faults, request records."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import openai
import pytest
from openai.types.chat import ChatCompletion

from actionbias.llm import ChatClient, FakeOpenAIServer, user_message
from actionbias.llm.testing import ALL_FAULTS, echo_handler


def post(url: str, body: dict) -> tuple[int, dict | str, dict]:
    request = urllib.request.Request(
        url + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            text = reply.read().decode()
            status, headers = reply.status, dict(reply.headers)
    except urllib.error.HTTPError as err:
        with err:
            text, status, headers = err.read().decode(), err.code, dict(err.headers)
    try:
        return status, json.loads(text), headers
    except ValueError:
        return status, text, headers


REQUEST = {"model": "fake-model", "messages": [{"role": "user", "content": "hello there"}]}


def test_reply_validates_against_the_openai_types(fake_server):
    server = fake_server()
    status, body, _ = post(server.url, {**REQUEST, "logprobs": True, "top_logprobs": 1})
    assert status == 200
    completion = ChatCompletion.model_validate(body)
    assert completion.object == "chat.completion" and completion.model == "fake-model"
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and choice.message.content == "hello there"
    assert choice.finish_reason == "stop"
    assert [t.token for t in choice.logprobs.content] == ["hello", " there"]
    assert choice.logprobs.content[0].top_logprobs[0].token == "hello"
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + 2


def test_the_sdk_typed_path_works_against_it(fake_server):
    server = fake_server(lambda request: "typed")
    sdk = openai.OpenAI(base_url=server.url, api_key="x", max_retries=0)
    completion = sdk.chat.completions.create(model="fake-model", messages=REQUEST["messages"])
    assert completion.choices[0].message.content == "typed"
    assert [m.id for m in sdk.models.list().data] == ["fake-model"]
    sdk.close()


@pytest.mark.parametrize("fault", ["429", "500", "503", "400", "401", "404"])
def test_error_faults_have_openai_error_bodies(fault, fake_server):
    server = fake_server(script=[fault], retry_after=2.0)
    status, body, headers = post(server.url, REQUEST)
    assert status == int(fault)
    assert isinstance(body["error"]["message"], str) and body["error"]["type"]
    if fault == "429":
        assert headers["Retry-After"] == "2" and headers["retry-after-ms"] == "2000"


def test_body_faults(fake_server):
    server = fake_server(script=["malformed", "empty", "drop"])
    status, body, _ = post(server.url, REQUEST)
    assert status == 200 and isinstance(body, str)  # not JSON
    status, body, _ = post(server.url, REQUEST)
    assert status == 200 and body["choices"] == []
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        post(server.url, REQUEST)
    assert [r.fault for r in server.chat_requests()] == ["malformed", "empty", "drop"]
    status, body, _ = post(server.url, REQUEST)  # the script is used up
    assert status == 200 and body["choices"][0]["message"]["content"] == "hello there"


def test_faults_are_seeded_per_request_body():
    def fault_sequence(seed: int) -> list:
        with FakeOpenAIServer(fault_rate=0.5, seed=seed, faults=("500", "503")) as server:
            for i in range(10):
                for _ in range(3):
                    post(server.url, {**REQUEST, "messages": [user_message(f"m{i}")]})
            return [r.fault for r in server.chat_requests()]

    first = fault_sequence(1)
    assert first == fault_sequence(1)
    assert first != fault_sequence(2)
    assert 5 <= sum(f is not None for f in first) <= 25


def test_handler_errors_are_recorded(fake_server):
    def broken(request: dict) -> str:
        raise KeyError("oops")

    server = fake_server(broken)
    status, body, _ = post(server.url, REQUEST)
    assert status == 500 and "handler failed" in body["error"]["message"]
    assert server.handler_errors == ["KeyError: 'oops'"]


def test_unknown_routes_and_bad_options(fake_server):
    server = fake_server()
    request = urllib.request.Request(server.url + "/embeddings", data=b"{}")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 404
    info.value.close()
    with pytest.raises(ValueError, match="unknown fault"):
        FakeOpenAIServer(script=["teapot"])
    with pytest.raises(ValueError, match="unknown fault"):
        server.inject("teapot")
    with pytest.raises(ValueError, match="fault_rate"):
        FakeOpenAIServer(fault_rate=1.5)
    assert set(ALL_FAULTS) >= {"429", "500", "503", "slow", "malformed", "empty", "drop"}
    with pytest.raises(RuntimeError, match="not running"):
        FakeOpenAIServer().url  # noqa: B018


def test_records_and_reset(fake_server):
    server = fake_server(echo_handler)
    client = ChatClient(server.url, "fake-model", api_key_env=None)
    client.chat([user_message("one")])
    client.list_models()
    assert [r.method for r in server.requests] == ["POST", "GET"]
    assert server.count() == 1 and server.count(None) == 1 and server.count("500") == 0
    assert server.requests[0].auth_sha256 is not None  # a placeholder key is sent
    server.reset()
    assert server.requests == [] and server.count() == 0
    client.close()


def test_importable_under_the_contract_name():
    from openai_fake import FakeOpenAIServer as Shim

    assert Shim is FakeOpenAIServer
