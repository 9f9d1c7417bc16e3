"""A PyGithub client with bounded retries, and translation of API failures into :class:`GitHubError`.

Retries happen below PyGithub, in a ``urllib3`` retry policy handed to ``Github(retry=...)``:

- 5xx responses and dropped connections are retried with exponential backoff (or the server's
  ``Retry-After``);
- rate limits (403/429) are retried after the wait GitHub asks for: ``Retry-After`` (secondary
  limits), else ``x-ratelimit-reset`` when ``x-ratelimit-remaining`` is 0 (primary limit), else a
  minute for a bare 429. A 403 without those headers is a permission problem and is not retried;
- a wait longer than :attr:`RetryPolicy.max_wait_s` is not waited at all: the response goes back to
  PyGithub, which raises, and :func:`github_errors` reports when to try again.

The sleeping and the clock are injected (``RetryPolicy.sleeper``/``clock``) so tests run instantly.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import requests
from github import Auth, Github
from github.GithubException import (
    BadCredentialsException,
    GithubException,
    RateLimitExceededException,
    UnknownObjectException,
)
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from bot.errors import ActionEnvironmentError, GitHubError

DEFAULT_API_URL = "https://api.github.com"
#: Statuses worth another try: rate limits (403/429 are filtered further by their headers) and 5xx.
RETRY_STATUSES = frozenset({403, 429, *range(500, 600)})
#: GitHub's advice for a secondary rate limit that names no wait: "wait at least one minute".
BARE_429_WAIT_S = 60.0


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries before a GitHub failure is reported."""

    #: Retries after the first attempt.
    retries: int = 4
    #: First backoff for a 5xx without ``Retry-After``; doubles with every retry.
    backoff_s: float = 2.0
    #: Longest single wait; a rate limit that resets later than this is reported, not waited for.
    max_wait_s: float = 90.0
    sleeper: Callable[[float], None] = field(default=time.sleep, compare=False)
    clock: Callable[[], float] = field(default=time.time, compare=False)


class BoundedRetry(Retry):
    """A ``urllib3`` retry policy that knows GitHub's rate-limit headers and never waits unboundedly."""

    def __init__(self, policy: RetryPolicy | None = None, **kwargs: Any) -> None:
        self.policy = policy or RetryPolicy()
        kwargs.setdefault("total", self.policy.retries)
        kwargs.setdefault("status_forcelist", RETRY_STATUSES)
        # POST too: creating a PR twice is caught by the 422 "already exists" path of the publisher.
        kwargs.setdefault("allowed_methods", None)
        # Give the last failed response back to PyGithub so it raises its typed exception.
        kwargs.setdefault("raise_on_status", False)
        super().__init__(**kwargs)
        #: The wait before the next attempt, decided by :meth:`increment`.
        self.planned_wait = 0.0

    def new(self, **kw: Any) -> BoundedRetry:  # urllib3 rebuilds the policy after every attempt
        kw["policy"] = self.policy
        return super().new(**kw)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> BoundedRetry:
        """The policy for the next attempt; raises ``MaxRetryError`` to stop retrying."""
        wait = self.policy.backoff_s * 2 ** len(self.history)
        if response is not None and not response.get_redirect_location():
            required = required_wait(response.status, response.headers, self.policy.clock())
            if required is None or required > self.policy.max_wait_s:
                raise MaxRetryError(_pool, url or "", ResponseError(f"not retried: {response.status}"))  # type: ignore[arg-type]
            wait = required if required > 0 or response.status < 500 else wait
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        new.planned_wait = min(wait, self.policy.max_wait_s)
        return new

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        """Wait as decided by :meth:`increment`, through the injected sleeper."""
        if self.planned_wait > 0:
            self.policy.sleeper(self.planned_wait)


def required_wait(status: int, headers: Any, now: float) -> float | None:
    """Seconds GitHub asks us to wait before retrying ``status``; None if it should not be retried.

    ``headers`` is any case-insensitive mapping. For a 5xx without ``Retry-After`` this returns 0
    (the caller's backoff applies).
    """
    retry_after = _retry_after(headers.get("Retry-After"), now)
    if retry_after is not None:
        return retry_after
    if status in (403, 429):
        reset = headers.get("X-RateLimit-Reset")
        if headers.get("X-RateLimit-Remaining") == "0" and reset and reset.isdigit():
            # +1: GitHub does not say when within that second the window resets.
            return max(0.0, int(reset) - now) + 1.0
        return BARE_429_WAIT_S if status == 429 else None
    return 0.0 if status >= 500 else None


def _retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def connect(
    token: str,
    *,
    api_url: str = DEFAULT_API_URL,
    policy: RetryPolicy | None = None,
    seconds_between_writes: float = 1.0,
    seconds_between_requests: float = 0.25,
    timeout_s: float = 30.0,
) -> Github:
    """A PyGithub client for ``api_url`` authenticated with ``token``.

    Returns a lazy ``Github`` (objects fetched only when an attribute is needed) whose HTTP layer
    retries per ``policy``. The pauses between requests follow GitHub's guidance against secondary
    rate limits; tests set them to 0.

    Raises:
        ActionEnvironmentError: ``token`` is empty.
    """
    if not token:
        raise ActionEnvironmentError(
            "no GitHub token: pass the action's `github-token` input or set GITHUB_TOKEN "
            "(the workflow's `permissions:` decide what it may do)"
        )
    return Github(
        base_url=api_url.rstrip("/"),
        auth=Auth.Token(token),
        retry=BoundedRetry(policy or RetryPolicy()),
        seconds_between_writes=seconds_between_writes,
        seconds_between_requests=seconds_between_requests,
        timeout=int(timeout_s),
        # 100 a page (GitHub's most, PyGithub asks 30): a busy PR's comments in one request, not four.
        per_page=100,
        lazy=True,
    )


@contextmanager
def github_errors(action: str) -> Iterator[None]:
    """Run the block and turn PyGithub/requests failures into a :class:`GitHubError` about ``action``.

    ``action`` completes "while …", e.g. ``"creating the pull request for growthhacker/abc"``.

    Raises:
        GitHubError: with the status, GitHub's message and what to do about it.
    """
    try:
        yield
    except GithubException as exc:
        raise GitHubError(describe_failure(exc, action), status=exc.status) from exc
    except requests.RequestException as exc:
        raise GitHubError(
            f"could not reach GitHub while {action}: {exc}; check api_url and the network"
        ) from exc


def describe_failure(exc: GithubException, action: str) -> str:
    """A one-paragraph, actionable description of a PyGithub exception raised while ``action``."""
    message = api_message(exc)
    if isinstance(exc, RateLimitExceededException) or _is_rate_limited(exc):
        return f"GitHub rate limit exceeded while {action}{_reset_hint(exc)}; re-run the workflow later"
    if isinstance(exc, BadCredentialsException):
        return (
            f"GitHub rejected the token (401) while {action}: check the `github-token` input / GITHUB_TOKEN"
        )
    if isinstance(exc, UnknownObjectException) or exc.status == 404:
        return f"not found (404) while {action}: it was deleted, or the token cannot see it ({message})"
    if exc.status == 403 and "not permitted to create or approve pull requests" in message:
        return (
            f"GitHub refused (403) while {action}: {message}. Tick Settings → Actions → General → "
            "Workflow permissions → 'Allow GitHub Actions to create and approve pull requests', or pass "
            "a GitHub App or personal access token as the action's `github-token`"
        )
    if exc.status == 403:
        return (
            f"GitHub refused (403) while {action}: {message}; the workflow's `permissions:` may lack a "
            "scope (contents, pull-requests, issues or checks: write)"
        )
    if exc.status == 422:
        return f"GitHub rejected the request (422) while {action}: {message}"
    if exc.status >= 500:
        return f"GitHub kept failing ({exc.status}) while {action}, after retries: {message}; retry later"
    return f"GitHub answered {exc.status} while {action}: {message}"


def api_message(exc: GithubException) -> str:
    """GitHub's ``message`` plus the messages of its ``errors`` list, as one line."""
    data = exc.data if isinstance(exc.data, dict) else {}
    parts = [str(data.get("message") or exc.message or "no message")]
    for err in data.get("errors") or []:
        if isinstance(err, dict):
            detail = err.get("message") or " ".join(str(err.get(k, "")) for k in ("field", "code")).strip()
            if detail:
                parts.append(str(detail))
        elif err:
            parts.append(str(err))
    return "; ".join(parts)


def _is_rate_limited(exc: GithubException) -> bool:
    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
    return exc.status in (403, 429) and (
        headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers
    )


def _reset_hint(exc: GithubException) -> str:
    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
    reset = headers.get("x-ratelimit-reset", "")
    if reset.isdigit():
        when = datetime.fromtimestamp(int(reset), UTC)
        return f" (the limit resets at {when:%H:%M:%S} UTC, later than the bot waits)"
    if "retry-after" in headers:
        return f" (GitHub asked to wait {headers['retry-after']} s, longer than the bot waits)"
    return ""
