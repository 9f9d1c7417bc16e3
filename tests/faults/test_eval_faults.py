"""Fault matrix, evaluation boundary: candidate code that misbehaves while the harness runs it.

Each row is a real candidate diff to ``pipeline/model.py`` run through the loop, whose evaluation
runs the real harness in a subprocess. Named outcomes: ``failed`` (recorded as a failed candidate
with the failure kind), ``evaluated`` (recorded with its metrics; the fault was contained), or
``flagged`` (the candidate is never selected; needs the integrity check in the loop). Every row checks
that the user's checkout is unchanged and the journal lost nothing. Unit-level detail (output bounds,
process-group kills, metrics parsing) is in tests/test_evaluate.py.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
from pathlib import Path

import pytest

from tests.helpers.fault_target import (
    FixedAgent,
    assert_journal_complete,
    checkout_of,
    make_target,
    model_code,
    model_diff,
    run_loop,
    seed_journal,
)

CANARIES = {"GITHUB_TOKEN": "ghs_canary0eval0token", "ANTHROPIC_API_KEY": "sk-ant-canary-eval-key",
            "AWS_SECRET_ACCESS_KEY": "canary/aws/secret/value"}

# Both are written to pass the static integrity check: these rows test the runtime containment.
HANG = """\
import concurrent.futures, os, time
pool = concurrent.futures.ProcessPoolExecutor(1)
print("grandchild", pool.submit(os.getpid).result(), flush=True)
pool.submit(time.sleep, 300)
time.sleep(300)"""
SECRETS = """\
import os
env = getattr(os, "".join(["env", "iron"]))
for name in {names!r}:
    print(name + "=" + str(env.get(name)))"""
# The worktree is <repo>/.growthhacker/worktrees/r1; parents[4] of pipeline/model.py is the checkout.
WRITE_OUTSIDE = """\
import pathlib
pathlib.Path(__file__).resolve().parents[4].joinpath("README.md").write_text("pwned by a candidate")"""
REWRITE_HARNESS = """\
import pathlib
harness = pathlib.Path(__file__).resolve().parents[1] / "evaluate.py"
harness.write_text("import json, sys\\n"
                   "open(sys.argv[2], 'w').write(json.dumps({'err': 0.0, 'runtime_s': 1.0}))\\n")"""

ROWS = [
    pytest.param("crash", 'raise SystemExit("pipeline exploded")', "failed", "crash", id="crash"),
    pytest.param("hang_with_a_grandchild", HANG, "failed", "timeout", id="hang_with_a_grandchild"),
    pytest.param("nan", 'return float("nan")', "failed", "non_finite", id="nan_metric"),
    pytest.param("inf", 'return float("inf")', "failed", "non_finite", id="inf_metric"),
    pytest.param("missing", "import os\nos._exit(0)", "failed", "metrics_missing", id="missing_metric"),
    pytest.param("huge", 'import sys\nsys.stdout.write("x" * 20_000_000)', "evaluated", "bounded",
                 id="huge_stdout"),
    pytest.param("secrets", SECRETS.format(names=sorted(CANARIES)), "evaluated", "no_secrets",
                 id="reads_env_vars_holding_secrets"),
    pytest.param("outside", WRITE_OUTSIDE, "flagged", "checkout",
                 id="writes_outside_the_worktree"),
    pytest.param("harness", REWRITE_HARNESS, "flagged", "harness",
                 id="changes_the_protected_harness_at_run_time"),
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    # Two seeds each, so a candidate that tampers during its first seed would profit on its second.
    seeds = "{search: [0, 1], validate: [200], confirm: [100, 101]}"
    return make_target(tmp_path / "repo", timeout_s=2.0, seeds=seeds)


@pytest.mark.parametrize(("name", "body", "outcome", "detail"), ROWS)
def test_eval_fault(repo: Path, cache: Path, name: str, body: str, outcome: str, detail: str) -> None:
    earlier = seed_journal(repo)
    checkout = checkout_of(repo)
    agent = FixedAgent([model_diff(model_code(1.0, body))], hypothesis=name)
    run_dir = repo / ".growthhacker" / "runs" / "r1"

    try:
        result = run_loop(repo, agent.agent(), cache, environ=CANARIES)
    finally:
        grandchild = _grandchild(run_dir / "1" / "logs" / "seed-0.log")
        alive = grandchild is not None and _running(grandchild)
        worker = grandchild is not None and b"evaluate.py" in _cmdline(grandchild)
        if grandchild is not None and alive and worker:  # a failed row must not leave the sleeper behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(grandchild, signal.SIGKILL)

    record = result.iteration
    if outcome == "failed":
        assert (record.status, record.failure_kind) == ("failed", detail)
        assert (record.failure_reason or "").startswith(f"{detail}: seed 0"), record.failure_reason
    elif outcome == "evaluated":
        assert record.status == "no_gain", record.failure_reason
    else:
        assert (record.status, record.failure_kind) == ("flagged", "integrity"), record.failure_reason
        assert result.summary.winner is None
    if name == "hang_with_a_grandchild":
        assert grandchild is not None and not alive, "the timeout must kill the whole process group"
    if detail == "bounded":
        log = run_dir / "1" / "logs" / "seed-0.log"
        assert log.stat().st_size < 100_000
        assert len(result.journal.path.read_bytes()) < 50_000
    if detail == "no_secrets":
        log = (run_dir / "1" / "logs" / "seed-0.log").read_text()
        assert all(f"{name}=None" in log for name in CANARIES), log
        everything = b"".join(p.read_bytes() for p in (repo / ".growthhacker").rglob("*") if p.is_file())
        assert not any(value.encode() in everything for value in CANARIES.values())
    assert checkout_of(repo) == checkout
    assert_journal_complete(result.journal, earlier, "r1", 1)


def _grandchild(log: Path) -> int | None:
    """The pid the hang row's candidate printed for its worker process, if any."""
    text = log.read_text() if log.exists() else ""
    match = re.search(r"^grandchild (\d+)$", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def _running(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie (a killed orphan may wait for init to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
