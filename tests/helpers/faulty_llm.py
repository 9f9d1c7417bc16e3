"""The local Anthropic server of ``tests/helpers/fake_anthropic.py`` plus the faults a network produces.

:class:`FaultyAnthropic` answers the same scripted :class:`Reply`/:class:`Failure`/:class:`StreamFailure`
items with the same request validation, and adds three items the real API cannot be asked for:
:class:`Reset` (the TCP connection is reset before any answer), :class:`Truncated` (a 200 stream that
stops in the middle of the text, the connection closed cleanly or mid-chunk) and :class:`Huge` (a
valid answer of any size, streamed in large deltas so a 10 MB answer does not take 250k events).
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any

from tests.helpers.fake_anthropic import FakeAnthropic, RecordedRequest, Reply, _handler_for, _message, _sse


@dataclass(frozen=True)
class Reset:
    """Reset the connection (RST) without answering."""


@dataclass(frozen=True)
class Truncated:
    """Start a 200 stream with ``text``, then end it before ``message_stop``.

    ``clean`` True closes the connection at a chunk boundary (the client sees a well-formed, short
    stream); False cuts a chunk in half (the client sees a protocol error).
    """

    text: str
    clean: bool = True


@dataclass(frozen=True)
class Huge:
    """A complete answer of ``size`` characters (``head`` first, then filler), in 1 MB deltas."""

    head: str
    size: int


class FaultyAnthropic(FakeAnthropic):
    """:class:`FakeAnthropic` whose script may also hold :class:`Reset`, :class:`Truncated`, :class:`Huge`.

    ``responder``, when set, answers every request the script has no item for: it gets the recorded
    request and returns the item to play (a long run cannot be scripted up front).
    """

    def __init__(
        self, responder: Callable[[RecordedRequest], object] | None = None, keep_requests: bool = True
    ) -> None:
        super().__init__()
        self.responder = responder
        #: Requests answered so far (``requests`` holds them only when ``keep_requests``).
        self.answered = 0
        self._keep = keep_requests
        self._server.server_close()
        self._server = _QuietServer(("127.0.0.1", 0), _faulty_handler(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    def _next(self, request: RecordedRequest) -> Any:
        item = super()._next(request)
        with self._lock:
            self.answered += 1
            if not self._keep:  # a long soak must not measure the test server's memory
                self.requests.clear()
            if item is None and self.responder is not None:
                return self.responder(request)
        return item


class _QuietServer(ThreadingHTTPServer):
    """Clients that reset connections (the point of some faults) are not reported as errors."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


def _faulty_handler(server: FakeAnthropic) -> type:
    base: Any = _handler_for(server)

    class Handler(base):  # type: ignore[misc,valid-type]
        def _answer(self, item: Any, body: dict[str, Any], number: int) -> None:
            if isinstance(item, Reset):
                # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
            elif isinstance(item, Truncated):
                self._truncated(item, body)
            elif isinstance(item, Huge):
                self._huge(item, body, number)
            else:
                super()._answer(item, body, number)

        def _truncated(self, item: Truncated, body: dict[str, Any]) -> None:
            start = _message(body["model"], _empty(), 1, "")
            events = [
                {"type": "message_start", "message": start},
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                {"type": "content_block_delta", "index": 0,
                 "delta": {"type": "text_delta", "text": item.text}},
            ]
            data = _sse(events)
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            if item.clean:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n")
            else:
                self.wfile.write(f"{len(data) + 100:x}\r\n".encode() + data)
            self.wfile.flush()
            self.close_connection = True

        def _huge(self, item: Huge, body: dict[str, Any], number: int) -> None:
            text = item.head + "x" * max(0, item.size - len(item.head))
            if not body.get("stream"):
                reply = _message(body["model"], _empty(), number, text)
                reply["stop_reason"] = "end_turn"
                self._json(200, reply)
                return
            start = _message(body["model"], _empty(), number, "")
            chunks = [text[i : i + 1_000_000] for i in range(0, len(text), 1_000_000)]
            events: list[dict[str, Any]] = [
                {"type": "message_start", "message": start},
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                *({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": c}}
                  for c in chunks),
                {"type": "content_block_stop", "index": 0},
                {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                 "usage": {"output_tokens": len(text) // 4}},
                {"type": "message_stop"},
            ]
            self._send(200, _sse(events), "text/event-stream")

    return Handler


def _empty() -> Reply:
    return Reply(text="")


def analysis_answer(analysis: dict[str, Any]) -> str:
    """An Analyzer answer the way a model writes it: prose around a ```json fence."""
    return "My proposal:\n```json\n" + json.dumps(analysis) + "\n```\n"
