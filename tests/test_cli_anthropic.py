"""`growthhacker run --agent anthropic` end to end: the real SDK against the local scripted server."""

from __future__ import annotations

import difflib
import json

from click.testing import CliRunner

from bot.cli import cli
from bot.journal import IterationRecorded, Journal, RunFinished
from tests.helpers.fake_anthropic import (  # noqa: F401  (anthropic_server_fixture is the pytest fixture)
    FakeAnthropic,
    Reply,
    anthropic_server_fixture,
)
from tests.helpers.toy import PARAMS, toy_files

KEY = "sk-ant-cli-test-0123456789"


def answer() -> str:
    """An answer both agents accept: the Analyzer reads the JSON, the Coder the diff."""
    diff = "".join(difflib.unified_diff(["SCALE = 1.0\n"], ["SCALE = 0.3\n"], f"a/{PARAMS}", f"b/{PARAMS}"))
    analysis = {"hypothesis": "Move SCALE to 0.3, where err is smallest", "persona": "hyperparameter",
                "plan": "Edit SCALE.", "expected_effect": "err drops", "files": [PARAMS]}
    return f"```json\n{json.dumps(analysis)}\n```\n\n```diff\n{diff}```\n"


def test_budget_exhaustion_stops_the_run_and_keeps_the_best_so_far(
    anthropic_server: FakeAnthropic, make_repo  # type: ignore[no-untyped-def]
) -> None:
    files = toy_files()
    files[".growthhacker.yml"] = files[".growthhacker.yml"].replace(
        "  iterations: 3\n", "  iterations: 10\n  budget: {tokens: 20000}\n")
    repo = make_repo(files)
    # Each call reports 3,100 tokens, so the budget runs out within a few iterations.
    anthropic_server.script(*[Reply(text=answer(), input_tokens=100, output_tokens=3000)] * 20)
    env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": anthropic_server.url}

    result = CliRunner().invoke(cli, ["run", str(repo), "--agent", "anthropic"], env=env)

    assert result.exit_code == 0, result.output
    assert "anthropic" in result.output
    records = Journal(repo / ".growthhacker" / "journal.jsonl").records()
    iterations = [r for r in records if isinstance(r, IterationRecorded)]
    finished = next(r for r in records if isinstance(r, RunFinished))
    assert 1 <= len(iterations) < 10
    assert finished.stopped_early is not None and "budget" in finished.stopped_early
    assert finished.winner == 1 and iterations[0].tokens == 6200
    assert len(anthropic_server.requests) < 20
    assert all(KEY not in r.raw.decode() for r in anthropic_server.requests)


def test_a_resumed_run_continues_the_budget_of_the_run_instead_of_a_fresh_one(
    anthropic_server: FakeAnthropic, make_repo  # type: ignore[no-untyped-def]
) -> None:
    repo = make_repo(toy_files())
    anthropic_server.script(*[Reply(text=answer(), input_tokens=100, output_tokens=3000)] * 20)
    env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": anthropic_server.url}
    first = CliRunner().invoke(cli, ["run", str(repo), "--agent", "anthropic", "-n", "2"], env=env)
    assert first.exit_code == 0, first.output
    path = repo / ".growthhacker" / "journal.jsonl"
    spent = sum(r.tokens for r in Journal(path).records() if isinstance(r, IterationRecorded))
    # The finished run made to look killed after 2 of 10 iterations, with a budget that the tokens
    # it spent leave less than one call of.
    kept = [line.replace('"iterations":2', '"iterations":10') for line in path.read_text().splitlines()
            if '"kind":"run_finished"' not in line and '"kind":"confirmation"' not in line]
    path.write_text("".join(f"{line}\n" for line in kept))
    config = repo / ".growthhacker.yml"
    config.write_text(config.read_text().replace("loop:\n", f"loop:\n  budget: {{tokens: {spent + 1000}}}\n"))
    calls = len(anthropic_server.requests)

    result = CliRunner().invoke(cli, ["run", str(repo), "--agent", "anthropic", "--resume"], env=env)

    assert result.exit_code == 0, result.output
    records = Journal(path).records()
    finished = next(r for r in records if isinstance(r, RunFinished))
    assert finished.stopped_early is not None and "budget" in finished.stopped_early
    assert len([r for r in records if isinstance(r, IterationRecorded)]) == 2
    assert len(anthropic_server.requests) == calls
