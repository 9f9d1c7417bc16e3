"""The journal: append-only, durable, survives a kill mid-append, and gives best-first views."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.errors import JournalError
from bot.journal import (
    BaselineRecorded,
    IterationRecorded,
    Journal,
    OutcomeRecorded,
    RunFinished,
    RunStarted,
)
from bot.results import EvalResult, SeedResult


def result(*values: float) -> EvalResult:
    return EvalResult(
        tree="t", seeds=[SeedResult(seed=i, ok=True, metrics={"err": v}) for i, v in enumerate(values)]
    )


def start(run_id: str) -> RunStarted:
    return RunStarted(
        run_id=run_id, base_commit="abc", agent="test", iterations=3, metric="err", goal="minimize"
    )


def iteration(run_id: str, n: int, err: float | None, status: str = "no_gain") -> IterationRecorded:
    return IterationRecorded(
        run_id=run_id,
        iteration=n,
        hypothesis=f"h{n}",
        persona="estimator",
        status=status,
        search=result(err) if err is not None else None,
    )  # type: ignore[arg-type]


def test_records_round_trip_in_order(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    records = [
        start("r"),
        BaselineRecorded(run_id="r", search=result(1.0), confirm=result(1.0)),
        iteration("r", 1, 0.5, "improved"),
        RunFinished(run_id="r", winner=1, reason="ok"),
    ]
    for record in records:
        journal.append(record)

    assert journal.records() == records
    assert journal.run_ids() == ["r"]
    assert journal.unfinished_run() is None


def test_best_first_orders_by_status_verdict_and_improvement(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append(start("r"))
    journal.append(BaselineRecorded(run_id="r", search=result(1.0), confirm=result(1.0)))
    journal.append(iteration("r", 1, None, "failed"))
    journal.append(iteration("r", 2, 0.8, "improved"))
    journal.append(iteration("r", 3, 1.2, "no_gain"))
    journal.append(iteration("r", 4, 0.5, "improved"))
    journal.append(iteration("r", 5, 0.4, "improved"))
    journal.append(OutcomeRecorded(run_id="r", iteration=5, event="closed", actor="alice"))
    journal.append(OutcomeRecorded(run_id="r", iteration=4, event="comment", text="nice, try SNDR"))

    attempts = journal.attempts()

    assert [a.iteration for a in attempts] == [4, 2, 5, 3, 1]
    assert attempts[0].improvement == pytest.approx(0.5)
    assert attempts[0].feedback == ["nice, try SNDR"]
    assert attempts[2].verdict == "closed"
    assert attempts[-1].status == "failed" and attempts[-1].improvement is None


def test_torn_last_line_is_ignored_and_cut_before_the_next_append(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    journal.append(start("r"))
    with path.open("ab") as handle:
        handle.write(b'{"kind": "iteration", "run_id": "r", "itera')

    assert [r.kind for r in journal.records()] == ["run_started"]
    journal.append(RunFinished(run_id="r", winner=None, reason="done"))

    kinds = [r.kind for r in journal.records()]
    assert kinds == ["run_started", "run_finished"]
    assert path.read_bytes().endswith(b"\n")


def test_corrupt_middle_line_is_an_error_that_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text('{"kind": "nope"}\n')
    with pytest.raises(JournalError, match=r"j\.jsonl:1.*move the file aside"):
        Journal(path).records()


WRITER = """
import sys
from bot.journal import Journal, IterationRecorded
journal = Journal(__import__("pathlib").Path(sys.argv[1]))
n = 0
while True:
    n += 1
    journal.append(IterationRecorded(run_id="r", iteration=n, hypothesis="x" * 20000,
                                     persona="estimator", status="failed"))
"""


def test_survives_kill_9_mid_append(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not path.exists() or path.stat().st_size < 400_000):
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    journal = Journal(path)
    survivors = journal.records()
    journal.append(RunFinished(run_id="r", winner=None, reason="after the crash"))
    after = journal.records()

    numbers = [r.iteration for r in survivors if isinstance(r, IterationRecorded)]
    assert numbers == list(range(1, len(numbers) + 1)), "no record lost or duplicated"
    assert len(numbers) >= 10
    assert after[:-1] == survivors and isinstance(after[-1], RunFinished)


def test_unfinished_run_is_the_latest_without_a_finish(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append(start("a"))
    journal.append(RunFinished(run_id="a", winner=None, reason="x"))
    journal.append(start("b"))

    assert journal.unfinished_run() == "b"


def test_summary_requires_a_baseline(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append(start("a"))
    with pytest.raises(JournalError, match="no baseline"):
        journal.summary("a")
