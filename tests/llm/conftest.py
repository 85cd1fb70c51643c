"""Fixtures for the LLM client tests: a fake OpenAI server and clients that never really sleep."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from actionbias.llm import ChatClient, FakeOpenAIServer
from actionbias.llm.testing import FAST_CLIENT


class SleepRecorder:
    """Injected `sleep`: records the requested waits instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        assert seconds >= 0
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def fake_server() -> Iterator[Callable[..., FakeOpenAIServer]]:
    """Factory: start a FakeOpenAIServer with the given options; all are stopped afterwards."""
    servers: list[FakeOpenAIServer] = []

    def make(*args, **kwargs) -> FakeOpenAIServer:
        server = FakeOpenAIServer(*args, **kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def make_client(sleeps: SleepRecorder) -> Iterator[Callable[..., ChatClient]]:
    """Factory: a ChatClient for a server, short timeout, recorded (not real) sleeps."""
    clients: list[ChatClient] = []

    def make(server: FakeOpenAIServer, **kwargs) -> ChatClient:
        options = {
            **FAST_CLIENT,
            "sleep": sleeps,
            "api_key_env": "ACTIONBIAS_TEST_NO_KEY",
            **kwargs,
        }
        client = ChatClient(server.url, "fake-model", **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
