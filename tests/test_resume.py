"""A run killed with SIGKILL resumes where it stopped: no lost and no duplicated iteration."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.journal import IterationRecorded, Journal, RunFinished
from tests.helpers.loop import STEPS
from tests.helpers.toy import toy_files

RUNNER = """
import sys
from pathlib import Path
from tests.helpers.loop import STEPS, run_loop
from tests.helpers.toy import Step

steps = [STEPS[0], Step(STEPS[1].hypothesis, STEPS[1].params, sleep=120), STEPS[2]]
run_loop(Path(sys.argv[1]), steps)
"""


def test_killed_run_resumes_without_loss_or_duplicates(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files())
    journal = Journal(repo / ".growthhacker" / "journal.jsonl")
    root = Path(__file__).resolve().parents[1]
    child = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(repo)], cwd=root, env={**os.environ, "PYTHONPATH": str(root)}
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if journal.path.exists() and any(isinstance(r, IterationRecorded) for r in journal.records()):
            break
        time.sleep(0.05)
    time.sleep(0.2)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert journal.unfinished_run() == "r1"

    summary, agent, _ = _resume(repo)

    iterations = [r.iteration for r in journal.records() if isinstance(r, IterationRecorded)]
    assert iterations == [1, 2, 3]
    assert [r.kind for r in journal.records()].count("baseline") == 1
    assert sum(isinstance(r, RunFinished) for r in journal.records()) == 1
    assert summary.winner == 2
    assert agent.contexts[0].iteration == 2, "the resumed run starts at the first missing iteration"


def _resume(repo: Path):  # type: ignore[no-untyped-def]
    from bot.config import load_config
    from bot.evaluate import Evaluator
    from bot.loop import Loop
    from bot.workspace import Workspace, state_dir
    from tests.helpers.toy import ScriptedAgent

    config = load_config(repo)
    state = state_dir(repo)
    journal = Journal(state / "journal.jsonl")
    # Skip the step already done: the scripted agent replays by call order, like a deterministic agent.
    agent = ScriptedAgent(STEPS[1:])
    loop = Loop(
        config=config,
        workspace=Workspace.open(repo, "r1"),
        evaluator=Evaluator(config.evaluate, state / "cache"),
        journal=journal,
        agent=agent.agent(),
        run_id="r1",
        run_dir=state / "runs" / "r1",
        iterations=len(STEPS),
    )
    return loop.run(resume=True), agent, journal
