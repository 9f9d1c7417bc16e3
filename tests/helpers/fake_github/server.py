"""A stateful fake of the GitHub REST API on 127.0.0.1, for PyGithub pointed at it with ``base_url``.

It holds one repository: pull requests, issue comments, reactions, labels, check runs, commit statuses
and collaborator roles; branches and commits are read from a real bare git repository (the remote the
bot pushes to), so ``git push`` and the API agree. Every request and every 2xx response is validated
against GitHub's published OpenAPI description (trimmed copy under ``openapi/``); mismatches are
collected in :attr:`FakeGitHub.violations`, which the tests' fixture asserts is empty.

Faults are scripted with :meth:`FakeGitHub.fail_next` (5xx, rate limits) or by changing state
(deleting a branch from the bare repository, editing a comment "by someone else").
"""

from __future__ import annotations

import json
import re
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.helpers.fake_github import spec
from tests.helpers.fake_github.resources import _DOCS, BODY_LIMIT, ApiError, Resources

__all__ = ["BODY_LIMIT", "FakeGitHub", "Fault", "Recorded"]


@dataclass
class Fault:
    """A scripted response returned instead of the real one for matching requests."""

    method: str
    path: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    times: int


@dataclass
class Recorded:
    """One request the fake answered."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int


class FakeGitHub(Resources):
    """The fake server. Start it with :meth:`running`; ``base_url`` is what PyGithub needs."""

    def __init__(
        self, full_name: str, bare: Path, token: str, bot_login: str = "github-actions[bot]"
    ) -> None:
        super().__init__(full_name, bare, bot_login)
        self.token = token
        self.violations: list[str] = []
        self.requests: list[Recorded] = []
        self._faults: list[Fault] = []
        self._lock = threading.RLock()

    # ---- lifecycle -------------------------------------------------------------------------
    @classmethod
    @contextmanager
    def running(
        cls, full_name: str, bare: Path, token: str, bot_login: str = "github-actions[bot]"
    ) -> Iterator[FakeGitHub]:
        """Serve a fake for ``full_name`` (branches from the bare repo ``bare``) until the block ends.

        ``bot_login`` is the account the token posts as: ``github-actions[bot]`` (a Bot) for the Actions
        token, a user's login for a personal access token.
        """
        fake = cls(full_name, bare, token, bot_login)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(fake))
        fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        thread.start()
        try:
            yield fake
        finally:
            server.shutdown()
            server.server_close()
            thread.join()

    # ---- test controls ---------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        path_pattern: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        message: str = "Server Error",
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (and ``headers``) instead."""
        with self._lock:
            self._faults.append(
                Fault(
                    method.upper(),
                    re.compile(path_pattern),
                    status,
                    headers or {},
                    {"message": message, "documentation_url": _DOCS},
                    times,
                )
            )

    def set_role(self, login: str, role: str) -> None:
        """Make ``login`` a collaborator with ``role`` (read, triage, write, maintain, admin)."""
        with self._lock:
            self._state.collaborators[login] = role

    def add_comment(self, number: int, body: str, login: str) -> dict[str, Any]:
        """Post a comment on PR ``number`` as ``login`` (a human) and return it."""
        with self._lock:
            return self._new_comment(number, body, self._user(login))

    def edit_comment(self, comment_id: int, body: str) -> None:
        """Change a comment's body behind the bot's back (a concurrent editor)."""
        with self._lock:
            self._state.comments[comment_id]["body"] = body

    def delete_comment(self, comment_id: int) -> None:
        """Delete a comment behind the bot's back."""
        with self._lock:
            del self._state.comments[comment_id]

    def close_pull(self, number: int, *, merged: bool = False, by: str = "maintainer") -> None:
        """Close (or merge) PR ``number`` as ``by``, like a reviewer in the web UI."""
        with self._lock:
            pull = self._refresh_pull(self._state.pulls[number])
            pull.update(state="closed", closed_at="2026-11-25T12:00:00Z")
            if merged:
                pull.update(merged=True, merged_at="2026-11-25T12:00:00Z", merged_by=self._user(by))
            self._state.closed_by[number] = by

    def webhook_payload(self, number: int, action: str) -> dict[str, Any]:
        """The ``pull_request`` webhook payload GitHub would send for PR ``number`` and ``action``."""
        with self._lock:
            pull = self._refresh_pull(self._state.pulls[number])
            sender = self._state.closed_by.get(number, self.bot_login)
            return {"action": action, "number": number, "pull_request": pull, "sender": self._user(sender)}

    def pull(self, number: int) -> dict[str, Any]:
        """The stored pull request ``number``."""
        with self._lock:
            return self._refresh_pull(self._state.pulls[number])

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        """The comments on PR ``number``, oldest first."""
        with self._lock:
            return super().comments_on(number)

    def reactions_on(self, comment_id: int) -> list[str]:
        """The reaction contents on a comment, in order."""
        with self._lock:
            return [r["content"] for r in self._state.reactions.get(comment_id, [])]

    @property
    def check_runs(self) -> list[dict[str, Any]]:
        """Check runs created so far."""
        return list(self._state.check_runs)

    @property
    def statuses(self) -> list[dict[str, Any]]:
        """Commit statuses created so far."""
        return list(self._state.statuses)

    def count(self, method: str, path_pattern: str) -> int:
        """How many requests matched ``method`` and the regex ``path_pattern``."""
        return sum(1 for r in self.requests if r.method == method and re.search(path_pattern, r.path))

    # ---- request handling --------------------------------------------------------------------
    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], raw_body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        """Answer one request: returns (status, extra headers, JSON payload)."""
        split = urlsplit(raw_path)
        path, query = split.path, parse_qs(split.query)
        body = json.loads(raw_body) if raw_body else None
        request = spec.ApiRequest(method, path, query, raw_body or None, headers=headers)
        with self._lock:
            status, extra, payload = self._answer(method, path, query, body, headers, request)
            self.requests.append(Recorded(method, path, query, body, status))
        return status, extra, payload

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        body: Any,
        headers: dict[str, str],
        request: spec.ApiRequest,
    ) -> tuple[int, dict[str, str], Any]:
        auth = headers.get("authorization", "")
        if auth not in (f"token {self.token}", f"Bearer {self.token}"):
            return 401, {}, {"message": "Bad credentials", "documentation_url": _DOCS}
        self.violations.extend(f"request {method} {path}: {e}" for e in spec.request_errors(request))
        fault = self._take_fault(method, path)
        if fault is not None:
            return fault.status, fault.headers, fault.body
        route = self.route(method, path)
        if route is None:
            self.violations.append(f"request {method} {path}: no such route in the fake")
            return 404, {}, {"message": "Not Found", "documentation_url": _DOCS}
        handler, params = route
        try:
            status, extra, payload = handler(body=body, query=query, **params)
        except ApiError as err:
            return err.status, {}, err.body
        except Exception as exc:  # a bug in the fake: fail the test, not the connection
            self.violations.append(f"fake crashed on {method} {path}: {traceback.format_exc()}")
            return 500, {}, {"message": f"fake crashed: {exc}", "documentation_url": _DOCS}
        errors = spec.response_errors(request, spec.ApiResponse(status, payload))
        errors += spec.account_errors(payload)
        self.violations.extend(f"response {status} to {method} {path}: {e}" for e in errors)
        return status, extra, payload

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.method == method and fault.path.search(path) and fault.times > 0:
                fault.times -= 1
                return fault
        return None


def _handler_for(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, payload = fake.handle(self.command, self.path, headers, raw)
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            return

    return Handler
