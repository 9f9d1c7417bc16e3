"""A cancelled run (the runner's SIGTERM mid-iteration, a real process) loses none of the records of
the iterations that finished: search hands them on, publish pushes them to the journal branch."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.action_world import action_world

# End to end in the action world (real bot processes, several workflow runs).
pytestmark = pytest.mark.slow


def test_sigterm_during_an_optimize_run_keeps_the_finished_iterations_on_the_journal_branch(
    tmp_path: Path,
) -> None:
    with action_world(tmp_path) as world:
        # The second Analyzer call hangs: iteration 1 is recorded, iteration 2 is under way.
        (world.agent_dir / "hang-at").write_text("2")
        world.runner.cancel_when = lambda job: job == "search" and (world.agent_dir / "hanging").exists()

        run = world.dispatch(iterations="3")

        assert run["search"].result == "cancelled", run.output
        assert "SIGTERM" in run.output
        assert run["publish"].result == "success", run.output
        records = world.journal()
        kinds = [(r["kind"], r.get("iteration")) for r in records]
        assert kinds == [("run_started", None), ("baseline", None), ("iteration", 1)], kinds
        assert records[2]["status"] == "improved"
        assert run.outputs.get("pr-number", "") == "" and world.fake.check_runs == []  # nothing proposed
        assert "interrupted (stopped by SIGTERM)" in run["publish"].summary + run["publish"].output
