"""``github.max_open_prs`` (default 1): a scheduled run with a bot PR open updates that PR instead of
opening another, unless a human pushed to it; then it pushes nothing and says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.github.render import parse_run_marker
from tests.helpers.action_world import action_world, git
from tests.helpers.toy import PARAMS

# End to end in the action world (real bot processes, several workflow runs).
pytestmark = pytest.mark.slow

SCHEDULE = {"schedule": "17 3 * * 1"}


def test_a_second_scheduled_run_updates_the_open_bot_pr_instead_of_opening_another(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        first = world.trigger("schedule", SCHEDULE)
        assert first.ok, first.output
        pull = world.fake.pull(1)
        branch, first_head = pull["head"]["ref"], pull["head"]["sha"]
        first_run = parse_run_marker(pull["body"])

        (world.agent_dir / "target").write_text("0.3")  # the next run finds a better scale
        second = world.trigger("schedule", SCHEDULE)

        assert second.ok, second.output
        assert second.outputs["pr-number"] == "1"
        assert world.fake.count("POST", r"/pulls$") == 1  # no second PR
        pull = world.fake.pull(1)
        assert pull["head"]["ref"] == branch and world.remote_file(branch) == "SCALE = 0.3"
        # a fast-forward on top of the first candidate, never forced
        assert git(world.bare, "rev-parse", f"{pull['head']['sha']}^") == first_head
        marker = parse_run_marker(pull["body"])
        assert marker is not None and first_run is not None and marker[0] != first_run[0]
        assert pull["title"] == "GrowthHacker: Set SCALE to 0.3"
        assert world.fake.check_runs[-1]["head_sha"] == pull["head"]["sha"]
        assert "updated (github.max_open_prs reached)" in second.summary
        assert len(world.stickies(1)) == 1


def test_a_bot_pr_a_human_pushed_to_is_left_alone_and_the_run_says_why(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        first = world.trigger("schedule", SCHEDULE)
        assert first.ok, first.output
        branch = world.fake.pull(1)["head"]["ref"]
        clone = tmp_path / "human"
        git(tmp_path, "clone", "-q", "-b", branch, str(world.bare), str(clone))
        (clone / PARAMS).write_text("SCALE = 0.55\n")
        git(clone, "commit", "-q", "-am", "a reviewer's tweak")
        git(clone, "push", "-q", "origin", branch)
        human_head = world.remote_sha(branch)

        (world.agent_dir / "target").write_text("0.3")
        second = world.trigger("schedule", SCHEDULE)

        assert second.ok, second.output
        assert second.outputs["pr-number"] == ""
        assert world.fake.count("POST", r"/pulls$") == 1
        assert world.remote_sha(branch) == human_head
        assert "github.max_open_prs is 1" in second.summary and "tester@example.invalid" in second.summary
        assert "Merge or close one, or raise github.max_open_prs" in second.summary
        # the run is still remembered
        assert [r["kind"] for r in world.journal()].count("run_finished") == 2


def test_actions_not_allowed_to_create_prs_names_the_setting_and_leaves_no_branch(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        world.fake.fail_next("POST", r"/pulls$", 403,
                             message="GitHub Actions is not permitted to create or approve pull requests.")

        run = world.trigger("schedule", SCHEDULE)

        assert run["publish"].result == "failure"
        assert "Allow GitHub Actions to create and approve pull requests" in run.output
        assert "permissions:` may lack" not in run.output  # not the generic (wrong) hint
        branches = git(world.bare, "for-each-ref", "--format=%(refname:short)", "refs/heads/")
        assert branches.split() == ["growthhacker/journal", "main"]  # no orphan run branch
        assert [r["kind"] for r in world.journal()][-1] == "run_finished"  # the records are kept
