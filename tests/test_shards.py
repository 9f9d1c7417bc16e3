"""Sharded search through the real CLI: K shard processes with their own workspaces and directories,
then a gather that selects as a single run does; a killed shard re-run writes the same records."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bot.finalists import DONE as CONFIRMED
from bot.finalists import read_done as read_confirmation
from bot.journal import ConfirmationRecorded, IterationRecorded, Journal
from bot.shards import DONE, JOURNAL, RECORDS, ShardSpec
from tests.helpers.loop import run_loop
from tests.helpers.sketch import PIPELINE, candidate_text, sketch_files
from tests.helpers.toy import Step

# Each shard is a process that loads the OPE catalog (imports obp): tens of seconds on two cores.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "ANTHROPIC_API_KEY": "", "ANTHROPIC_BASE_URL": ""}


def growthhacker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=600)


def test_three_shards_select_the_winner_a_single_run_selects_over_the_same_candidates(
    make_repo,  # type: ignore[no-untyped-def]
) -> None:
    repo = make_repo(sketch_files(iterations=6))

    result = growthhacker("run", str(repo), "--shards", "3", "--workers", "2")

    assert result.returncode == 0, result.stdout + result.stderr
    journal = Journal(repo / ".growthhacker" / "journal.jsonl")
    [run_id] = journal.run_ids()
    sharded = journal.summary(run_id)
    records = sorted((r for r in journal.by_run(run_id) if isinstance(r, IterationRecorded)),
                     key=lambda r: r.iteration)
    assert [r.iteration for r in records] == [1, 2, 3, 4, 5, 6]
    # Each shard is an island: its first move differs from the others' (the heuristic's i-th best).
    firsts = [r for r in records if r.iteration <= 3]
    assert len({r.diff for r in firsts}) == 3, [r.hypothesis for r in firsts]
    assert [r.parent for r in firsts] == [None, None, None]
    assert sharded.winner is not None, sharded.reason
    run_dir = repo / ".growthhacker" / "runs" / run_id
    assert (run_dir / "report.md").is_file() and (run_dir / "pr.md").is_file()
    assert all((run_dir / str(n) / "candidate.diff").is_file() for n in range(1, 7) if records[n - 1].diff)
    branch = subprocess.run(["git", "show", f"growthhacker/{run_id}:{PIPELINE}"], cwd=repo,
                            capture_output=True, text=True, check=True).stdout
    assert branch == candidate_text(repo, records[sharded.winner - 1].diff)

    # One process over the same candidates (each iteration's file as the shards left it) and seeds.
    steps = [Step(r.hypothesis, candidate_text(repo, r.diff), path=PIPELINE) for r in records]
    single, _, _ = run_loop(make_repo(sketch_files(iterations=6), name="single"), steps, run_id="single")

    assert single.winner == sharded.winner
    assert single.best is not None and sharded.best is not None
    assert single.best.diff == sharded.best.diff
    # The same finalists: shards may reach one candidate twice (a single run calls the later one a
    # duplicate); it is confirmed once, as the earliest iteration that proposed it.
    assert [(i.iteration, i.confirmed) for i in single.iterations if i.confirmed is not None] == [
        (i.iteration, i.confirmed) for i in sharded.iterations if i.confirmed is not None
    ]
    firsts = set({r.diff: r.iteration for r in reversed(records)}.values())
    assert [(i.iteration, i.status) for i in single.iterations if i.iteration in firsts] == [
        (i.iteration, i.status) for i in sharded.iterations if i.iteration in firsts
    ]

    # The two finalists (confirm_top: 2) were confirmed side by side, each by a process of its own,
    # and the gather confirmed neither again.
    confirmed = [read_confirmation(run_dir / "finalists" / str(i)) for i in range(2)]
    assert all(done is not None and done.run_id == run_id for done in confirmed)
    by_processes = sorted(done.iteration for done in confirmed if done is not None and done.iteration)
    recorded = sorted(r.iteration for r in journal.by_run(run_id) if isinstance(r, ConfirmationRecorded))
    assert by_processes == recorded and len(recorded) == len(set(recorded)) >= 1
    assert "record(s) merged from 2 confirmation(s)" in _text(result.stdout)

    again = growthhacker("gather", "--repo", str(repo), *(str(run_dir / "shards" / str(i)) for i in range(3)))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 record(s) merged" in again.stdout
    assert journal.summary(run_id) == sharded


def test_a_killed_shard_rerun_writes_the_records_of_an_uninterrupted_one(make_repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    files = sketch_files(iterations=6, sleep_s=0.2)
    steady, killed = make_repo(files, name="steady"), make_repo(files, name="killed")
    shard = ["--index", "0", "--count", "2", "--base", "HEAD", "--iterations", "6"]

    done = growthhacker("shard", str(steady), "--run-id", "r1", *shard, "--out", str(tmp_path / "steady"))
    assert done.returncode == 0, done.stdout + done.stderr

    out = tmp_path / "killed"
    child = subprocess.Popen([sys.executable, "-m", "bot.cli", "shard", str(killed), "--run-id", "r1", *shard,
                              "--out", str(out)], cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    journal = Journal(out / JOURNAL)
    while time.monotonic() < deadline and child.poll() is None:
        if journal.path.exists() and any(isinstance(r, IterationRecorded) for r in journal.by_run("r1")):
            break
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert not (out / DONE).exists(), "the shard was killed before it finished"

    rerun = growthhacker("shard", str(killed), "--run-id", "r1", *shard, "--out", str(out))

    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "resuming shard 0" in rerun.stdout
    assert _records(out) == _records(tmp_path / "steady")
    iterations = [json.loads(line)["iteration"] for line in (out / RECORDS).read_text().splitlines()
                  if '"kind":"iteration"' in line]
    assert iterations == ShardSpec(run_id="r1", index=0, count=2, base_commit="x", iterations=6).numbers()

    before = (out / RECORDS).read_bytes(), (out / DONE).read_bytes()
    finished = growthhacker("shard", str(killed), "--run-id", "r1", *shard, "--out", str(out))
    assert finished.returncode == 0 and "already finished" in finished.stdout
    assert ((out / RECORDS).read_bytes(), (out / DONE).read_bytes()) == before


#: What differs between two honest executions of the same shard: when, how long, from which cache,
#: on which clone of the repository.
_VOLATILE = {"at", "duration_s", "cached", "base_commit", "elapsed_s", "seconds", "started_at"}


def _records(directory: Path) -> list[Any]:
    return [_stable(json.loads(line)) for line in (directory / RECORDS).read_text().splitlines()]


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def test_a_finalist_whose_confirmation_did_not_finish_is_confirmed_by_the_gather(make_repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    files = sketch_files(iterations=4)
    apart, together = make_repo(files, name="apart"), make_repo(files, name="together")
    shards = [tmp_path / "shard-0", tmp_path / "shard-1"]
    for index, out in enumerate(shards):
        done = growthhacker("shard", str(apart), "--run-id", "r2", "--index", str(index), "--count", "2",
                            "--base", "HEAD", "--iterations", "4", "--out", str(out))
        assert done.returncode == 0, done.stdout + done.stderr
    confirmations = [tmp_path / "finalist-0", tmp_path / "finalist-1"]
    for index, out in enumerate(confirmations):
        done = growthhacker("confirm", *map(str, shards), "--repo", str(apart), "--finalist", str(index),
                            "--out", str(out))
        assert done.returncode == 0, done.stdout + done.stderr
    first = read_confirmation(confirmations[0])
    assert first is not None and first.iteration is not None
    again = growthhacker("confirm", *map(str, shards), "--repo", str(apart), "--finalist", "0", "--out",
                         str(confirmations[0]))
    assert "was already confirmed" in _text(again.stdout) and read_confirmation(confirmations[0]) == first
    (confirmations[1] / CONFIRMED).unlink()  # as if its job had been killed

    gathered = growthhacker("gather", "--repo", str(apart), *map(str, shards),
                            *(arg for out in confirmations for arg in ("--confirmation", str(out))))
    plain = growthhacker("gather", "--repo", str(together), *map(str, shards))

    assert gathered.returncode == 0 and plain.returncode == 0, gathered.stdout + plain.stdout
    assert "holds no finished confirmation: the gather confirms its finalist" in _text(gathered.stdout)
    apart_summary = Journal(apart / ".growthhacker" / "journal.jsonl").summary("r2")
    plain_summary = Journal(together / ".growthhacker" / "journal.jsonl").summary("r2")
    assert apart_summary.winner == plain_summary.winner
    assert [(i.iteration, i.confirmed) for i in apart_summary.iterations] == [
        (i.iteration, i.confirmed) for i in plain_summary.iterations]
    recorded = [r.iteration for r in Journal(apart / ".growthhacker" / "journal.jsonl").by_run("r2")
                if isinstance(r, ConfirmationRecorded)]
    assert first.iteration in recorded and len(recorded) == len(set(recorded))


def _text(output: str) -> str:
    """``output`` with the terminal's line wrapping undone (rich wraps at 80 columns off a TTY)."""
    return " ".join(output.split())
