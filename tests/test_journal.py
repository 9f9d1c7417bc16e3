"""The journal: append-only, durable, survives a kill mid-append, gives best-first views, reads what
newer versions wrote without stopping, and is the one writer of its file (the branch merge included)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from bot.errors import JournalError
from bot.journal import (
    BaselineRecorded,
    IterationRecorded,
    Journal,
    JournalWarning,
    OutcomeRecorded,
    RunFinished,
    RunStarted,
)
from bot.journal.records import LEGACY_SCHEMA, SCHEMA
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


def test_attempts_carry_their_per_seed_results_and_what_they_were_built_on(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append(start("r"))
    journal.append(BaselineRecorded(run_id="r", search=result(1.0, 2.0), confirm=result(1.0)))
    journal.append(iteration("r", 1, 0.5, "improved"))
    second = iteration("r", 2, None, "improved")
    journal.append(second.model_copy(update={"parent": 1, "search": result(0.4, 0.3)}))

    best = journal.attempts()[0]

    assert best.iteration == 2 and best.parent == 1
    assert best.search is not None and best.search.by_seed("err") == {0: 0.4, 1: 0.3}


def test_an_attempt_whose_objective_equals_another_measurement_to_the_last_digit_has_no_effect(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append(start("r"))
    journal.append(BaselineRecorded(run_id="r", search=result(0.25, 0.5), confirm=result(1.0)))
    for n, values in [(1, (0.25, 0.5)), (2, (0.2, 0.5)), (3, (0.2, 0.5)), (4, (0.2, 0.5000000001))]:
        journal.append(iteration("r", n, None, "no_gain").model_copy(update={"search": result(*values)}))

    flags = {a.iteration: a.no_effect for a in journal.attempts()}

    assert flags == {1: "the baseline", 2: None, 3: "iteration 2", 4: None}


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


#: Lines a newer GrowthHacker might write: an unknown kind with fields of its own and a newer schema,
#: a known kind at a newer schema, and known kinds with values this version does not know.
NEWER = [
    '{"schema": 99, "kind": "experiment_note", "run_id": "r", "at": "2030-01-01T00:00:00+00:00", '
    '"mood": "curious", "tags": ["x"]}',
    '{"schema": 3, "kind": "run_finished", "run_id": "r", "winner": null, "reason": "x"}',
    '{"schema": 2, "kind": "iteration", "run_id": "r", "iteration": 9, "hypothesis": "h", '
    '"persona": "estimator", "status": "reverted"}',
    '{"kind": "iteration", "run_id": "r", "iteration": 8, "hypothesis": "h", "persona": "estimator", '
    '"status": "failed", "failure_kind": "out_of_memory"}',
]


def write_lines(path: Path, *lines: str) -> None:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def test_records_carry_the_schema_they_were_written_with(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append(start("r"))

    assert f'"schema":{SCHEMA}' in journal.path.read_text()
    assert journal.records()[0].schema_version == SCHEMA


def test_a_record_from_before_the_schema_field_reads_as_the_legacy_schema(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write_lines(path, start("r").model_dump_json(exclude={"schema_version"}))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        records = Journal(path).records()

    assert [(r.kind, r.schema_version) for r in records] == [("run_started", LEGACY_SCHEMA)]


def test_fields_this_version_does_not_know_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    line = start("r").model_dump_json()[:-1] + ', "sponsor": {"name": "a newer field"}}'
    write_lines(path, line)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        records = Journal(path).records()

    assert records == [start("r").model_copy(update={"at": records[0].at})]


def test_records_of_a_newer_version_are_skipped_with_one_warning_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write_lines(path, start("r").model_dump_json(), *NEWER, RunFinished(run_id="r", winner=None,
                                                                         reason="done").model_dump_json())
    before = path.read_bytes()
    seen: list[str] = []
    journal = Journal(path, warn=seen.append)

    kinds = [r.kind for r in journal.records()]
    journal.attempts(), journal.run_ids(), journal.unfinished_run()  # every view reads again

    assert kinds == ["run_started", "run_finished"]
    assert len(seen) == 1, "one warning, not one per line or per read"
    assert "skipped 4 journal line(s)" in seen[0] and "at line 2, 3, 4, 5" in seen[0]
    assert "kind 'experiment_note'" in seen[0] and "'reverted'" in seen[0] and "upgrade" in seen[0]
    assert path.read_bytes() == before, "the reader never rewrites the file"


def test_a_journal_warns_again_when_other_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write_lines(path, NEWER[0])
    seen: list[str] = []
    journal = Journal(path, warn=seen.append)
    journal.records()

    journal.merge([NEWER[1]])
    journal.records()

    assert len(seen) == 2 and "skipped 2" in seen[1]


def test_without_a_callback_the_skip_is_a_python_warning(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write_lines(path, NEWER[0])

    with pytest.warns(JournalWarning, match="cannot read") as caught:
        Journal(path).records()

    assert len(caught) == 1


def test_a_complete_line_that_is_not_json_is_skipped_with_the_warning(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write_lines(path, start("r").model_dump_json(), "<<<<<<< HEAD", "[1, 2]",
                RunFinished(run_id="r", winner=None, reason="done").model_dump_json())
    seen: list[str] = []

    kinds = [r.kind for r in Journal(path, warn=seen.append).records()]

    assert kinds == ["run_started", "run_finished"]
    assert len(seen) == 1 and "2 not JSON" in seen[0] and "removed by hand" in seen[0]


def test_an_invalid_record_of_a_known_kind_is_skipped_too(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write_lines(path, '{"kind": "iteration", "run_id": "r"}', start("r").model_dump_json())
    seen: list[str] = []

    kinds = [r.kind for r in Journal(path, warn=seen.append).records()]

    assert kinds == ["run_started"]
    assert "not a valid record" in seen[0] and "upgrade" not in seen[0]


def test_merge_appends_the_lines_the_file_lacks_in_their_order(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    mine = [start("a").model_dump_json(), start("b").model_dump_json()]
    write_lines(journal.path, *mine)
    theirs = [start("c").model_dump_json(), mine[1], "", NEWER[0], start("c").model_dump_json()]

    added = journal.merge(theirs)

    assert added == 2
    assert journal.lines() == [*mine, theirs[0], NEWER[0]]


def test_merge_cuts_a_torn_tail_first_and_creates_no_file_for_nothing(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    assert journal.merge(["", "  "]) == 0 and not journal.path.exists()
    write_lines(journal.path, start("a").model_dump_json())
    with journal.path.open("a") as out:
        out.write('{"kind": "itera')

    journal.merge([start("b").model_dump_json()])

    assert [r.run_id for r in journal.records()] == ["a", "b"]


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


APPENDER = """
import sys, time
from pathlib import Path
from bot.journal import Journal, IterationRecorded
path, go, count = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
while not go.exists():
    time.sleep(0.001)
journal = Journal(path)
for n in range(1, count + 1):
    journal.append(IterationRecorded(run_id="appender", iteration=n, hypothesis="h", persona="estimator",
                                     status="no_gain"))
"""

#: Appends records of its own and merges a growing journal branch, as an Actions job does.
MERGER = """
import sys, time
from pathlib import Path
from bot.github.journal_branch import JournalBranch, RemoteGit, Snapshot
from bot.journal import Journal, OutcomeRecorded
path, go, count = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
branch = JournalBranch(RemoteGit(path.parent, "unused"))
remote = []
while not go.exists():
    time.sleep(0.001)
journal = Journal(path)
for n in range(1, count + 1):
    remote.append(OutcomeRecorded(run_id="branch", iteration=n, event="comment", text="x" * 5000)
                  .model_dump_json())
    branch.pull_into(journal, Snapshot("0" * 40, tuple(remote)))
    journal.append(OutcomeRecorded(run_id="merger", iteration=n, event="comment", text="mine"))
"""


def test_appends_and_a_branch_merge_in_other_processes_lose_no_record(tmp_path: Path) -> None:
    path, go, count = tmp_path / "journal.jsonl", tmp_path / "go", 150
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    children = [
        subprocess.Popen([sys.executable, "-c", script, str(path), str(go), str(count)], cwd=root, env=env)
        for script in (APPENDER, MERGER)
    ]
    go.touch()
    codes = [child.wait(timeout=300) for child in children]

    records = Journal(path).records()
    lines = Journal(path).lines()

    assert codes == [0, 0]
    writers = ("appender", "merger", "branch")
    by_writer = {writer: [r.iteration for r in records if r.run_id == writer] for writer in writers}
    assert by_writer == {writer: list(range(1, count + 1)) for writer in writers}, "none lost, in order"
    assert len(lines) == len(set(lines)) == 3 * count
