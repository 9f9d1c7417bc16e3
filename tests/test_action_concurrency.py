"""Comments during a long ``/growthhacker iterate``: the fake runner's concurrency groups (one running,
one pending, the newest replacing the pending one) against the command workflow.

With init's workflow (job-level groups), a ``stop`` posted while an iterate's search runs, followed by
other comments, is received at once and stops the iterate before it pushes. With a workflow-level
group (the old template), the same comments lose the stop: the "LGTM" replaces it in the queue.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.github.publish import STOP_LABEL
from tests.helpers.action_world import ActionWorld, action_world
from tests.helpers.workflow_runner import WorkflowRun

# End to end in the action world (real bot processes, several workflow runs).
pytestmark = pytest.mark.slow

COMMAND = "growthhacker-command.yml"
JOB_GROUP = """    concurrency:
      group: growthhacker-pr-${{ github.event.issue.number }}
      cancel-in-progress: false
"""
WORKFLOW_GROUP = """concurrency:
  group: growthhacker-pr-${{ github.event.issue.number }}
  cancel-in-progress: false

"""


def wait_for(what: Callable[[], bool], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not what():
        assert time.monotonic() < deadline, "the world never got there"
        time.sleep(0.05)


def in_thread(world: ActionWorld, workflow: str, number: int, body: str, login: str,
              runs: dict[str, WorkflowRun]) -> threading.Thread:
    """Post ``body`` and run ``workflow`` for it in a thread (runs[body] when it ends)."""
    payload = world.comment(number, body, login)
    thread = threading.Thread(target=lambda: runs.__setitem__(body, world.trigger_text(
        workflow, "issue_comment", payload)), daemon=True)
    thread.start()
    return thread


def opened_bot_pr(world: ActionWorld) -> str:
    """A bot PR (#1) from an optimize run; the next Analyzer call (the iterate's) will hang."""
    world.fake.set_role("alice", "write")
    world.fake.set_role("bob", "write")
    dispatch = world.dispatch()
    assert dispatch.ok, dispatch.output
    world.runner.processes = True  # runs overlap in threads: the bot as real processes
    (world.agent_dir / "target").write_text("0.3")  # the iterate would push a better candidate
    (world.agent_dir / "hang-at").write_text("2")
    return str(world.fake.pull(1)["head"]["sha"])


def test_stop_posted_during_a_running_iterate_then_other_comments_stops_it(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        head = opened_bot_pr(world)
        workflow = world.workflows[COMMAND]
        runs: dict[str, WorkflowRun] = {}
        iterate = in_thread(world, workflow, 1, "/growthhacker iterate", "alice", runs)
        wait_for((world.agent_dir / "hanging").exists)  # the iterate's search is running

        comments = (("/growthhacker stop", "alice"), ("LGTM", "bob"), ("/growthhacker status", "bob"))
        for body, login in comments:
            in_thread(world, workflow, 1, body, login, runs).join(timeout=300)
        labels_while_running = [label["name"] for label in world.fake.pull(1)["labels"]]
        (world.agent_dir / "release").write_text("")
        iterate.join(timeout=600)

        assert runs["/growthhacker stop"].ok and runs["/growthhacker stop"].ran() == ["receive"]
        assert STOP_LABEL in labels_while_running  # received at once, not queued behind the iterate
        assert runs["/growthhacker iterate"].ran() == ["receive", "search", "publish"]
        assert world.fake.pull(1)["head"]["sha"] == head  # the iterate pushed nothing
        assert any("runs on this PR were stopped" in reply for reply in world.replies(1))
        # only the iterate's search entered the PR's group; nothing waited, nothing was replaced
        context = runs["/growthhacker iterate"].context
        assert context is not None
        assert [(name, event) for group, name, event in world.runner.groups.history
                if group == "growthhacker-pr-1"] == [(f"search of run {context.run_id}", "running")]


def test_with_a_workflow_level_group_the_newest_comment_replaces_a_queued_stop(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        head = opened_bot_pr(world)
        old = world.workflows[COMMAND].replace(JOB_GROUP, "").replace(
            "permissions: {}\n\n", "permissions: {}\n\n" + WORKFLOW_GROUP, 1)
        groups = world.runner.groups
        runs: dict[str, WorkflowRun] = {}
        iterate = in_thread(world, old, 1, "/growthhacker iterate", "alice", runs)
        wait_for((world.agent_dir / "hanging").exists)

        stop = in_thread(world, old, 1, "/growthhacker stop", "alice", runs)
        wait_for(lambda: groups.waiting("growthhacker-pr-1"))
        lgtm = in_thread(world, old, 1, "LGTM", "bob", runs)
        wait_for(lambda: any(event == "replaced" for _, _, event in groups.history))
        (world.agent_dir / "release").write_text("")
        for thread in (iterate, stop, lgtm):
            thread.join(timeout=600)

        assert {job.result for job in runs["/growthhacker stop"].jobs.values()} == {"cancelled"}
        assert STOP_LABEL not in [label["name"] for label in world.fake.pull(1)["labels"]]  # the stop is lost
        assert world.fake.pull(1)["head"]["sha"] != head  # and the iterate pushed
