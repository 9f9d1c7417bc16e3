"""The CLI through click's CliRunner: help, errors with exit codes, journal/report, and the demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bot.cli import COMMANDS, cli
from bot.git import git
from tests.helpers.loop import run_loop
from tests.helpers.toy import Step, toy_files


@pytest.mark.parametrize("command", ["run", "demo", "report", "journal", "verify", "init", "action"])
def test_every_command_explains_itself(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])

    assert result.exit_code == 0
    assert "Usage:" in result.output and len(result.output.splitlines()) > 5


#: Packages that take seconds to import and that `--help` and the light commands never need.
HEAVY = ("github", "anthropic", "matplotlib", "obp", "scope_rl", "torch", "sklearn", "d3rlpy")


def _heavy_modules_after(code: str) -> list[str]:
    """The heavy top-level packages loaded once ``code`` ran in a fresh interpreter."""
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          timeout=120)
    return list(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_loads_no_heavy_package() -> None:
    assert _heavy_modules_after("import bot.cli") == []


def test_help_loads_no_heavy_package_and_no_command_module() -> None:
    code = ("import contextlib, io, sys\nfrom bot.cli import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    cli(['--help'], standalone_mode=False)\n"
            "assert not any(m in sys.modules for m in ('bot.cli.run', 'bot.loop', 'bot.cli.action'))")
    assert _heavy_modules_after(code) == []


@pytest.mark.parametrize("module", ["bot.cli.run", "bot.cli.verify", "bot.cli.init", "bot.cli.demo"])
def test_light_commands_load_no_heavy_package(module: str) -> None:
    # The OPE libraries are read through the catalog cache or in the eval's own process; PyGithub
    # only by the action; anthropic only when that agent is chosen; matplotlib only to draw a plot.
    assert _heavy_modules_after(f"import {module}") == []


def test_the_listing_shows_each_commands_own_first_sentence() -> None:
    ctx = click.Context(cli)
    for name, (_, _, first_sentence) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit=10**6) == first_sentence, name

    listing = CliRunner().invoke(cli, ["--help"]).output
    assert all(f"  {name}  " in listing for name in COMMANDS)


def test_invalid_config_exits_8_with_the_key_named(make_repo) -> None:  # type: ignore[no-untyped-def]
    files = toy_files()
    files[".growthhacker.yml"] = files[".growthhacker.yml"].replace("iterations: 3", "iterations: many")
    repo = make_repo(files)

    result = CliRunner().invoke(cli, ["run", str(repo)])

    assert result.exit_code == 8
    assert "loop.iterations" in result.output


def test_resume_without_an_unfinished_run_exits_11(make_repo) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, ["run", str(make_repo(toy_files())), "--resume"])

    assert result.exit_code == 11
    assert "nothing to resume" in result.output


def test_journal_and_report_show_a_finished_run(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files())
    run_loop(repo, [Step("scale 0.3", "SCALE = 0.3\n"), Step("scale 2", "SCALE = 2.0\n")])

    journal = CliRunner().invoke(cli, ["journal", "--repo", str(repo), "--best"])
    report = CliRunner().invoke(cli, ["report", "r1", "--repo", str(repo)])

    assert journal.exit_code == 0, journal.output
    assert journal.output.index("scale 0.3") < journal.output.index("scale 2")
    assert report.exit_code == 0, report.output
    assert "iteration 1 improves err" in report.output
    run_dir = repo / ".growthhacker" / "runs" / "r1"
    assert (run_dir / "report.md").read_text().startswith("#")
    assert (run_dir / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_demo_confirms_an_improvement_on_the_bundled_example(tmp_path: Path) -> None:
    output = tmp_path / "demo"

    result = CliRunner().invoke(cli, ["demo", "--output", str(output), "--iterations", "1"])

    assert result.exit_code == 0, result.output
    assert "improves relative_ee" in result.output
    assert "⚡ better (won" in result.output
    runs = list((output / ".growthhacker" / "runs").iterdir())
    assert len(runs) == 1
    run_dir = runs[0]
    for name in ("report.md", "plot.png", "pr.md", "1/analysis.json", "1/candidate.diff", "1/metrics.json"):
        assert (run_dir / name).is_file(), name
    branch = f"growthhacker/{run_dir.name}"
    changed = git(output, "diff", "--name-only", "main", branch).split()
    assert changed and all(path.startswith("ope_pipeline/") for path in changed)


def test_a_secret_pasted_into_a_hint_never_reaches_the_journal(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files())
    secret = "ghp_canary0123456789abcdef"

    # The hints are journaled as the run starts: no iteration needed (one would load the OPE catalog).
    result = CliRunner().invoke(
        cli, ["run", str(repo), "--iterations", "0", "--agent", "heuristic",
              "--hint", f"try the token {secret} and shrink the scale"],
        env={"GROWTHHACKER_TEST_TOKEN": secret, "ANTHROPIC_API_KEY": None, "ANTHROPIC_BASE_URL": None},
    )

    journal = (repo / ".growthhacker" / "journal.jsonl").read_text(encoding="utf-8")
    assert result.exit_code == 0, result.output
    assert secret not in journal and secret not in result.output
    assert "try the token *** and shrink the scale" in journal


def test_report_refuses_a_run_id_that_would_leave_the_runs_directory(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files())
    run_loop(repo, [Step("scale 0.3", "SCALE = 0.3\n")])
    journal = repo / ".growthhacker" / "journal.jsonl"
    journal.write_text(journal.read_text().replace('"run_id":"r1"', '"run_id":"../../outside"'))
    (repo / "outside").mkdir()
    (repo / "outside" / "pr.md").write_text("mine\n")

    result = CliRunner().invoke(cli, ["report", "--repo", str(repo)])

    assert result.exit_code == 3
    assert "cannot name a directory" in result.output
    assert (repo / "outside" / "pr.md").read_text() == "mine\n"


def test_no_iteration_starts_after_the_time_limit(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files())

    # 0.0001 minutes is over before the baseline's eight evaluations are.
    result = CliRunner().invoke(
        cli, ["run", str(repo), "--iterations", "3", "--agent", "heuristic", "--time-limit", "0.0001"],
        env={"ANTHROPIC_API_KEY": None, "ANTHROPIC_BASE_URL": None},
    )

    assert result.exit_code == 0, result.output
    journal = repo / ".growthhacker" / "journal.jsonl"
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [r["kind"] for r in records] == ["run_started", "baseline", "run_finished"]
    assert records[-1]["stopped_early"] == "time limit reached"


def test_a_run_imports_matplotlib_in_the_background_while_it_evaluates() -> None:
    # bot.plot.preload: the import overlaps the evaluations instead of adding to the run's end.
    probe = ("import sys\nfrom bot.plot import preload\nbefore = 'matplotlib' in sys.modules\n"
             "thread = preload()\nthread.join(60)\n"
             "print(before, thread.daemon, 'matplotlib.figure' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          timeout=120)

    assert proc.stdout.split() == ["False", "True", "True"]
