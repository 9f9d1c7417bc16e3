"""The GitHub client: 5xx and rate limits are retried with bounded, injected waits; failures read clearly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.errors import ActionEnvironmentError, GitHubError
from bot.github.client import connect, github_errors, required_wait
from tests.helpers.fake_github.world import NOW, REPOSITORY, World, client, github_world

PULLS = r"/pulls$"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with github_world(tmp_path) as w:
        yield w
        assert w.fake.violations == []


def list_pulls(world: World) -> int:
    with github_errors("listing pull requests"):
        return len(list(world.gh.get_repo(REPOSITORY).get_pulls(state="open")))


def test_server_errors_are_retried_with_exponential_backoff(world: World) -> None:
    world.fake.fail_next("GET", PULLS, 502, times=2)

    assert list_pulls(world) == 0
    assert world.waits == [0.5, 1.0]
    assert world.fake.count("GET", PULLS) == 3


def test_retry_after_on_a_server_error_is_honoured(world: World) -> None:
    world.fake.fail_next("GET", PULLS, 503, headers={"Retry-After": "7"})

    list_pulls(world)

    assert world.waits == [7.0]


def test_primary_rate_limit_waits_until_the_reset(world: World) -> None:
    reset = str(int(NOW) + 30)
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
    world.fake.fail_next(
        "GET", PULLS, 403, headers=headers, message="API rate limit exceeded for installation"
    )

    list_pulls(world)

    assert world.waits == [31.0]  # reset - now, plus one second of slack


def test_secondary_rate_limit_waits_retry_after(world: World) -> None:
    message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    world.fake.fail_next("GET", PULLS, 403, headers={"retry-after": "12"}, message=message)

    list_pulls(world)

    assert world.waits == [12.0]


def test_429_with_retry_after_is_retried(world: World) -> None:
    world.fake.fail_next("GET", PULLS, 429, headers={"Retry-After": "3"}, message="Too Many Requests")

    list_pulls(world)

    assert world.waits == [3.0]


def test_a_rate_limit_resetting_beyond_the_bound_is_reported_without_waiting(world: World) -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 3600)}
    world.fake.fail_next("GET", PULLS, 403, headers=headers, message="API rate limit exceeded for user")

    with pytest.raises(GitHubError, match=r"rate limit exceeded while listing pull requests.*resets at"):
        list_pulls(world)
    assert world.waits == []


def test_persistent_server_errors_are_reported_after_the_retries(world: World) -> None:
    world.fake.fail_next("GET", PULLS, 500, times=10)

    with pytest.raises(GitHubError, match=r"kept failing \(500\) while listing pull requests"):
        list_pulls(world)
    assert world.fake.count("GET", PULLS) == 4  # first try + 3 retries


def test_a_forbidden_response_without_rate_limit_headers_is_not_retried(world: World) -> None:
    world.fake.fail_next("GET", PULLS, 403, message="Resource not accessible by integration")

    with pytest.raises(GitHubError, match=r"refused \(403\).*Resource not accessible.*permissions"):
        list_pulls(world)
    assert world.waits == []


def test_a_wrong_token_is_reported_as_such(world: World) -> None:
    gh = connect("ghs_wrong_token_xyz", api_url=world.fake.base_url, seconds_between_requests=0)

    with (
        pytest.raises(GitHubError, match=r"rejected the token \(401\)"),
        github_errors("listing pull requests"),
    ):
        list(gh.get_repo(REPOSITORY).get_pulls())


def test_an_unreachable_api_is_reported_with_the_action(tmp_path: Path) -> None:
    with github_world(tmp_path) as w:
        gh = client(w.fake, [], retries=0)
    # The fake has shut down: nothing listens on its port any more.
    with pytest.raises(GitHubError, match="could not reach GitHub while listing"), github_errors("listing"):
        list(gh.get_repo(REPOSITORY).get_pulls())


def test_an_empty_token_is_refused_before_any_request() -> None:
    with pytest.raises(ActionEnvironmentError, match="no GitHub token"):
        connect("")


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (502, {}, 0.0),
        (503, {"Retry-After": "Thu, 15 Jan 2027 08:00:10 GMT"}, 10.0),
        (403, {}, None),
        (429, {}, 60.0),
        (404, {}, None),
    ],
)
def test_required_wait_reads_the_headers(
    status: int, headers: dict[str, str], expected: float | None
) -> None:
    now = datetime(2027, 1, 15, 8, 0, 0, tzinfo=UTC).timestamp()

    assert required_wait(status, headers, now) == expected
