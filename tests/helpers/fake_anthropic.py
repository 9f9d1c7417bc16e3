"""A local Anthropic-compatible ``POST /v1/messages`` server for tests (no network, no key).

It validates every request strictly — auth header, ``anthropic-version``, content type, model,
``max_tokens``, the message and content-block schema, ``cache_control`` breakpoints — and answers
from a script: JSON messages or SSE streams (:class:`Reply`), HTTP errors with headers such as
``retry-after`` (:class:`Failure`), or an ``error`` event in the middle of a stream
(:class:`StreamFailure`). Every request is recorded; anything the real API would refuse is answered
with a 400 and listed in ``violations``, which the fixture checks at teardown.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

KNOWN_MODELS = frozenset({"claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-5", "my-local-model"})
_TOP_LEVEL = frozenset(
    {"model", "max_tokens", "messages", "system", "stream", "metadata", "stop_sequences", "temperature",
     "top_p", "top_k", "tools", "tool_choice", "thinking", "service_tier", "cache_control"}
)
_TEXT_BLOCK_KEYS = frozenset({"type", "text", "cache_control", "citations"})


@dataclass(frozen=True)
class Reply:
    """A successful answer (JSON, or SSE when the request asks to stream)."""

    text: str
    input_tokens: int = 100
    output_tokens: int = 50
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    stop_reason: str = "end_turn"
    delay_s: float = 0.0


@dataclass(frozen=True)
class Failure:
    """An HTTP error answer in the API's error format, e.g. 429 ``rate_limit_error``."""

    status: int
    type: str
    message: str = "scripted failure"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StreamFailure:
    """A 200 stream that breaks off with an ``error`` event after ``message_start``."""

    type: str = "overloaded_error"
    message: str = "Overloaded"


Scripted = Reply | Failure | StreamFailure


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    path: str
    headers: dict[str, str]
    raw: bytes
    body: dict[str, Any]

    @property
    def text(self) -> str:
        """All system and message text of the request in order, blocks separated by a blank line."""
        parts: list[str] = []
        system = self.body.get("system", "")
        parts.extend([system] if isinstance(system, str) else [block["text"] for block in system])
        for message in self.body.get("messages", []):
            content = message["content"]
            parts.extend([content] if isinstance(content, str) else [block["text"] for block in content])
        return "\n\n".join(parts)


class FakeAnthropic:
    """The server; use as a context manager or through the ``anthropic_server`` fixture."""

    def __init__(self, models: frozenset[str] = KNOWN_MODELS) -> None:
        self.models = models
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self._script: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        """The base URL to pass as ``ANTHROPIC_BASE_URL``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, *items: Scripted) -> None:
        """Queue answers, consumed one per request in order."""
        with self._lock:
            self._script.extend(items)

    @property
    def pending(self) -> int:
        """How many scripted answers are left."""
        return len(self._script)

    def __enter__(self) -> FakeAnthropic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, request: RecordedRequest) -> Scripted | None:
        with self._lock:
            self.requests.append(request)
            return self._script.popleft() if self._script else None


def validate(headers: dict[str, str], body: Any, models: frozenset[str]) -> tuple[int, str, str] | None:
    """Why the real API would refuse this request: ``(status, error type, message)``, or None if valid."""
    auth = headers.get("authorization", "")
    if not headers.get("x-api-key") and not re.fullmatch(r"Bearer \S+", auth):
        return 401, "authentication_error", "missing x-api-key or Authorization: Bearer header"
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", headers.get("anthropic-version", "")):
        return 400, "invalid_request_error", "anthropic-version header missing or malformed"
    if not headers.get("content-type", "").startswith("application/json"):
        return 400, "invalid_request_error", "content-type must be application/json"
    if not isinstance(body, dict):
        return 400, "invalid_request_error", "body must be a JSON object"
    problem = _body_problem(body, models)
    if problem is None:
        return None
    status = 404 if problem.startswith("model:") else 400
    return status, "not_found_error" if status == 404 else "invalid_request_error", problem


def _body_problem(body: dict[str, Any], models: frozenset[str]) -> str | None:
    unknown = set(body) - _TOP_LEVEL
    if unknown:
        return f"unknown fields: {sorted(unknown)}"
    if not isinstance(body.get("model"), str) or body["model"] not in models:
        return f"model: {body.get('model')!r} is not a known model"
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or not 1 <= max_tokens <= 128_000:
        return f"max_tokens: must be an integer in [1, 128000], got {max_tokens!r}"
    if "stream" in body and not isinstance(body["stream"], bool):
        return "stream: must be a boolean"
    breakpoints = [0]
    if "system" in body:
        problem = _content_problem(body["system"], "system", breakpoints)
        if problem:
            return problem
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: must be a non-empty list"
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            return f"messages.{index}: must have exactly the keys role and content"
        expected = "user" if index % 2 == 0 else "assistant"
        if message["role"] != expected:
            return f"messages.{index}.role: expected {expected!r} (roles alternate, starting with user)"
        problem = _content_problem(message["content"], f"messages.{index}.content", breakpoints)
        if problem:
            return problem
    if breakpoints[0] > 4:
        return f"at most 4 blocks may have cache_control, found {breakpoints[0]}"
    return None


def _content_problem(content: Any, where: str, breakpoints: list[int]) -> str | None:
    if isinstance(content, str):
        return None if content.strip() else f"{where}: text must be non-empty"
    if not isinstance(content, list) or not content:
        return f"{where}: must be a string or a non-empty list of content blocks"
    for index, block in enumerate(content):
        if not isinstance(block, dict) or block.get("type") != "text":
            return f"{where}.{index}: only text blocks are supported here"
        if set(block) - _TEXT_BLOCK_KEYS:
            return f"{where}.{index}: unknown keys {sorted(set(block) - _TEXT_BLOCK_KEYS)}"
        if not isinstance(block.get("text"), str) or not block["text"].strip():
            return f"{where}.{index}.text: must be a non-empty string"
        cache = block.get("cache_control")
        if cache is not None:
            allowed = {"type", "ttl"}
            if not isinstance(cache, dict) or cache.get("type") != "ephemeral" or not set(cache) <= allowed:
                return f"{where}.{index}.cache_control: must be {{'type': 'ephemeral'}}"
            breakpoints[0] += 1
    return None


def _message(model: str, reply: Reply, number: int, text: str) -> dict[str, Any]:
    return {
        "id": f"msg_fake_{number}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}] if text else [],
        "stop_reason": reply.stop_reason if text else None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "cache_creation_input_tokens": reply.cache_creation_input_tokens,
            "cache_read_input_tokens": reply.cache_read_input_tokens,
        },
    }


def _sse(events: list[dict[str, Any]]) -> bytes:
    return "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events).encode()


def _stream_body(model: str, item: Reply | StreamFailure, number: int) -> bytes:
    reply = item if isinstance(item, Reply) else Reply(text="")
    start = _message(model, reply, number, "")
    start["usage"]["output_tokens"] = 1
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    if isinstance(item, StreamFailure):
        events.append({"type": "error", "error": {"type": item.type, "message": item.message}})
        return _sse(events)
    events += [
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
    ]
    chunks = [item.text[i : i + 40] for i in range(0, len(item.text), 40)] or [""]
    events += [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": chunk}}
        for chunk in chunks
    ]
    events += [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": item.stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": item.output_tokens},
        },
        {"type": "message_stop"},
    ]
    return _sse(events)


def _handler_for(server: FakeAnthropic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
            return

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", "0") or 0))
            headers = {key.lower(): value for key, value in self.headers.items()}
            path = self.path.split("?", 1)[0]
            if path != "/v1/messages":
                self._json(404, _error("not_found_error", f"no route {path}"))
                return
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            request = RecordedRequest(path, headers, raw, body if isinstance(body, dict) else {})
            refusal = validate(headers, body, server.models)
            item = server._next(request)
            if refusal is not None:
                server.violations.append(refusal[2])
                self._json(refusal[0], _error(refusal[1], refusal[2]))
                return
            if item is None:
                server.violations.append("unexpected request: the script is empty")
                self._json(500, _error("api_error", "fake server: no scripted answer left"), retry=False)
                return
            self._answer(item, body, len(server.requests))

        def _answer(self, item: Scripted, body: dict[str, Any], number: int) -> None:
            if isinstance(item, Failure):
                self._json(item.status, _error(item.type, item.message), extra=item.headers)
                return
            if isinstance(item, Reply) and item.delay_s:
                time.sleep(item.delay_s)
            try:
                if body.get("stream"):
                    self._send(200, _stream_body(body["model"], item, number), "text/event-stream")
                elif isinstance(item, Reply):
                    self._json(200, _message(body["model"], item, number, item.text))
                else:
                    server.violations.append("StreamFailure scripted for a non-streaming request")
                    self._json(500, _error("api_error", "fake server: stream failure, non-stream request"))
            except (BrokenPipeError, ConnectionResetError):
                return  # the client gave up (timeout test); nothing to answer

        def _json(
            self,
            status: int,
            payload: dict[str, Any],
            extra: dict[str, str] | None = None,
            retry: bool = True,
        ) -> None:
            headers = dict(extra or {})
            if not retry:
                headers["x-should-retry"] = "false"
            self._send(status, json.dumps(payload).encode(), "application/json", headers)

        def _send(self, status: int, data: bytes, kind: str, extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(data)))
            self.send_header("request-id", f"req_fake_{len(server.requests)}")
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


@pytest.fixture(name="anthropic_server")
def anthropic_server_fixture() -> Iterator[FakeAnthropic]:
    """A running :class:`FakeAnthropic`; fails the test at teardown if a request broke the API's rules."""
    with FakeAnthropic() as server:
        yield server
    assert server.violations == [], f"requests the real API would refuse: {server.violations}"
