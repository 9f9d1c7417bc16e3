"""Whose comment is the sticky comment: only the bot's. Without ``--bot-login`` that means a comment by a
Bot account (no human can post as one); with a personal access token, the login given."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.github.render import STICKY_MARKER
from tests.helpers.fake_github.spec import account_errors
from tests.helpers.fake_github.world import World, github_world

PASTED = f"{STICKY_MARKER}\nlook, a marker"


def open_pr(world: World) -> int:
    branch = world.bot_branch()
    return world.publisher.ensure_pull_request(head=branch, base="main", title="t", body="b").number


def comments(world: World, number: int) -> list[tuple[int, str, str, str]]:
    found = world.fake.comments_on(number)
    return [(c["id"], c["user"]["login"], c["user"]["type"], c["body"]) for c in found]


def test_a_human_comment_with_the_marker_is_neither_edited_nor_taken_as_the_sticky(tmp_path: Path) -> None:
    with github_world(tmp_path) as world:  # no bot login given: the Actions token
        number = open_pr(world)
        human = world.fake.add_comment(number, PASTED, login="mallory")

        first = world.publisher.upsert_sticky_comment(number, "report 1")
        second = world.publisher.upsert_sticky_comment(number, "report 2")

        assert first == second != human["id"]
        assert comments(world, number) == [
            (human["id"], "mallory", "User", PASTED),
            (first, "github-actions[bot]", "Bot", f"{STICKY_MARKER}\nreport 2"),
        ]
        assert world.fake.violations == []


def test_a_marker_pasted_after_the_bots_comment_does_not_hide_it(tmp_path: Path) -> None:
    with github_world(tmp_path) as world:
        number = open_pr(world)
        sticky = world.publisher.upsert_sticky_comment(number, "report 1")
        human = world.fake.add_comment(number, PASTED, login="mallory")

        kept = world.publisher.upsert_sticky_comment(number, "report 2")

        assert kept == sticky
        assert comments(world, number) == [
            (sticky, "github-actions[bot]", "Bot", f"{STICKY_MARKER}\nreport 2"),
            (human["id"], "mallory", "User", PASTED),
        ]


def test_with_a_personal_token_the_bot_login_names_the_sticky_comments_author(tmp_path: Path) -> None:
    with github_world(tmp_path, bot_login="octocat", posts_as="octocat") as world:
        number = open_pr(world)
        world.fake.add_comment(number, PASTED, login="mallory")

        first = world.publisher.upsert_sticky_comment(number, "report 1")
        second = world.publisher.upsert_sticky_comment(number, "report 2")

        assert first == second
        assert [(login, kind) for _, login, kind, _ in comments(world, number)] == [
            ("mallory", "User"),
            ("octocat", "User"),
        ]
        assert world.fake.violations == []


def test_a_personal_token_without_the_bot_login_is_told_to_pass_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with github_world(tmp_path, posts_as="octocat") as world:
        number = open_pr(world)

        world.publisher.upsert_sticky_comment(number, "report 1")

        assert "pass --bot-login octocat" in capsys.readouterr().err


def test_the_fake_flags_an_account_type_github_would_not_send() -> None:
    human_as_bot = {"login": "mallory", "type": "Bot", "avatar_url": "https://github.invalid/a"}
    app_as_user = {"login": "github-actions[bot]", "type": "User", "avatar_url": "https://github.invalid/b"}
    real = [{"user": {**human_as_bot, "type": "User"}}, {**app_as_user, "type": "Bot"}]

    assert len(account_errors([{"user": human_as_bot}, app_as_user])) == 2
    assert account_errors(real) == []
