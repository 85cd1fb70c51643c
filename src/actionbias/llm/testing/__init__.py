"""A local OpenAI-compatible chat server that misbehaves on purpose.

`FakeOpenAIServer` is a real HTTP server on 127.0.0.1 (a free port, in a
background thread) that speaks `POST /v1/chat/completions` and
`GET /v1/models` in OpenAI's JSON shapes. It answers with a Python function of
the request and injects the failures real endpoints produce (429 with
Retry-After, 500, 503, replies slower than the client's timeout, invalid JSON,
empty `choices`, dropped connections) at a configured rate, so code that talks
to vLLM, Ollama or OpenAI can be tested end to end, offline, in well under a
second. It records every request, for counting calls (a cache test) and for
checking what was sent (images as data URLs, logprob settings).

It is a test utility shipped with the library so tests anywhere (and users'
own tests) can import it::

    from actionbias.llm.testing import FakeOpenAIServer

    def answer(request: dict) -> str:          # the request's JSON body
        return "B"

    with FakeOpenAIServer(answer, fault_rate=0.4, seed=0) as server:
        client = ChatClient(server.url, "fake-model", timeout=0.3, sleep=lambda s: None)
        assert client.chat([user_message("A or B?")]).text == "B"
        assert server.count() >= 1

A pytest fixture is three lines in any test module or conftest::

    @pytest.fixture
    def fake_openai():
        with FakeOpenAIServer() as server:
            yield server

Faults are decided per request body: the n-th arrival of a given body gets a
fault drawn from `random.Random(f"{seed}:{digest}:{n}")`, so the fault
sequence each request sees is the same on every run however threads
interleave. `script` overrides this for the first requests, in arrival order.

The package's modules: `server` (the server, its fault draw and its HTTP side),
`reading` (what a handler reads from a request) and `replies` (the OpenAI
shapes the server answers in, and reply builders for handlers).
"""

from __future__ import annotations

from actionbias.llm.testing.reading import (
    echo_handler,
    last_user_text,
    request_images,
    request_text,
)
from actionbias.llm.testing.replies import letter_reply
from actionbias.llm.testing.server import (
    ALL_FAULTS,
    ANY,
    FAST_CLIENT,
    TRANSIENT_FAULTS,
    FakeHTTPError,
    FakeOpenAIServer,
    Handler,
    RecordedRequest,
)

__all__ = [
    "ALL_FAULTS",
    "ANY",
    "FAST_CLIENT",
    "TRANSIENT_FAULTS",
    "FakeHTTPError",
    "FakeOpenAIServer",
    "Handler",
    "RecordedRequest",
    "echo_handler",
    "last_user_text",
    "letter_reply",
    "request_images",
    "request_text",
]
