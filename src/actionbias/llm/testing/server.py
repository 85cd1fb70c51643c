"""`FakeOpenAIServer`: the fault-injecting chat server and its HTTP side.

See `actionbias.llm.testing` for what it is for and how to use it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from actionbias.llm.testing.reading import echo_handler, request_images, request_text
from actionbias.llm.testing.replies import completion_body, error_body

log = logging.getLogger(__name__)

# Faults drawn at random (the transient kinds a client must survive).
TRANSIENT_FAULTS = ("429", "500", "503", "slow", "malformed", "empty", "drop")
# Every fault the server can produce; the extra ones fail for good and are meant for `script`.
ALL_FAULTS = (*TRANSIENT_FAULTS, "400", "401", "404")

#: ChatClient settings for tests against a faulty fake server: a "slow" fault (2 s)
#: times out quickly, and enough seeded retries get through a 35 % fault rate.
FAST_CLIENT: dict[str, Any] = {"timeout": 0.3, "max_retries": 8, "concurrency": 4, "jitter_seed": 0}

Handler = Callable[[dict], "str | dict"]
ANY: Any = object()  # `count()` default: every request, whatever its fault


class FakeHTTPError(Exception):
    """Raise from a handler to answer one request with an HTTP error (e.g. a 400 for one item)."""

    def __init__(self, status: int, message: str = "error (fake)", headers: dict | None = None):
        super().__init__(message)
        self.status = int(status)
        self.message = message
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it.

    `body` is the decoded JSON (None when it was not JSON); `fault` the fault
    injected in reply (None for a normal reply). The Authorization header is
    kept only as the SHA-256 of its bearer token (`auth_sha256`), so a test
    can check which key arrived without the key being stored anywhere.
    """

    method: str
    path: str
    body: dict | None
    fault: str | None
    auth_sha256: str | None
    time: float

    @property
    def text(self) -> str:
        return request_text(self.body or {})

    @property
    def images(self) -> list[str]:
        return request_images(self.body or {})


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class FakeOpenAIServer:
    """A local OpenAI-compatible chat server with seeded fault injection.

    handler: function of the request JSON returning the reply text, or a dict
        {"content": str, "logprobs": [{"token", "logprob", "top_logprobs": [...]}] | None,
        "finish_reason": str} for control over logprobs, or a complete
        chat-completion dict (has "choices"), sent verbatim.
    fault_rate, faults, seed: probability that a request gets a fault, the
        kinds drawn from (uniformly) and the seed of the draw.
    script: faults for the first chat requests in arrival order (None entries
        mean a normal reply); the random draw applies after it runs out.
    slow_seconds: how long a "slow" reply waits (set it above the client's timeout).
    retry_after: seconds sent in Retry-After (and retry-after-ms) with a 429.
    logprobs: "serve" (give logprobs when asked; made up from the reply text if
        the handler has none), "ignore" (never send them) or "refuse" (HTTP 400
        when a request asks for them, like servers without support).
    api_key: when set, requests without this bearer token get 401, with the
        token they sent echoed in the error message (as some servers do), to
        test that clients scrub it.
    latency: seconds every chat reply takes (to make concurrency observable).

    The handler runs on the server's request threads, possibly several at once.
    """

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        fault_rate: float = 0.0,
        faults: Sequence[str] = TRANSIENT_FAULTS,
        seed: int = 0,
        script: Iterable[str | None] = (),
        slow_seconds: float = 2.0,
        retry_after: float = 0.05,
        models: Sequence[str] = ("fake-model",),
        logprobs: str = "serve",
        api_key: str | None = None,
        latency: float = 0.0,
    ):
        if not 0.0 <= fault_rate <= 1.0:
            raise ValueError(f"fault_rate must be in [0, 1], got {fault_rate}")
        unknown = sorted(set(faults) - set(ALL_FAULTS)) + sorted(
            {f for f in script if f is not None} - set(ALL_FAULTS)
        )
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; known: {ALL_FAULTS}")
        if fault_rate > 0 and not faults:
            raise ValueError("fault_rate > 0 needs at least one fault kind")
        if logprobs not in ("serve", "ignore", "refuse"):
            raise ValueError(f"logprobs must be 'serve', 'ignore' or 'refuse', got {logprobs!r}")
        self.handler = handler or echo_handler
        self.fault_rate = float(fault_rate)
        self.faults = tuple(faults)
        self.seed = seed
        self.slow_seconds = float(slow_seconds)
        self.retry_after = float(retry_after)
        self.models = tuple(models)
        self.logprobs_mode = logprobs
        self.latency = float(latency)
        self._api_key_sha = _sha256(api_key) if api_key is not None else None
        self._script = list(script)
        self._lock = threading.Lock()
        self._seen: Counter[str] = Counter()
        self._requests: list[RecordedRequest] = []
        self._handler_errors: list[str] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self._replies = 0
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeOpenAIServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_request_handler(self))
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()  # wakes "slow" handlers
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeOpenAIServer is not running; use start() or a with block")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The base URL to give a client: http://127.0.0.1:PORT/v1."""
        return f"http://127.0.0.1:{self.port}/v1"

    # ------------------------------------------------------------------ records

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far (a copy), in arrival order."""
        with self._lock:
            return list(self._requests)

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.rstrip("/").endswith("/chat/completions")]

    def count(self, fault: str | None = ANY) -> int:
        """Number of chat requests received; with `fault`, only those that got that fault
        (None: those answered normally)."""
        reqs = self.chat_requests()
        if fault is ANY:
            return len(reqs)
        return sum(1 for r in reqs if r.fault == fault)

    def fault_counts(self) -> Counter[str]:
        return Counter(r.fault for r in self.chat_requests() if r.fault is not None)

    @property
    def max_in_flight(self) -> int:
        """Most chat requests being handled at once (slow faults included)."""
        with self._lock:
            return self._max_in_flight

    @property
    def handler_errors(self) -> list[str]:
        """Exceptions the handler raised (each answered with HTTP 500)."""
        with self._lock:
            return list(self._handler_errors)

    def inject(self, *faults: str | None) -> None:
        """Queue faults for the next chat requests, in arrival order (None: a normal reply)."""
        unknown = sorted({f for f in faults if f is not None} - set(ALL_FAULTS))
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; known: {ALL_FAULTS}")
        with self._lock:
            self._script.extend(faults)

    def reset(self) -> None:
        """Forget recorded requests and fault history (the fault draw starts over)."""
        with self._lock:
            self._requests.clear()
            self._handler_errors.clear()
            self._seen.clear()
            self._max_in_flight = self._in_flight

    # ------------------------------------------------------------------ behaviour

    def _choose_fault(self, raw_body: bytes) -> str | None:
        with self._lock:
            if self._script:
                return self._script.pop(0)
            digest = hashlib.sha256(raw_body).hexdigest()
            nth = self._seen[digest]
            self._seen[digest] += 1
        rng = random.Random(f"{self.seed}:{digest}:{nth}")
        if self.fault_rate > 0 and rng.random() < self.fault_rate:
            return rng.choice(self.faults)
        return None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _completion(self, request: dict) -> dict:
        """The chat-completion body for a request (the handler's answer, OpenAI's shape)."""
        default_model = self.models[0] if self.models else "fake"
        return completion_body(
            self.handler(request), request, self._next_reply, self.logprobs_mode, default_model
        )

    def _next_reply(self) -> int:
        with self._lock:
            self._replies += 1
            return self._replies


def _make_request_handler(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the OpenAI SDK's connection pool expects
        server_version = "FakeOpenAI/1.0"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in separate writes; without TCP_NODELAY the
            # client's delayed ACK adds ~40 ms to every reply.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("fake openai server: " + format, *args)

        def _send_json(self, status: int, payload: object, headers: dict[str, str] | None = None):
            self._send_raw(status, json.dumps(payload).encode("utf-8"), headers)

        def _send_raw(self, status: int, data: bytes, headers: dict[str, str] | None = None):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()

        def _auth_sha(self) -> str | None:
            value = self.headers.get("Authorization")
            if not value:
                return None
            token = value.split(" ", 1)[1] if value.lower().startswith("bearer ") else value
            return _sha256(token)

        def _bearer(self) -> str:
            value = self.headers.get("Authorization") or ""
            return value.split(" ", 1)[1] if value.lower().startswith("bearer ") else value

        def _authorised(self) -> bool:
            return server._api_key_sha is None or self._auth_sha() == server._api_key_sha

        def do_GET(self) -> None:
            server._record(
                RecordedRequest("GET", self.path, None, None, self._auth_sha(), time.time())
            )
            try:
                if not self._authorised():
                    self._send_json(
                        401,
                        error_body(
                            "Incorrect API key provided.",
                            "invalid_request_error",
                            "invalid_api_key",
                        ),
                    )
                elif self.path.rstrip("/").endswith("/models"):
                    data = [
                        {"id": m, "object": "model", "created": 0, "owned_by": "actionbias-fake"}
                        for m in server.models
                    ]
                    self._send_json(200, {"object": "list", "data": data})
                else:
                    self._send_json(404, error_body(f"no route {self.path}", "not_found"))
            except OSError:
                self.close_connection = True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length > 0 else b""
            if not self.path.rstrip("/").endswith("/chat/completions"):
                server._record(
                    RecordedRequest("POST", self.path, None, None, self._auth_sha(), time.time())
                )
                self._send_json(404, error_body(f"no route {self.path}", "not_found"))
                return
            server._enter()
            try:
                self._chat(raw)
            except OSError:  # the client went away (timed out): nothing to answer
                self.close_connection = True
            finally:
                server._leave()

        def _chat(self, raw: bytes) -> None:
            try:
                body = json.loads(raw)
                if not isinstance(body, dict):
                    raise ValueError("not an object")
            except ValueError:
                server._record(
                    RecordedRequest("POST", self.path, None, None, self._auth_sha(), time.time())
                )
                self._send_json(
                    400, error_body("request body is not a JSON object", "invalid_request_error")
                )
                return
            fault = None if not self._authorised() else server._choose_fault(raw)
            server._record(
                RecordedRequest("POST", self.path, body, fault, self._auth_sha(), time.time())
            )
            if not self._authorised():
                # Echo the token back, as some servers do, so clients must scrub it.
                message = f"Incorrect API key provided: {self._bearer()}."
                self._send_json(
                    401, error_body(message, "invalid_request_error", "invalid_api_key")
                )
                return
            if server.latency > 0:
                server._stopping.wait(server.latency)
            if fault == "429":
                headers = {
                    "Retry-After": f"{server.retry_after:g}",
                    "retry-after-ms": str(int(server.retry_after * 1000)),
                }
                self._send_json(
                    429,
                    error_body(
                        "Rate limit reached (fake).", "rate_limit_error", "rate_limit_exceeded"
                    ),
                    headers,
                )
            elif fault in ("500", "503"):
                text = "internal error (fake)" if fault == "500" else "service unavailable (fake)"
                self._send_json(int(fault), error_body(text, "server_error"))
            elif fault == "400":
                self._send_json(400, error_body("bad request (fake)", "invalid_request_error"))
            elif fault == "401":
                self._send_json(
                    401,
                    error_body(
                        "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
                    ),
                )
            elif fault == "404":
                self._send_json(
                    404,
                    error_body(
                        "The model does not exist (fake).",
                        "invalid_request_error",
                        "model_not_found",
                    ),
                )
            elif fault == "drop":
                self.close_connection = True  # close without a status line
            elif fault == "malformed":
                self._send_raw(
                    200, b'{"id": "chatcmpl-broken", "object": "chat.completion", "choices": ['
                )
            elif fault == "empty":
                self._send_json(
                    200,
                    {
                        "id": "chatcmpl-empty",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model"),
                        "choices": [],
                        "usage": None,
                    },
                )
            else:
                if fault == "slow":
                    server._stopping.wait(server.slow_seconds)
                wants = bool(body.get("logprobs")) or body.get("top_logprobs") is not None
                if wants and server.logprobs_mode == "refuse":
                    self._send_json(
                        400,
                        error_body(
                            "logprobs are not supported by this server (fake)",
                            "invalid_request_error",
                            param="logprobs",
                        ),
                    )
                    return
                try:
                    payload = server._completion(body)
                except FakeHTTPError as exc:
                    kind = "invalid_request_error" if exc.status < 500 else "server_error"
                    self._send_json(exc.status, error_body(exc.message, kind), exc.headers)
                    return
                except Exception as exc:
                    with server._lock:
                        server._handler_errors.append(f"{type(exc).__name__}: {exc}")
                    log.exception("fake openai server: handler failed")
                    self._send_json(500, error_body(f"handler failed: {exc}", "server_error"))
                    return
                self._send_json(200, payload)

    return RequestHandler
