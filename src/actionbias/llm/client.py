"""`ChatClient`: one OpenAI-compatible chat endpoint with retries, a disk cache,
a concurrency limit and accounting.

The `openai` package does the HTTP (so OpenAI, vLLM, Ollama and llama.cpp
servers all work through `base_url`), with its own retries switched off: ours
are bounded, jittered, honour Retry-After with a cap, and also cover replies
that arrive with status 200 but are not a usable completion (invalid JSON, no
choices), which the SDK would hand over as data. Replies are read from the raw
HTTP body rather than the SDK's typed model, so servers that deviate from the
schema in harmless ways (extra fields, missing usage) still work.

The API key is read from the environment once and lives only inside the SDK
client: it is not an attribute of this object, not part of the cache key or
cache files, and every message built from server text is scrubbed of it before
it reaches a log line or an exception. Exceptions are raised `from None` so a
traceback does not carry the SDK's error (and its response body) along.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, NoReturn, ParamSpec, TypeVar
from urllib.parse import urlsplit

from actionbias.errors import BadInputError
from actionbias.llm.cache import ReplyCache, cache_key, endpoint_id, redacted_url
from actionbias.llm.errors import LLMError
from actionbias.llm.failures import Failure, classify, make_scrubber
from actionbias.llm.messages import Message, text_preview, validate_messages
from actionbias.llm.result import ChatResult, MalformedReply, parse_reply
from actionbias.llm.retry import Backoff
from actionbias.llm.stats import ClientStats, PriceTable

log = logging.getLogger(__name__)

# What local servers (vLLM, Ollama, llama.cpp) accept when they check no key.
PLACEHOLDER_KEY = "EMPTY"

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _wall_timed(
    method: Callable[Concatenate[ChatClient, _P], _R],
) -> Callable[Concatenate[ChatClient, _P], _R]:
    """``method`` adding its elapsed time to the client's ``stats.wall_seconds``.

    Only top-level calls count (see `ClientStats`); the undecorated method stays
    reachable as ``__wrapped__`` for callers that time themselves.
    """

    @functools.wraps(method)
    def timed(client: ChatClient, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        start = client._clock()
        try:
            return method(client, *args, **kwargs)
        finally:
            client.stats.add(wall_seconds=client._clock() - start)

    return timed


class ChatClient:
    """Chat completions from one model behind an OpenAI-compatible `base_url`.

    `timeout` bounds each HTTP request (seconds); a call makes at most
    `1 + max_retries` requests, waiting `Backoff(backoff[0], backoff[1])`
    between them (full jitter, seeded by `jitter_seed`; a server's Retry-After
    is honoured up to `max_retry_after`). At most `concurrency` requests are in
    flight at once across all threads using this client. `cache_dir` enables
    the disk cache; `cache_namespace` replaces the endpoint in the cache key,
    for a server that moves (a local vLLM on another port) but serves the same
    model. `prices` maps model -> (USD per 1M prompt tokens, per 1M completion
    tokens) for the cost estimate. `token_limit_param` is the request field
    that carries `max_tokens` (newer OpenAI models want
    "max_completion_tokens"). `sleep` and `clock` are injectable so tests need
    not wait.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str | None = "OPENAI_API_KEY",
        timeout: float = 60.0,
        max_retries: int = 5,
        concurrency: int = 4,
        cache_dir: str | Path | None = None,
        backoff: tuple[float, float] = (0.5, 8.0),
        max_retry_after: float = 60.0,
        jitter_seed: int | None = None,
        prices: PriceTable | None = None,
        cache_namespace: str | None = None,
        token_limit_param: str = "max_tokens",
        default_headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        _check_settings(base_url, model, timeout, max_retries, concurrency, token_limit_param)
        try:
            import openai
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "actionbias.llm.ChatClient needs the openai package: pip install openai"
            ) from exc

        self.base_url = redacted_url(base_url)  # user:password, if any, only reach the SDK
        self.model = model
        self.api_key_env = api_key_env
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.concurrency = int(concurrency)
        self.token_limit_param = token_limit_param
        self.endpoint = endpoint_id(base_url)
        self._cache_endpoint = cache_namespace or self.endpoint
        self.cache = ReplyCache(cache_dir) if cache_dir is not None else None
        self.stats = ClientStats(model=model, prices=prices)
        self._backoff = Backoff(backoff[0], backoff[1], max_retry_after, jitter_seed)
        self._sleep = sleep
        self._clock = clock
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._key_locks: dict[str, list] = {}
        self._key_locks_guard = threading.Lock()
        self._logprobs_supported = True

        key = os.environ.get(api_key_env, "").strip() if api_key_env else ""
        self._key_missing = not key
        if self._key_missing and api_key_env:
            log.debug(
                "%s is not set; sending a placeholder key (fine for local servers)", api_key_env
            )
        # Only the scrubber keeps the key, as a closure variable rather than an attribute.
        self._scrub = make_scrubber(key, urlsplit(base_url).password or "")
        self._openai = openai.OpenAI(
            base_url=base_url,
            api_key=key or PLACEHOLDER_KEY,
            max_retries=0,
            timeout=self.timeout,
            default_headers=dict(default_headers) if default_headers else None,
        )
        self._openai_module = openai

    # ------------------------------------------------------------------ public API

    @_wall_timed
    def chat(
        self,
        messages: Sequence[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        top_p: float | None = None,
        stop: str | list[str] | None = None,
        seed: int | None = None,
        logprobs: bool = False,
        top_logprobs: int | None = None,
        sample_index: int = 0,
        extra_body: Mapping[str, Any] | None = None,
        use_cache: bool = True,
    ) -> ChatResult:
        """The first choice of one chat completion; LLMError once retries are spent.

        `top_logprobs` (0-20) implies `logprobs`. `sample_index` only enters the
        cache key: ask for indices 0..k-1 at temperature > 0 to get k distinct,
        individually cached samples (`seed`, when given, is sent to the server).
        `extra_body` carries server-specific fields (vLLM's `guided_choice`, ...).
        `use_cache=False` skips reading the cache (the fresh reply is still stored).
        """
        messages = validate_messages(messages)
        if top_logprobs is not None:
            if not 0 <= int(top_logprobs) <= 20:
                raise ValueError(f"top_logprobs must be in 0..20, got {top_logprobs}")
            logprobs = True
        params: dict[str, Any] = {
            "temperature": float(temperature),
            "max_tokens": max_tokens,
            "top_p": top_p,
            "stop": stop,
            "seed": seed,
            "logprobs": True if logprobs else None,
            "top_logprobs": int(top_logprobs) if top_logprobs is not None else None,
            "extra_body": dict(extra_body) if extra_body else None,
        }
        params = {k: v for k, v in params.items() if v is not None}
        key = cache_key(
            self._cache_endpoint, self.model, messages, {**params, "sample_index": sample_index}
        )
        self.stats.add(calls=1)
        if self.cache is None:
            return self._fetch(messages, params, key, sample_index)
        with self._key_lock(key):  # identical concurrent calls make one request
            if use_cache:
                hit = self._from_cache(key)
                if hit is not None:
                    return hit
            return self._fetch(messages, params, key, sample_index)

    # What `chat_many` runs per item: it times the whole batch once, as timing each
    # item too would count the overlapping time of concurrent requests again.
    _untimed_chat = chat.__wrapped__

    def chat_many(
        self,
        requests: Sequence[Sequence[Message]],
        *,
        return_exceptions: bool = False,
        on_result: Callable[[int, ChatResult | LLMError], None] | None = None,
        sample_indices: Sequence[int] | None = None,
        **options: Any,
    ) -> list[ChatResult | LLMError]:
        """`chat` over many message lists, `concurrency` at a time; results in input order.

        A failed item does not stop the others. Once all are done, the first
        failure (in input order) is raised as an LLMError that says how many
        failed, unless `return_exceptions` is set, in which case each failed
        slot holds its LLMError. `on_result(index, result_or_error)` is called
        from this thread as each item finishes (in completion order), so callers
        can persist results as they arrive. `options` are `chat`'s keywords,
        shared by every item; `sample_indices` gives each item its own index.
        """
        for name in options:
            if name in ("messages", "sample_index"):
                raise TypeError(f"chat_many: {name!r} is set per item")
        items = []
        for i, messages in enumerate(requests):
            try:
                items.append(validate_messages(messages))
            except ValueError as exc:
                raise ValueError(f"requests[{i}]: {exc}") from None
        if sample_indices is not None and len(sample_indices) != len(items):
            raise ValueError(
                f"sample_indices has {len(sample_indices)} entries for {len(items)} requests"
            )
        results: list[ChatResult | LLMError | None] = [None] * len(items)
        failed: dict[int, LLMError] = {}
        start = self._clock()
        if not items:
            return []
        pool = ThreadPoolExecutor(
            max_workers=min(self.concurrency, len(items)), thread_name_prefix="actionbias-llm"
        )
        try:
            futures: dict[Future, int] = {}
            for i, messages in enumerate(items):
                index = 0 if sample_indices is None else int(sample_indices[i])
                future = pool.submit(self._untimed_chat, messages, sample_index=index, **options)
                futures[future] = i
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    i = futures[future]
                    try:
                        outcome: ChatResult | LLMError = future.result()
                    except LLMError as exc:
                        failed[i] = exc
                        outcome = exc
                    results[i] = outcome
                    if on_result is not None:
                        on_result(i, outcome)
        except BaseException:
            # A bug, a failing callback or Ctrl-C: stop queued work, let running requests end.
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=True)
            self.stats.add(wall_seconds=self._clock() - start)
        if failed and not return_exceptions:
            first = min(failed)
            exc = failed[first]
            raise LLMError(
                f"{len(failed)} of {len(items)} requests failed; first (item {first}): {exc}",
                reason=exc.reason,
                status=exc.status,
                attempts=exc.attempts,
                retryable=exc.retryable,
            ) from None
        return results  # type: ignore[return-value]

    def list_models(self) -> list[str]:
        """Model ids the server offers (GET /models): a cheap check that the endpoint is up."""
        try:
            page = self._openai.models.list()
            return [m.id for m in page.data]
        except Exception as exc:
            failure = self._classify(exc)
            if failure is None:
                raise
            message = f"{self._where()}: listing models failed: {failure.reason}: {failure.detail}"
            raise LLMError(message, reason=failure.reason, status=failure.status) from None

    def close(self) -> None:
        self._openai.close()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        cache = None if self.cache is None else str(self.cache.root)
        return (
            f"ChatClient(base_url={self.base_url!r}, model={self.model!r}, "
            f"api_key_env={self.api_key_env!r}, concurrency={self.concurrency}, "
            f"max_retries={self.max_retries}, timeout={self.timeout}, cache_dir={cache!r})"
        )

    # ------------------------------------------------------------------ one call

    def _from_cache(self, key: str) -> ChatResult | None:
        assert self.cache is not None
        body = self.cache.get(key)
        if body is None:
            return None
        try:
            result = parse_reply(body, cached=True)
        except MalformedReply as exc:
            log.warning("LLM cache entry %s unusable (%s); calling the server again", key[:12], exc)
            return None
        self.stats.add(cache_hits=1)
        return result

    def _fetch(
        self, messages: list[Message], params: dict[str, Any], key: str, sample_index: int
    ) -> ChatResult:
        body, result = self._request_with_retries(messages, params, key)
        if self.cache is not None:
            meta = {
                "endpoint": self._cache_endpoint,
                "model": self.model,
                "params": {**params, "sample_index": sample_index},
                "prompt": self._scrub(text_preview(messages)),
            }
            self.cache.put(key, body, meta)
        return result

    def _wire_request(self, messages: list[Message], params: dict[str, Any]) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.model, "messages": messages}
        for name, value in params.items():
            if name == "max_tokens":
                request[self.token_limit_param] = value
            elif name in ("logprobs", "top_logprobs") and not self._logprobs_supported:
                continue
            else:
                request[name] = value
        return request

    def _request_with_retries(
        self, messages: list[Message], params: dict[str, Any], key: str
    ) -> tuple[dict, ChatResult]:
        request = self._wire_request(messages, params)
        attempts = 0
        retries = 0
        dropped_logprobs = False
        while True:
            attempts += 1
            try:
                body = self._send_once(request)
                result = parse_reply(body, attempts=attempts)
            except Exception as exc:
                failure = self._classify(exc)
                if failure is None:
                    raise
            else:
                self.stats.add(
                    prompt_tokens=result.prompt_tokens, completion_tokens=result.completion_tokens
                )
                if dropped_logprobs and self._logprobs_supported:
                    self._logprobs_supported = False
                    self.stats.logprobs_refused = True
                    log.warning(
                        "%s refuses logprobs; asking without them from now on (answers are then "
                        "read from the text)",
                        self._where(),
                    )
                return body, result

            if failure.status in (400, 422) and "logprobs" in request and not dropped_logprobs:
                # Servers without logprob support reject the field; ask once more without it.
                # Only if that succeeds is the server marked as refusing logprobs.
                log.debug(
                    "request %s: HTTP %s with logprobs; retrying without", key[:12], failure.status
                )
                request = {
                    k: v for k, v in request.items() if k not in ("logprobs", "top_logprobs")
                }
                dropped_logprobs = True
                continue
            if not failure.retryable:
                self._fail(failure, attempts, retries, exhausted=False)
            if retries >= self.max_retries:
                self._fail(failure, attempts, retries, exhausted=True)
            delay = self._backoff.delay(retries, failure.retry_after)
            retries += 1
            self.stats.add_retry(failure.reason)
            log.debug(
                "request %s attempt %d failed (%s: %s); retry %d/%d in %.2f s",
                key[:12],
                attempts,
                failure.reason,
                failure.detail,
                retries,
                self.max_retries,
                delay,
            )
            self._sleep(delay)

    def _send_once(self, request: dict[str, Any]) -> object:
        """One HTTP request; the decoded JSON body, or MalformedReply."""
        with self._slots:
            self.stats.add(requests=1)
            start = self._clock()
            try:
                raw = self._openai.chat.completions.with_raw_response.create(**request)
                text = raw.http_response.text
            finally:
                self.stats.add(request_seconds=self._clock() - start)
        try:
            return json.loads(text)
        except ValueError:
            preview = " ".join(text[:80].split())
            raise MalformedReply(f"reply body is not JSON: {preview!r}") from None

    # ------------------------------------------------------------------ failures

    def _classify(self, exc: BaseException) -> Failure | None:
        return classify(exc, self._openai_module, self.timeout, self._scrub)

    def _fail(self, failure: Failure, attempts: int, retries: int, *, exhausted: bool) -> NoReturn:
        if exhausted:
            message = (
                f"{self._where()}: gave up after {attempts} attempts ({retries} retries); "
                f"last error {failure.reason}: {failure.detail}"
            )
        else:
            message = f"{self._where()}: {failure.reason}: {failure.detail}{self._hint(failure)}"
        message = self._scrub(message)
        self.stats.add_failure(failure.reason)
        log.warning("%s", message)
        raise LLMError(
            message,
            reason=failure.reason,
            status=failure.status,
            attempts=attempts,
            retryable=failure.retryable,
        ) from None

    def _hint(self, failure: Failure) -> str:
        if failure.status in (401, 403):
            if not self.api_key_env:
                return " (this client sends no API key: set api_key_env)"
            state = "is not set" if self._key_missing else "was rejected"
            return f" (the API key from ${self.api_key_env} {state})"
        if failure.status == 404:
            return " (check base_url and the model name)"
        return ""

    def _where(self) -> str:
        return f"model {self.model!r} at {self.base_url}"

    @contextmanager
    def _key_lock(self, key: str) -> Iterator[None]:
        with self._key_locks_guard:
            entry = self._key_locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._key_locks_guard:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._key_locks[key]


def _check_settings(
    base_url: object,
    model: object,
    timeout: float,
    max_retries: int,
    concurrency: int,
    token_limit_param: str,
) -> None:
    """Reject unusable settings up front (they usually come from a config file or the CLI)."""
    parts = urlsplit(base_url) if isinstance(base_url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        shown = redacted_url(base_url) if isinstance(base_url, str) else base_url
        raise BadInputError(
            f"expected an http(s) URL such as http://127.0.0.1:8000/v1, got {shown!r}",
            where="base_url",
        )
    if not isinstance(model, str) or not model.strip():
        raise BadInputError("expected the name of a model the server serves", where="model")
    if not timeout > 0:
        raise BadInputError(f"must be > 0 seconds, got {timeout}", where="timeout")
    if max_retries < 0:
        raise BadInputError(f"must be >= 0, got {max_retries}", where="max_retries")
    if concurrency < 1:
        raise BadInputError(f"must be >= 1, got {concurrency}", where="concurrency")
    if token_limit_param not in ("max_tokens", "max_completion_tokens"):
        raise BadInputError(
            f"must be 'max_tokens' or 'max_completion_tokens', got {token_limit_param!r}",
            where="token_limit_param",
        )
