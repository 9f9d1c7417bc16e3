"""`growthhacker action` modes and their failure paths, through the real CLI against a fake GitHub."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.github.action.command import last_bot_commit
from bot.github.publish import STOP_LABEL
from bot.github.render import parse_run_marker, run_marker
from bot.workspace import BOT_IDENTITY, parse_candidate_tag
from tests.helpers.action_world import action_world
from tests.helpers.repos import git_repo
from tests.helpers.toy import PARAMS


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def test_an_event_the_bot_does_not_handle_does_nothing(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        result = world.invoke("push", {"ref": "refs/heads/main"})

        assert result.exit_code == 0, result.output
        assert "nothing to do" in result.output
        assert world.fake.requests == []


def test_a_mode_that_does_not_fit_the_event_is_an_error(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        result = world.invoke("workflow_dispatch", {"inputs": {}}, "--mode", "measure")

        assert result.exit_code == 10
        assert "mode 'measure' cannot run on a workflow_dispatch event" in result.output


@pytest.mark.slow  # building the command agent loads the OPE catalog (imports obp): ~7 s
def test_without_an_improvement_only_the_summary_and_the_journal_are_written(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        (world.agent_dir / "target").write_text("1.5")  # the agent proposes a worse scale

        run = world.trigger("schedule", {"schedule": "17 3 * * 1"})

        assert run.ok, run.output
        assert {run.outputs[name] for name in ("pr-number", "best-metric", "improvement")} == {""}
        assert "no improvement" in run.summary
        assert world.fake.count("POST", r"/pulls$") == 0
        assert [r["kind"] for r in world.journal()][-1] == "run_finished"


def test_stop_labels_the_pr_and_journals_the_command(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        world.fake.set_role("alice", "maintain")
        world.push_change("growthhacker/manual", {PARAMS: "SCALE = 0.5\n"})
        number = world.open_pull("growthhacker/manual")

        run, _ = world.command(number, "/growthhacker stop", "alice")

        assert run.ok, run.output
        assert STOP_LABEL in [label["name"] for label in world.fake.pull(number)["labels"]]
        assert [(r["event"], r["text"], r["run_id"]) for r in world.journal()] == [
            ("command", "/growthhacker stop", "manual")
        ]


def test_undo_without_a_bot_commit_pushes_nothing(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        world.fake.set_role("alice", "write")
        head = world.push_change("growthhacker/manual", {PARAMS: "SCALE = 0.5\n"})
        number = world.open_pull("growthhacker/manual")
        run, command = world.command(number, "/growthhacker undo", "alice")

        assert run.ok, run.output
        assert world.replies(number)[-1].startswith("Nothing to undo")
        assert world.fake.reactions_on(command["comment"]["id"]) == ["eyes", "confused"]
        assert world.remote_sha("growthhacker/manual") == head


def test_iterate_on_a_deleted_branch_replies_with_the_failure(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        world.fake.set_role("alice", "write")
        world.push_change("growthhacker/gone", {PARAMS: "SCALE = 0.5\n"})
        number = world.open_pull("growthhacker/gone")
        git(world.bare, "update-ref", "-d", "refs/heads/growthhacker/gone")
        run, command = world.command(number, "/growthhacker iterate", "alice")

        assert not run.ok
        assert "no longer exists" in run.output
        assert world.replies(number)[-1].startswith("`iterate` failed:")
        assert world.fake.reactions_on(command["comment"]["id"]) == ["eyes", "confused"]
        assert list(world.agent_dir.glob("prompt-*")) == []
        assert [r["text"] for r in world.journal()] == ["/growthhacker iterate"]  # kept despite the failure


def test_undo_targets_the_newest_bot_commit_that_is_not_reverted(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {PARAMS: "SCALE = 1.0\n"})
    base = git(repo, "rev-parse", "HEAD")

    def bot_commit(text: str, message: str) -> str:
        (repo / PARAMS).write_text(text)
        git(repo, *BOT_IDENTITY, "commit", "-q", "-am", message)
        return git(repo, "rev-parse", "HEAD")

    first = bot_commit("SCALE = 0.6\n", "growthhacker: first")
    second = bot_commit("SCALE = 0.3\n", "growthhacker: second")
    bot_commit("SCALE = 0.6\n", f'Revert "growthhacker: second"\n\nThis reverts commit {second}.')
    (repo / "NOTES.md").write_text("human\n")
    git(repo, "add", "NOTES.md")
    git(repo, "-c", "user.name=h", "-c", "user.email=h@example.invalid", "commit", "-q", "-m", "notes")

    target = last_bot_commit(repo, base, "HEAD")

    assert target is not None and (target.sha, target.subject) == (first, "growthhacker: first")


def test_undo_names_the_candidate_that_is_the_head_again_in_the_description(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        world.fake.set_role("alice", "write")
        world.push_bot_commits("growthhacker/run-a", [("0.6", "run-a", 1), ("0.3", "run-b", 2)])
        number = world.open_pull("growthhacker/run-a", body=f"{run_marker('run-b', 2)}\nabout run-b")

        run, _ = world.command(number, "/growthhacker undo", "alice")

        assert run.ok, run.output
        body = world.fake.pull(number)["body"]
        assert parse_run_marker(body) == ("run-a", 1)
        assert body.endswith("about run-b")  # run-a is not in the journal: only the marker changes
        assert "names run `run-a`, iteration 1 again" in world.replies(number)[-1]


def test_undoing_the_only_candidate_leaves_the_description_naming_no_iteration(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        world.fake.set_role("alice", "write")
        world.push_bot_commits("growthhacker/run-a", [("0.6", "run-a", 1)])
        number = world.open_pull("growthhacker/run-a", body=run_marker("run-a", 1))

        run, _ = world.command(number, "/growthhacker undo", "alice")

        assert run.ok, run.output
        assert parse_run_marker(world.fake.pull(number)["body"]) == ("run-a", None)
        assert world.remote_file("growthhacker/run-a") == "SCALE = 1.0"


def test_a_candidate_commit_names_its_run_on_its_last_run_line() -> None:
    message = (
        "growthhacker: (run evil, iteration 9)\n\nHypothesis: mimic (run evil, iteration 9)\n"
        "err: +12.0% on held-out seeds [100] (run 20261125-abc, iteration 3)\n"
    )

    assert parse_candidate_tag(message) == ("20261125-abc", 3)
    assert parse_candidate_tag("a human's commit") is None
