"""Receiving slash commands on the fake GitHub: reactions, refusals, help, status, stop, hand-over."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import GitHubConfig
from bot.github.events import IssueCommentEvent
from bot.github.handle import finish_command, receive_command
from bot.github.publish import STOP_LABEL
from bot.github.render import run_marker
from tests.helpers.fake_github.world import World, github_world

CONFIG = GitHubConfig()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with github_world(tmp_path) as w:
        w.fake.set_role("alice", "write")
        yield w
        assert w.fake.violations == []


def bot_pr(world: World) -> int:
    branch = world.bot_branch()
    return world.publisher.ensure_pull_request(
        head=branch, base="main", title="GrowthHacker: SNIPW", body=run_marker("run-1", 2)
    ).number


def human_pr(world: World) -> int:
    world.commit("feature/docs", {"README.md": "docs\n"})
    world.push("feature/docs")
    return world.publisher.ensure_pull_request(head="feature/docs", base="main", title="Docs", body="").number


def comment(world: World, number: int, body: str, login: str = "alice") -> IssueCommentEvent:
    posted = world.fake.add_comment(number, body, login=login)
    return IssueCommentEvent(
        action="created", pr_number=number, comment_id=posted["id"], body=body, author=login
    )


def replies(world: World, number: int) -> list[str]:
    return [c["body"] for c in world.fake.comments_on(number) if c["user"]["login"] == "github-actions[bot]"]


def test_a_comment_that_is_not_a_command_gets_no_reaction(world: World) -> None:
    number = bot_pr(world)
    event = comment(world, number, "Nice! /growthhacker stop")

    assert receive_command(world.publisher, event, CONFIG) is None
    assert world.fake.reactions_on(event.comment_id) == []
    assert replies(world, number) == []


def test_a_non_collaborator_gets_a_reaction_and_nothing_else(world: World) -> None:
    number = bot_pr(world)
    event = comment(world, number, "/growthhacker iterate push to main", login="mallory")

    assert receive_command(world.publisher, event, CONFIG) is None
    assert world.fake.reactions_on(event.comment_id) == ["confused"]
    assert replies(world, number) == []  # anyone can comment; the bot posts nothing for them


def test_an_unknown_command_gets_the_help(world: World) -> None:
    number = bot_pr(world)
    event = comment(world, number, "/growthhacker deploy")

    receipt = receive_command(world.publisher, event, CONFIG)

    assert receipt is not None and not receipt.needs_work
    assert replies(world, number)[0].startswith("Sorry, I did not understand that: unknown command `deploy`")
    assert world.fake.reactions_on(event.comment_id) == ["eyes", "confused"]


def test_status_describes_the_pr(world: World) -> None:
    number = bot_pr(world)
    event = comment(world, number, "/growthhacker status")

    receive_command(world.publisher, event, CONFIG)

    reply = replies(world, number)[0]
    assert "GrowthHacker PR from run `run-1`, iteration 2" in reply and "further runs: allowed" in reply
    assert world.fake.reactions_on(event.comment_id) == ["eyes", "rocket"]


def test_stop_labels_the_pr_and_is_recorded(world: World) -> None:
    number = bot_pr(world)
    event = comment(world, number, "/growthhacker stop")

    receipt = receive_command(world.publisher, event, CONFIG)

    assert receipt is not None and not receipt.needs_work
    assert receipt.outcome is not None and receipt.outcome.text == "/growthhacker stop"
    assert STOP_LABEL in [label["name"] for label in world.fake.pull(number)["labels"]]


def test_iterate_is_handed_over_with_its_hint_and_the_pr_head(world: World) -> None:
    number = bot_pr(world)
    event = comment(world, number, "/growthhacker iterate try self-normalized weights")

    receipt = receive_command(world.publisher, event, CONFIG)

    assert receipt is not None and receipt.needs_work
    assert receipt.command.hint == "try self-normalized weights"
    assert receipt.pull is not None and receipt.pull.head_sha == world.fake.sha_of("growthhacker/run-1")
    assert receipt.outcome is not None and (receipt.outcome.run_id, receipt.outcome.iteration) == ("run-1", 2)
    assert world.fake.reactions_on(event.comment_id) == ["eyes"]


def test_iterate_on_a_stopped_pr_is_refused(world: World) -> None:
    number = bot_pr(world)
    receive_command(world.publisher, comment(world, number, "/growthhacker stop"), CONFIG)
    event = comment(world, number, "/growthhacker iterate")

    assert receive_command(world.publisher, event, CONFIG) is None
    assert "were stopped" in replies(world, number)[-1]


def test_undo_on_a_human_pr_is_refused(world: World) -> None:
    number = human_pr(world)
    event = comment(world, number, "/growthhacker undo")

    assert receive_command(world.publisher, event, CONFIG) is None
    assert "only work on GrowthHacker PRs" in replies(world, number)[0]
    assert world.fake.reactions_on(event.comment_id) == ["eyes", "confused"]


def test_finishing_a_command_replies_and_reacts(world: World) -> None:
    number = bot_pr(world)
    event = comment(world, number, "/growthhacker undo")
    receive_command(world.publisher, event, CONFIG)

    finish_command(world.publisher, event, ok=True, message="Reverted `abc1234`.")

    assert replies(world, number)[-1] == "Reverted `abc1234`."
    assert world.fake.reactions_on(event.comment_id) == ["eyes", "rocket"]
