"""The API key never leaves the HTTP header: not in logs, errors, cache files, stats or repr."""

from __future__ import annotations

import hashlib
import json
import logging
import traceback

import pytest

from actionbias.llm import ChatClient, LLMError, user_message

SECRET = "sk-actionbias-TOPSECRET-8d41c07f9e2b"
WRONG = "sk-actionbias-WRONGKEY-51a9be03c6d7"


def everything_written(cache_root) -> str:
    return "\n".join(p.read_text(errors="replace") for p in cache_root.rglob("*") if p.is_file())


def test_key_hygiene_under_faults_and_errors(tmp_path, fake_server, sleeps, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("ACTIONBIAS_SECRET_KEY", SECRET)
    server = fake_server(
        lambda request: "fine", api_key=SECRET, fault_rate=0.5, seed=2, slow_seconds=3.0
    )
    client = ChatClient(
        server.url,
        "fake-model",
        api_key_env="ACTIONBIAS_SECRET_KEY",
        timeout=0.3,
        max_retries=12,
        cache_dir=tmp_path / "cache",
        sleep=sleeps,
    )
    results = client.chat_many(
        [[user_message(f"q{i}")] for i in range(12)], top_logprobs=2, return_exceptions=True
    )
    assert all(r.text == "fine" for r in results)
    assert client.stats.total_retries > 0
    # The key was really used: the server saw it (it keeps only a hash).
    sent = {r.auth_sha256 for r in server.chat_requests()}
    assert sent == {hashlib.sha256(SECRET.encode()).hexdigest()}

    failures = []
    server.inject("503", "503", "503")
    exhausting = ChatClient(
        server.url,
        "fake-model",
        api_key_env="ACTIONBIAS_SECRET_KEY",
        timeout=0.3,
        max_retries=2,
        sleep=sleeps,
    )
    with pytest.raises(LLMError, match="gave up after 3 attempts") as info:
        exhausting.chat([user_message("will fail")])
    failures.append(info.value)

    # A wrong key that the server echoes back in its 401 message.
    monkeypatch.setenv("ACTIONBIAS_SECRET_KEY", WRONG)
    wrong_client = ChatClient(
        server.url, "fake-model", api_key_env="ACTIONBIAS_SECRET_KEY", timeout=0.3, sleep=sleeps
    )
    with pytest.raises(LLMError) as info:
        wrong_client.chat([user_message("q")])
    failures.append(info.value)
    assert info.value.status == 401 and "[redacted]" in str(info.value)
    assert "ACTIONBIAS_SECRET_KEY was rejected" in str(info.value)
    outcomes = wrong_client.chat_many(
        [[user_message("a")], [user_message("b")]], return_exceptions=True
    )
    failures.extend(outcomes)

    texts = [
        everything_written(tmp_path / "cache"),
        caplog.text,
        "\n".join(str(r.args) + r.getMessage() for r in caplog.records),
        repr(client),
        str(client),
        repr(wrong_client),
        json.dumps(client.stats.to_dict()),
        json.dumps(wrong_client.stats.to_dict()),
        repr(client.stats),
        repr(client.cache),
        *[str(e) for e in failures],
        *[repr(e) for e in failures],
        *["".join(traceback.format_exception(type(e), e, e.__traceback__)) for e in failures],
    ]
    assert any(r.name.startswith("openai") for r in caplog.records)  # SDK debug logs captured
    assert any("retry" in r.getMessage() for r in caplog.records if r.name.startswith("actionbias"))
    for text in texts:
        assert SECRET not in text
        assert WRONG not in text
        assert "TOPSECRET" not in text and "WRONGKEY" not in text
    for exc in failures:
        assert exc.__cause__ is None and exc.__suppress_context__


def test_missing_key_uses_a_placeholder_and_says_so_on_401(fake_server, sleeps, monkeypatch):
    monkeypatch.delenv("ACTIONBIAS_UNSET_KEY", raising=False)
    open_server = fake_server(lambda request: "ok")
    client = ChatClient(open_server.url, "m", api_key_env="ACTIONBIAS_UNSET_KEY", sleep=sleeps)
    assert client.chat([user_message("q")]).text == "ok"  # local servers need no key

    locked = fake_server(lambda request: "ok", api_key="needed-key-123")
    client = ChatClient(locked.url, "m", api_key_env="ACTIONBIAS_UNSET_KEY", sleep=sleeps)
    with pytest.raises(LLMError, match=r"\$ACTIONBIAS_UNSET_KEY is not set"):
        client.chat([user_message("q")])
    assert locked.count() == 1


def test_credentials_in_the_base_url_are_not_shown(sleeps):
    client = ChatClient(
        "http://alice:hunter2pw@127.0.0.1:9/v1", "m", api_key_env=None, sleep=sleeps
    )
    assert "hunter2pw" not in repr(client)
    with pytest.raises(LLMError) as info:
        ChatClient(
            "http://alice:hunter2pw@127.0.0.1:9/v1",
            "m",
            api_key_env=None,
            max_retries=0,
            sleep=sleeps,
        ).chat([user_message("q")])
    assert "hunter2pw" not in str(info.value) and "127.0.0.1:9" in str(info.value)
