"""Publishing: real git pushes to a bare remote, PRs, the sticky comment, checks and reactions on the fake."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.errors import GitHubError
from bot.github.git_remote import RemoteGit, git_auth_env
from bot.github.render import BODY_LIMIT, STICKY_MARKER, CheckReport
from bot.github.step_files import append_step_summary, write_outputs
from tests.helpers.fake_github.world import TOKEN, World, git, github_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with github_world(tmp_path) as w:
        yield w
        assert w.fake.violations == []


def open_pr(world: World, body: str = "first body") -> int:
    branch = world.bot_branch()
    return world.publisher.ensure_pull_request(
        head=branch, base="main", title="GrowthHacker: SNIPW", body=body, labels=["growthhacker"]
    ).number


# ---- git --------------------------------------------------------------------------------------
def test_push_creates_the_branch_on_the_remote(world: World) -> None:
    sha = world.commit("candidate", {"ope_pipeline/estimator.py": "ESTIMATOR = 'DR'\n"})

    pushed = RemoteGit(world.work, str(world.bare), TOKEN).push_branch("growthhacker/run-7")

    assert pushed == sha
    assert world.fake.sha_of("growthhacker/run-7") == sha


def test_push_never_overwrites_commits_a_human_added(world: World) -> None:
    branch = world.bot_branch()
    world.commit(branch, {"NOTES.md": "human fix\n"}, "human fix")
    world.push(branch)
    git(world.work, "reset", "-q", "--hard", "HEAD~1")  # the bot's stale view of the branch
    world.commit(branch, {"ope_pipeline/estimator.py": "ESTIMATOR = 'DR'\n"}, "bot iteration")

    with pytest.raises(GitHubError, match="never force-pushes"):
        RemoteGit(world.work, str(world.bare)).push_branch(branch)
    assert "human fix" in git(world.bare, "log", "-1", "--format=%s", branch)


def test_push_errors_never_show_the_token(world: World) -> None:
    secret = "ghp_supersecretvalue123"
    remote = f"http://x-access-token:{secret}@127.0.0.1:9/acme/ope-target.git"  # nothing listens on port 9

    with pytest.raises(GitHubError) as caught:
        RemoteGit(world.work, remote, secret).push_branch("growthhacker/x")
    assert secret not in str(caught.value)
    assert "127.0.0.1:9" in str(caught.value)


def test_git_auth_env_carries_the_token_as_a_basic_auth_header() -> None:
    env = git_auth_env("tok-123456", base={"PATH": "/usr/bin"})

    header = env[f"GIT_CONFIG_VALUE_{int(env['GIT_CONFIG_COUNT']) - 1}"]
    assert env["GIT_CONFIG_KEY_0"] == "http.extraheader"
    assert base64.b64decode(header.split()[-1]).decode() == "x-access-token:tok-123456"
    assert env["GIT_TERMINAL_PROMPT"] == "0"


# ---- pull requests ------------------------------------------------------------------------------
def test_a_new_pull_request_is_created_with_labels(world: World) -> None:
    branch = world.bot_branch()

    ref = world.publisher.ensure_pull_request(
        head=branch, base="main", title="GrowthHacker: SNIPW", body="why", labels=["growthhacker"]
    )

    pull = world.fake.pull(ref.number)
    assert ref.created
    assert (pull["title"], pull["body"], pull["head"]["ref"]) == ("GrowthHacker: SNIPW", "why", branch)
    assert [label["name"] for label in pull["labels"]] == ["growthhacker"]


def test_an_existing_pull_request_is_updated_after_the_422(world: World) -> None:
    number = open_pr(world)

    ref = world.publisher.ensure_pull_request(
        head="growthhacker/run-1", base="main", title="New", body="second"
    )

    assert (ref.number, ref.created) == (number, False)
    assert world.fake.pull(number)["body"] == "second"
    assert world.fake.count("POST", r"/pulls$") == 2
    assert world.fake.count("PATCH", rf"/pulls/{number}$") == 1


def test_the_description_of_a_pull_request_is_replaced(world: World) -> None:
    number = open_pr(world, body="about run 1")

    world.publisher.edit_pull_body(number, "about run 2")

    assert world.fake.pull(number)["body"] == "about run 2"
    assert world.fake.pull(number)["title"] == "GrowthHacker: SNIPW"


def test_a_pull_request_from_a_branch_never_pushed_is_reported(world: World) -> None:
    with pytest.raises(GitHubError, match="push it first"):
        world.publisher.ensure_pull_request(head="growthhacker/missing", base="main", title="t", body="b")


def test_an_oversized_body_is_truncated_to_the_limit_with_a_note(world: World) -> None:
    number = open_pr(world, body="x" * 50 + "\n" + "y" * 100_000)

    body = world.fake.pull(number)["body"]
    assert len(body) <= BODY_LIMIT
    assert "Truncated" in body


def test_pull_info_reports_branch_labels_and_fork_status(world: World) -> None:
    number = open_pr(world)

    info = world.publisher.pull_info(number)

    assert (info.head_ref, info.base_ref, info.is_fork, info.labels) == (
        "growthhacker/run-1",
        "main",
        False,
        ("growthhacker",),
    )


def test_branch_head_reads_the_remote_branch(world: World) -> None:
    branch = world.bot_branch()

    assert world.publisher.branch_head(branch) == world.fake.sha_of(branch)


def test_a_deleted_branch_is_reported_clearly(world: World) -> None:
    branch = world.bot_branch()
    git(world.bare, "update-ref", "-d", f"refs/heads/{branch}")

    with pytest.raises(GitHubError, match=r"no longer exists.*start a new run"):
        world.publisher.branch_head(branch)


# ---- the sticky comment -----------------------------------------------------------------------
def test_the_sticky_comment_is_created_once_then_edited_in_place(world: World) -> None:
    number = open_pr(world)

    first = world.publisher.upsert_sticky_comment(number, "iteration 1")
    second = world.publisher.upsert_sticky_comment(number, "iteration 2")

    comments = world.fake.comments_on(number)
    assert first == second
    assert [c["body"] for c in comments] == [f"{STICKY_MARKER}\niteration 2"]
    assert world.fake.count("POST", r"/comments$") == 1


def test_a_sticky_comment_edited_concurrently_is_overwritten_in_place(world: World) -> None:
    number = open_pr(world)
    cid = world.publisher.upsert_sticky_comment(number, "run A")
    world.fake.edit_comment(cid, f"{STICKY_MARKER}\nrun B (stale)")

    world.publisher.upsert_sticky_comment(number, "run C")

    assert [c["body"] for c in world.fake.comments_on(number)] == [f"{STICKY_MARKER}\nrun C"]


def test_a_sticky_comment_deleted_while_updating_is_recreated(world: World) -> None:
    number = open_pr(world)
    world.publisher.upsert_sticky_comment(number, "run A")
    world.fake.fail_next("PATCH", r"/issues/comments/\d+$", 404, message="Not Found")

    world.publisher.upsert_sticky_comment(number, "run B")

    assert [c["body"] for c in world.fake.comments_on(number)][-1] == f"{STICKY_MARKER}\nrun B"


def test_duplicate_sticky_comments_from_racing_runs_collapse_to_the_oldest(world: World) -> None:
    number = open_pr(world)
    oldest = world.publisher.reply(number, f"{STICKY_MARKER}\nrun A")
    world.publisher.reply(number, f"{STICKY_MARKER}\nrun B")

    kept = world.publisher.upsert_sticky_comment(number, "run C")

    assert kept == oldest
    assert [c["body"] for c in world.fake.comments_on(number)] == [f"{STICKY_MARKER}\nrun C"]


def test_sticky_comments_beyond_the_first_page_are_found(world: World) -> None:
    number = open_pr(world)
    for i in range(31):
        world.fake.add_comment(number, f"chatter {i}", login="alice")
    cid = world.publisher.upsert_sticky_comment(number, "report 1")

    assert world.publisher.upsert_sticky_comment(number, "report 2") == cid
    assert len(world.fake.comments_on(number)) == 32


# ---- checks, reactions, replies -----------------------------------------------------------------
REPORT = CheckReport(
    conclusion="success", title="relative_ee -12.0% (0.1 → 0.088): better (won 3/3 seeds)", summary="| t |"
)


def test_a_check_run_is_created_with_the_objective_delta(world: World) -> None:
    sha = world.fake.sha_of(world.bot_branch())
    assert sha is not None

    kind = world.publisher.publish_check(sha, REPORT, details_url="https://github.invalid/run/1")

    run = world.fake.check_runs[0]
    assert kind == "check_run"
    assert (run["head_sha"], run["conclusion"], run["output"]["title"]) == (sha, "success", REPORT.title)


def test_a_commit_status_replaces_the_check_run_when_the_token_may_not_create_one(world: World) -> None:
    sha = world.fake.sha_of(world.bot_branch())
    assert sha is not None
    world.fake.check_runs_forbidden = True

    kind = world.publisher.publish_check(sha, REPORT)

    assert kind == "status"
    assert (world.fake.statuses[0]["state"], world.fake.statuses[0]["context"]) == ("success", "GrowthHacker")


def test_reactions_are_added_to_the_command_comment(world: World) -> None:
    number = open_pr(world)
    comment = world.fake.add_comment(number, "/growthhacker status", login="alice")

    world.publisher.react(number, comment["id"], "eyes")
    world.publisher.react(number, comment["id"], "rocket")

    assert world.fake.reactions_on(comment["id"]) == ["eyes", "rocket"]


def test_list_comments_reports_authors_and_types(world: World) -> None:
    number = open_pr(world)
    world.fake.add_comment(number, "try SNDR", login="alice")
    world.publisher.reply(number, "noted")

    comments = world.publisher.list_comments(number)

    assert [(c.author, c.author_type, c.body) for c in comments] == [
        ("alice", "User", "try SNDR"),
        ("github-actions[bot]", "Bot", "noted"),
    ]


# ---- Actions outputs ----------------------------------------------------------------------------
def test_outputs_use_the_multiline_heredoc_format(tmp_path: Path) -> None:
    out = tmp_path / "github_output"

    write_outputs(out, {"pr-number": "7", "improvement": "0.12\nsecond line"})

    lines = out.read_text().splitlines()
    assert (
        lines[0].startswith("pr-number<<ghadelim_")
        and lines[1] == "7"
        and lines[2] == lines[0].split("<<")[1]
    )
    assert lines[4:6] == ["0.12", "second line"]


def test_the_job_summary_is_appended(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")

    append_step_summary(summary, "| metric | base |")

    assert summary.read_text() == "# earlier step\n| metric | base |\n"


def test_a_pull_requests_comments_are_listed_100_a_page(world: World) -> None:
    number = open_pr(world)
    for i in range(120):
        world.fake.add_comment(number, f"comment {i}", login="alice")

    comments = world.publisher.list_comments(number)

    assert [c.body for c in comments] == [f"comment {i}" for i in range(120)]
    assert world.fake.count("GET", rf"/issues/{number}/comments") == 2  # not 4 pages of 30
