"""A stateful fake of the GitHub REST API on 127.0.0.1, for PyGithub pointed at it with ``base_url``.

It holds one repository: pull requests, issue comments, reactions, labels, check runs, commit statuses
and collaborator roles; branches and commits are read from a real bare git repository (the remote the
bot pushes to), so ``git push`` and the API agree. The same server is the git remote
(``<base_url>/<owner>/<repo>.git``, real smart HTTP, see :mod:`.git_http`), and it keeps
``refs/pull/<n>/head`` and ``refs/pull/<n>/merge`` as GitHub does.

Every token has scopes (:mod:`.scopes`): the token the fake starts with may do everything; a workflow
job's token, made with :meth:`FakeGitHub.issue_token`, carries exactly the job's ``permissions:``.
A call or a push outside them is answered 403 as GitHub answers it, and recorded in
:attr:`FakeGitHub.refused`. Every request and every 2xx response is validated
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

from tests.helpers.fake_github import git_http, spec
from tests.helpers.fake_github.resources import _DOCS, BODY_LIMIT, ApiError, Resources
from tests.helpers.fake_github.scopes import FULL_ACCESS, Grant, accepted_header

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
    #: The token the request carried (``""`` without one).
    token: str = ""


class FakeGitHub(Resources):
    """The fake server. Start it with :meth:`running`; ``base_url`` is what PyGithub needs."""

    def __init__(
        self, full_name: str, bare: Path, token: str, bot_login: str = "github-actions[bot]"
    ) -> None:
        super().__init__(full_name, bare, bot_login)
        self.token = token
        self.tokens: dict[str, Grant] = {token: Grant(FULL_ACCESS.scopes, bot_login)}
        self.violations: list[str] = []
        self.requests: list[Recorded] = []
        #: Every call and push refused for lack of scope: (token, method, path).
        self.refused: list[tuple[str, str, str]] = []
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
    def issue_token(self, scopes: dict[str, str], name: str = "job") -> str:
        """A new token carrying exactly ``scopes`` (see :func:`.scopes.scopes_of`), acting as the bot."""
        with self._lock:
            token = f"ghs_{name}_{len(self.tokens):04d}_0123456789"
            self.tokens[token] = Grant(dict(scopes), self.bot_login)
            return token

    def writes_by(self, token: str) -> list[Recorded]:
        """Every request other than a read that ``token`` sent (answered or refused)."""
        with self._lock:
            return [r for r in self.requests if r.token == token and r.method != "GET"]

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
            self.requests.append(Recorded(method, path, query, body, status, _bearer(headers)))
        return status, extra, payload

    def handle_git(self, method: str, path: str, headers: dict[str, str], body: bytes) -> git_http.GitReply:
        """Answer one smart-HTTP git request: fetch needs ``contents: read``, push ``contents: write``."""
        token = git_http.token_of(headers.get("authorization", ""))
        with self._lock:
            grant = self.tokens.get(token or "")
        level = git_http.needed_level(path)
        if grant is None:
            return git_http.denied(401, self.full_name, "")
        if not grant.allows((("contents", level),)):
            with self._lock:
                self.refused.append((token or "", f"git {method}", path))
                self.requests.append(Recorded(method, path, {}, None, 403, token or ""))
            return git_http.denied(403, self.full_name, grant.login)
        reply = git_http.serve(self.bare, self.full_name, method, path, headers, body)
        if level == "write" and method == "POST":
            with self._lock:
                self.requests.append(Recorded(method, path, {}, None, reply.status, token or ""))
        return reply

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        body: Any,
        headers: dict[str, str],
        request: spec.ApiRequest,
    ) -> tuple[int, dict[str, str], Any]:
        grant = self.tokens.get(_bearer(headers))
        if grant is None:
            return 401, {}, {"message": "Bad credentials", "documentation_url": _DOCS, "status": "401"}
        self.violations.extend(f"request {method} {path}: {e}" for e in spec.request_errors(request))
        fault = self._take_fault(method, path)
        if fault is not None:
            return fault.status, fault.headers, fault.body
        route = self.route(method, path)
        if route is None:
            self.violations.append(f"request {method} {path}: no such route in the fake")
            return 404, {}, {"message": "Not Found", "documentation_url": _DOCS}
        handler, params, needs = route
        if not grant.allows(needs):
            # GitHub's answer to a GITHUB_TOKEN without the scope: 403 and the scopes it would accept.
            self.refused.append((_bearer(headers), method, path))
            body403 = {"message": "Resource not accessible by integration", "documentation_url": _DOCS,
                       "status": "403"}
            return 403, {"X-Accepted-GitHub-Permissions": accepted_header(needs)}, body403
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


def _bearer(headers: dict[str, str]) -> str:
    """The token of a ``token …`` or ``Bearer …`` authorization header ("" without one)."""
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() in ("token", "bearer") else ""


def _handler_for(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _serve(self) -> None:
            raw = self._body()
            headers = {k.lower(): v for k, v in self.headers.items()}
            if git_http.is_git_path(self.path, fake.full_name):
                reply = fake.handle_git(self.command, self.path, headers, raw)
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
                return
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
