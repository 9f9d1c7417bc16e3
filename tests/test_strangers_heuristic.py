"""The heuristic through the real CLI on stranger repositories (real obp and scope-rl runs: slow).

On every stranger that reads its results by the estimator's name, three iterations never crash with
a ``KeyError`` on a name; and a run whose first family of change crashes the evaluation goes on
with another family instead of pausing.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.journal import IterationRecorded, Journal
from tests.helpers.repos import git_repo
from tests.helpers.stranger_pipelines import audited_repo
from tests.helpers.stranger_runs import configure
from tests.helpers.strangers import STRANGERS

READ_BY_NAME = sorted(name for name, s in STRANGERS.items() if s.reads_by_name)
NO_KEYS = {"ANTHROPIC_API_KEY": None, "ANTHROPIC_BASE_URL": None}


def iterations(repo: Path) -> list[IterationRecorded]:
    journal = Journal(repo / ".growthhacker" / "journal.jsonl")
    return [r for r in journal.records() if isinstance(r, IterationRecorded)]


@pytest.mark.slow
@pytest.mark.parametrize("name", READ_BY_NAME)
def test_no_iteration_crashes_on_an_estimators_name(name: str, tmp_path: Path) -> None:
    repo = configure(name, tmp_path)

    result = CliRunner().invoke(cli, ["run", str(repo), "--agent", "heuristic", "-n", "3"], env=NO_KEYS)

    assert result.exit_code == 0, result.output
    records = iterations(repo)
    assert len(records) == 3, [r.failure_reason for r in records]
    crashes = [seed.crash for r in records if r.search for seed in r.search.seeds if seed.crash]
    assert not [c for c in crashes if c.exception == "KeyError"], crashes
    assert any(r.search is not None and r.search.ok for r in records), [r.failure_reason for r in records]


@pytest.mark.slow
def test_a_run_whose_first_family_crashes_goes_on_with_another(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "audited", audited_repo(shlex.quote(sys.executable)))

    result = CliRunner().invoke(cli, ["run", str(repo), "--agent", "heuristic"], env=NO_KEYS)

    assert result.exit_code == 0, result.output
    first, *rest = iterations(repo)
    assert first.failure_kind == "crash" and first.details["kind"] == "estimator-swap"
    assert first.search is not None and first.search.seeds[0].crash is not None
    refusal = "SelfNormalizedInverseProbabilityWeighting has not passed the audit"
    assert first.search.seeds[0].crash.message == refusal
    assert len(rest) == 2, "max_same_failures is 2: a second swap crash would have paused the run"
    assert all(r.details["kind"] != "estimator-swap" and r.search and r.search.ok for r in rest)
    prompt = next((repo / ".growthhacker" / "runs").iterdir()) / "2" / "prompt-analyzer.md"
    assert f"RuntimeError: {refusal}" in prompt.read_text()
