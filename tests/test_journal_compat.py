"""A journal shared with a newer GrowthHacker (through the journal branch): the CLI reads what it can,
warns once about the rest, keeps it in the file, and resumes and lists runs as usual."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli
from bot.journal import IterationRecorded, Journal, RunFinished, RunStarted
from bot.journal.records import SCHEMA
from bot.workspace import git
from tests.helpers.toy import toy_files

#: What a newer version might write: a kind of its own with fields of its own at a newer schema, and
#: an iteration whose status this version does not know.
NEWER = [
    f'{{"schema": {SCHEMA + 1}, "kind": "experiment_note", "run_id": "r1", '
    '"at": "2031-01-01T00:00:00+00:00", "mood": "curious", "links": {"pr": 7}}',
    f'{{"schema": {SCHEMA}, "kind": "iteration", "run_id": "r0", "iteration": 1, "hypothesis": "h", '
    '"persona": "estimator", "status": "reverted", "reverted_by": "alice"}',
]


def unfinished_run_among_newer_records(repo: Path) -> Journal:
    journal = Journal(repo / ".growthhacker" / "journal.jsonl")
    journal.append(RunStarted(run_id="r1", base_commit=git(repo, "rev-parse", "HEAD").strip(),
                              agent="heuristic", iterations=1, metric="err", goal="minimize",
                              guardrails=["runtime_s"]))
    journal.merge(NEWER)
    return journal


def test_resume_and_journal_work_on_a_journal_with_records_of_a_newer_version(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files())
    journal = unfinished_run_among_newer_records(repo)
    env = {"ANTHROPIC_API_KEY": None, "ANTHROPIC_BASE_URL": None}

    resumed = CliRunner().invoke(cli, ["run", str(repo), "--resume", "--agent", "heuristic"], env=env)
    listed = CliRunner().invoke(cli, ["journal", "--repo", str(repo), "--run", "r1"])

    assert resumed.exit_code == 0, resumed.output
    assert "resuming run r1" in resumed.output
    assert resumed.stderr.count("skipped 2 journal line(s)") == 1, resumed.stderr
    records = Journal(journal.path, warn=lambda _: None).records()
    assert [type(r) for r in records if r.run_id == "r1"][-1] is RunFinished
    assert any(isinstance(r, IterationRecorded) and r.run_id == "r1" for r in records)
    assert all(line in journal.lines() for line in NEWER), "the newer records stay for the newer version"
    assert listed.exit_code == 0, listed.output
    assert listed.stderr.count("skipped 2 journal line(s)") == 1, listed.stderr
    assert "1 iteration(s)" in listed.stdout
