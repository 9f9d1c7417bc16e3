"""Fault matrix, process boundary: the real CLI killed at each stage of a run, then ``--resume``.

``growthhacker run REPO --agent command --agent-command "…"`` runs as a subprocess on the fault target
with a command agent (tests/helpers/fault_agent.py) and a harness that can pause at a named stage.
For each signal (SIGTERM, kill -9), one run is killed at every stage in turn — each time resumed
with ``growthhacker run REPO --resume`` — until the last resume finishes:

    baseline evaluation → analyzer call → coder call → candidate evaluation →
    after the iteration is journalled → confirmation on held-out seeds → (finish)

Named outcome of every row: ``resumed``. After each kill the journal is consistent (no duplicates);
at the end it holds every step exactly once (no lost iteration, winner selected), the user's
checkout is unchanged, the run's worktree is gone, and no evaluation the killed runs started is
still running. The stages are chained (one run per signal) because every CLI start costs seconds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.agents.analyzer import LLMAnalyzer
from bot.agents.base import AnalyzerContext
from bot.agents.factory import make_agent
from bot.config import LoopConfig, Objective
from bot.journal import Journal, RunFinished
from bot.ope.catalog import LIBRARIES, Catalog
from bot.ope.catalog_cache import CachedCatalog, load_catalog
from bot.process import stop_processes_in
from tests.helpers.fault_target import (
    AGENT,
    HARNESS,
    MODEL,
    assert_journal_complete,
    checkout_of,
    make_target,
    seed_journal,
)

CLI = str(Path(sys.executable).parent / "growthhacker")
#: (stage, what pauses there): the agent's and the harness's checkpoints in the order a run meets them.
STAGES = [
    ("baseline_evaluation", "eval-1.0-0"),
    ("analyzer_call", "analyze-1"),
    ("coder_call", "code-1"),
    ("candidate_evaluation", "eval-0.6-0"),
    ("after_the_iteration_is_journalled", "analyze-2"),
    ("confirmation", "eval-0.3-100"),
]

PAUSING_HARNESS = HARNESS.replace(
    "err = model.estimate(seed)\n",
    """\
import os, time
control = pathlib.Path(__CONTROL__)
stage = f"eval-{model.SCALE}-{seed}"
with (control / "calls.log").open("a") as log:
    log.write(stage + "\\n")
if (control / "pause").exists() and (control / "pause").read_text().strip() == stage:
    (control / "reached").write_text(f"{stage} {os.getpid()}")
    time.sleep(120)
err = model.estimate(seed)
""",
)


def agent_command(control: Path) -> str:
    return " ".join(shlex.quote(part) for part in (sys.executable, "-S", str(AGENT), str(control)))


def start(repo: Path, control: Path, *args: str) -> subprocess.Popen[bytes]:
    log = (control / "cli.log").open("ab")
    return subprocess.Popen([CLI, "run", str(repo), *args], stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "NO_COLOR": "1"})


def wait_reached(control: Path, stage: str, cli: subprocess.Popen[bytes]) -> int:
    """Wait until the run pauses at ``stage``; returns the pid of the paused process."""
    deadline = time.monotonic() + 60
    reached = control / "reached"
    while time.monotonic() < deadline:
        if reached.exists() and reached.read_text().startswith(stage + " "):
            return int(reached.read_text().split()[1])
        assert cli.poll() is None, f"the run exited before {stage}:\n{(control / 'cli.log').read_text()}"
        time.sleep(0.02)
    raise AssertionError(f"the run never reached {stage}")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "kill_-9"])
def test_a_run_killed_at_every_stage_resumes_without_loss(tmp_path: Path, sig: signal.Signals) -> None:
    control = tmp_path / "control"
    control.mkdir()
    config = f"  agent: command\n  agent_command: {agent_command(control)!r}\n"
    harness = PAUSING_HARNESS.replace("__CONTROL__", repr(str(control)))
    repo = make_target(tmp_path / "repo", {"evaluate.py": harness}, timeout_s=30.0, extra=config)
    earlier = seed_journal(repo)
    checkout = checkout_of(repo)
    journal = Journal(repo / ".growthhacker" / "journal.jsonl")
    paused: list[int] = []
    try:
        args = ["-n", "2", "--agent", "command", "--agent-command", agent_command(control)]
        for name, stage in STAGES:
            (control / "pause").write_text(stage)
            cli = start(repo, control, *args)
            paused.append(wait_reached(control, stage, cli))
            os.kill(cli.pid, sig)
            assert cli.wait(timeout=30) != 0
            if stage.startswith(("analyze", "code")) and ours(paused[-1]):  # not in the worktree: ours
                os.kill(paused[-1], signal.SIGKILL)
            run_id = journal.unfinished_run()
            assert run_id is not None, f"killed at {name}, the run must be resumable"
            assert_no_duplicates(journal, run_id, name)
            args = ["--resume"]
        (control / "pause").unlink()
        final = start(repo, control, "--resume")
        assert final.wait(timeout=120) == 0, (control / "cli.log").read_text()

        assert run_id is not None
        assert_journal_complete(journal, earlier, run_id, 2)
        finished = [r for r in journal.by_run(run_id) if isinstance(r, RunFinished)]
        assert finished[0].winner == 2, finished[0].reason
        branch = subprocess.run(["git", "show", f"growthhacker/{run_id}:{MODEL}"], cwd=repo, check=True,
                                capture_output=True, text=True).stdout
        assert branch.startswith("SCALE = 0.3\n")
        worktrees = subprocess.run(["git", "worktree", "list", "--porcelain"], cwd=repo, check=True,
                                   capture_output=True, text=True).stdout
        assert worktrees.count("worktree ") == 1, worktrees
        assert checkout_of(repo) == checkout
        assert not [pid for pid in paused if alive(pid)], "an evaluation of a killed run is still running"
    finally:
        for pid in paused:
            if alive(pid) and ours(pid):  # never signal a pid that was since reused by someone else
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def ours(pid: int) -> bool:
    """True if ``pid`` runs this test's agent script or pausing harness."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    return b"fault_agent.py" in command or b"evaluate.py" in command


def assert_no_duplicates(journal: Journal, run_id: str, stage: str) -> None:
    keys = [(r.kind, getattr(r, "iteration", None)) for r in journal.by_run(run_id)]
    assert len(keys) == len(set(keys)), f"duplicate journal records after a kill at {stage}: {keys}"


def test_processes_left_in_a_directory_are_killed_and_others_spared(tmp_path: Path) -> None:
    inside, outside = tmp_path / "worktree" / "pipeline", tmp_path / "elsewhere"
    inside.mkdir(parents=True)
    outside.mkdir()
    left = subprocess.Popen(["sleep", "60"], cwd=inside, start_new_session=True)  # like an evaluation
    other = subprocess.Popen(["sleep", "60"], cwd=outside, start_new_session=True)
    visitor = subprocess.Popen(["sleep", "60"], cwd=inside, process_group=0)  # no session of its own
    try:
        found = stop_processes_in(tmp_path / "worktree")

        assert found == [left.pid]
        assert left.wait(timeout=5) == -signal.SIGKILL
        assert other.poll() is None and visitor.poll() is None
    finally:
        for process in (left, other, visitor):
            process.kill()
            process.wait()


def test_a_restarted_run_reads_the_catalog_from_the_cache(tmp_path: Path) -> None:

    # A cache left by an earlier run, holding a class no installed library has.
    real = Catalog.static()
    sentinel = dataclasses.replace(real.specs("obp")[0], name="SentinelEstimator")
    specs = {**{lib: real.specs(lib) for lib in LIBRARIES}, "obp": (sentinel,)}
    load_catalog(tmp_path / ".growthhacker" / "cache", build=lambda: CachedCatalog(
        specs, {lib: "static" for lib in LIBRARIES}, real.pipeline_calls()))

    agent, _ = make_agent(LoopConfig(agent="command"), {}, agent_command="true", cwd=tmp_path)

    assert isinstance(agent.analyzer, LLMAnalyzer)
    context = AnalyzerContext(files={}, objective=Objective(metric="err"), guardrails=[], attempts=[],
                              baseline={}, iteration=1, iterations=1)
    assert "SentinelEstimator" in agent.analyzer.build_prompt(context).system


def test_the_cli_starts_without_importing_the_anthropic_sdk() -> None:
    probe = "import sys, bot.cli; print('anthropic' in sys.modules)"

    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout

    assert out.strip() == "False", "only the anthropic backend needs the SDK (seconds to import)"
