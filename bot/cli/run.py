"""`growthhacker run`, `report` and `journal`: the loop on a repository, and what it left behind."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.table import Table

from bot.agents.base import Usage
from bot.agents.budget import Budget
from bot.agents.factory import Framework, make_agent
from bot.cli.common import console, errors_to_exit_codes, eval_environ, existing_dir
from bot.cli.progress import RunDisplay, Tracker
from bot.cli.tables import terminal_table
from bot.config import CONFIG_FILE, load_config
from bot.decision import Criteria
from bot.errors import ConfigError, PatchError, ResumeError, RunNotFound
from bot.evaluate import Evaluator
from bot.github.render import pr_body, pr_title
from bot.journal import JOURNAL_FILE, IterationRecorded, Journal, Record, RunStarted
from bot.loop import Loop
from bot.plot import preload as preload_plotting
from bot.redact import scrub, secret_values
from bot.report import deltas_table, write_report
from bot.results import RunSummary
from bot.workspace import Workspace, check_run_id, project_dir, state_dir

AGENTS = click.Choice(["auto", "anthropic", "command", "heuristic"])


def _warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def open_journal(root: Path) -> Journal:
    """The journal of the project at ``root``; lines it cannot read are reported once on stderr."""
    return Journal(state_dir(root) / JOURNAL_FILE, warn=_warn)


def spent_by(records: Sequence[Record]) -> Usage:
    """What the agents spent on the recorded iterations (tokens, dollars) of one run."""
    done = [r for r in records if isinstance(r, IterationRecorded)]
    return Usage(input_tokens=sum(r.tokens for r in done), usd=sum(r.usd for r in done))


def make_run_id() -> str:
    """A sortable, unique run id like ``20261125-120455-a1b2``."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def execute_run(
    repo: Path,
    *,
    config_path: Path | None,
    iterations: int | None,
    agent_name: str | None,
    hints: list[str],
    resume: bool,
    base_ref: str,
    agent_command: str | None = None,
    framework: Framework = "two_agent",
    environ: Mapping[str, str] | None = None,
    time_limit_min: float | None = None,
) -> tuple[RunSummary, Path]:
    """Run (or resume) the inner loop on ``repo``; returns the summary and the run directory.

    ``environ`` is what the evaluation starts from (default: :func:`eval_environ` of this process's).
    ``time_limit_min``: no iteration starts after that many minutes from now (selection still runs).

    Raises:
        GrowthHackerError: the run could not start or go on (config, workspace, evaluation harness,
            journal, a journal diff that no longer applies; ResumeError: nothing to resume).
    """
    repo = project_dir(repo)
    config = load_config(repo, config_path)
    state = state_dir(repo)
    journal = open_journal(repo)
    if resume:
        run_id = journal.unfinished_run()
        if run_id is None:
            raise ResumeError(f"nothing to resume: every run in {journal.path} has finished")
        started = next(r for r in journal.by_run(run_id) if isinstance(r, RunStarted))
        base_ref, iterations, hints = started.base_commit, started.iterations, started.hints
        console.print(f"resuming run [bold]{run_id}[/bold]")
    else:
        run_id = make_run_id()
        # A hint is human text that reaches the journal and the agents; a pasted token must not.
        hints = [scrub(hint, secret_values(os.environ)) for hint in hints]
    # A resumed run continues the budget of the run, not a fresh one: killed and resumed runs must
    # not spend more than loop.budget together.
    budget = Budget(usd=config.loop.budget.usd, tokens=config.loop.budget.tokens)
    if resume:
        budget.record(spent_by(journal.by_run(run_id)))
    agent, why = make_agent(config.loop, dict(os.environ), framework=framework, agent=agent_name,
                            agent_command=agent_command, cwd=repo, budget=budget)
    console.print(f"[dim]agent: {why}[/dim]")
    workspace = Workspace.open(repo, run_id, base_ref)
    run_dir = state / "runs" / run_id
    deadline = None if time_limit_min is None else time.monotonic() + 60.0 * time_limit_min
    eval_env = eval_environ(os.environ) if environ is None else environ
    planned_iterations = config.loop.iterations if iterations is None else iterations
    display = RunDisplay(console, Tracker(config, planned_iterations))
    evaluator = Evaluator(config.evaluate, state / "cache", environ=eval_env, on_seed=display.seed_done)
    loop = Loop(config=config, workspace=workspace, evaluator=evaluator, journal=journal, agent=agent,
                run_id=run_id, run_dir=run_dir, iterations=iterations, hints=hints, on_event=display.event,
                deadline=deadline)
    console.print(f"run [bold]{run_id}[/bold] on {repo} at {workspace.base[:8]} "
                  f"({loop.iterations} iterations, agent {agent.name})")
    preload_plotting()  # drawn at the end: imported while the evaluations run
    try:
        with display:
            summary = loop.run(resume=resume)
    except PatchError as exc:
        # An agent's diff is repaired or recorded as a failed iteration: only a diff the journal
        # recorded (the incumbent, a finalist, the winner) gets here, refused by the current rules.
        raise PatchError(exc.code, f"a diff recorded in the journal no longer applies: {exc} Restore the "
                         "`edit` section the run started with, or start a new run.", exc.path) from exc
    finally:
        workspace.remove()
    write_artifacts(summary, run_dir)
    return summary, run_dir


def write_artifacts(summary: RunSummary, run_dir: Path) -> None:
    """Write report.md and plot.png, and the pull-request text (pr.md) when there is a winner."""
    write_report(summary, run_dir)
    pr_text = run_dir / "pr.md"
    if summary.best is not None:
        pr_text.write_text(f"# {pr_title(summary)}\n\n{pr_body(summary)}\n", encoding="utf-8")
    else:
        pr_text.unlink(missing_ok=True)  # a stale pr.md of an earlier report of this run


def show_summary(summary: RunSummary, run_dir: Path) -> None:
    """Print the verdict, the held-out deltas table and where the artifacts are."""
    console.rule("result")
    best = summary.best
    if best is not None and best.confirm is not None and summary.baseline_confirm is not None:
        console.print(f"[bold green]{summary.reason}[/bold green]")
        console.print(f"hypothesis: {best.hypothesis}")
        table = deltas_table(summary.baseline_confirm, best.confirm, Criteria.of_run(summary))
        console.print(terminal_table(table))
        console.print(f"branch: [bold]{summary.branch}[/bold]")
    else:
        console.print(f"[bold yellow]{summary.reason}[/bold yellow]")
    console.print(f"report: {run_dir / 'report.md'}\nplot:   {run_dir / 'plot.png'}")
    if (run_dir / "pr.md").is_file():
        console.print(f"PR:     {run_dir / 'pr.md'} (the pull request GrowthHacker would open)")
    console.print(f"files:  {run_dir}/<iteration>/")


@click.command()
@click.argument("repo", type=existing_dir(), default=".")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Config file (default: REPO/{CONFIG_FILE}).")
@click.option("-n", "--iterations", type=click.IntRange(0, 1000), help="Override loop.iterations.")
@click.option("--agent", "agent_name", type=AGENTS,
              help="Override loop.agent (auto: anthropic if a key is set, else heuristic).")
@click.option("--agent-command", help="For --agent command: the executable (and arguments) that reads "
              "the prompt on stdin and answers on stdout.")
@click.option("--framework", type=click.Choice(["two_agent", "default"]), default="two_agent",
              show_default=True, help="LLM agents only: Analyzer + Coder, or one single-shot call.")
@click.option("--hint", "hints", multiple=True, help="A hint for the Analyzer (repeatable).")
@click.option("--resume", is_flag=True, help="Continue the most recent unfinished run from the journal.")
@click.option("--base", "base_ref", default="HEAD", show_default=True, help="Commit to optimise from.")
@click.option("--time-limit", "time_limit_min", type=click.FloatRange(0, min_open=True), metavar="MINUTES",
              help="Start no iteration after this many minutes; the best so far is still selected.")
@click.option("--shards", type=click.IntRange(1, 64), help="Split the search into this many shards, each a "
              "process with its own workspace and a 1/SHARDS share of the iterations and LLM budget, then "
              "gather them and select as one run does.")
@click.option("--workers", type=click.IntRange(1, 64), help="With --shards: shards running at once "
              "(default: all).")
@errors_to_exit_codes
def run(repo: Path, config_path: Path | None, iterations: int | None, agent_name: str | None,
        agent_command: str | None, framework: Framework, hints: tuple[str, ...], resume: bool,
        base_ref: str, time_limit_min: float | None, shards: int | None, workers: int | None) -> None:
    """Optimise the OPE code of REPO: baseline, N iterations, post-hoc selection.

    The winner (if any candidate beats the baseline on the search seeds, keeps every guardrail and
    confirms on the held-out seeds) is committed on branch growthhacker/<run-id>; the report, plot
    and per-iteration files go to REPO/.growthhacker/runs/<run-id>/. Your checkout is not touched.
    """
    if shards is not None:
        if resume or time_limit_min is not None:
            raise ConfigError("--resume and --time-limit are for a single run; re-run a sharded run's "
                              "unfinished shards with `growthhacker shard` (the command is in its log), "
                              "then `gather`")
        # Imported here: bot.cli.shards builds on this module.
        from bot.cli.shards import run_sharded

        summary, run_dir = run_sharded(repo, shards=shards, workers=workers, config_path=config_path,
                                       iterations=iterations, agent_name=agent_name,
                                       agent_command=agent_command, hints=list(hints), base_ref=base_ref,
                                       framework=framework)
        show_summary(summary, run_dir)
        return
    summary, run_dir = execute_run(repo, config_path=config_path, iterations=iterations,
                                   agent_name=agent_name, hints=list(hints), resume=resume,
                                   base_ref=base_ref, agent_command=agent_command, framework=framework,
                                   time_limit_min=time_limit_min)
    show_summary(summary, run_dir)


@click.command()
@click.argument("run_id", required=False)
@click.option("--repo", type=existing_dir(), default=".", show_default=True, help="The target repository.")
@errors_to_exit_codes
def report(run_id: str | None, repo: Path) -> None:
    """Rebuild report.md and plot.png of RUN_ID (default: the latest run) from the journal."""
    root = project_dir(repo)
    journal = open_journal(root)
    runs = journal.run_ids()
    if not runs:
        raise RunNotFound(f"no runs in {journal.path}; start one with `growthhacker run`")
    run_id = run_id or runs[-1]
    if run_id not in runs:
        raise RunNotFound(f"unknown run {run_id!r}; the latest: {', '.join(runs[-5:])}")
    summary = journal.summary(run_id)
    run_dir = state_dir(root) / "runs" / check_run_id(run_id)  # written to, and pr.md deleted
    write_artifacts(summary, run_dir)
    show_summary(summary, run_dir)


@click.command("journal")
@click.option("--repo", type=existing_dir(), default=".", show_default=True, help="The target repository.")
@click.option("--best", is_flag=True, help="Sort best-first (as the Analyzer sees it) instead of by time.")
@click.option("--run", "run_id", help="Only this run.")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True, help="Rows to show.")
@errors_to_exit_codes
def journal_cmd(repo: Path, best: bool, run_id: str | None, limit: int) -> None:
    """Show the experiment journal: every iteration with its status and improvement."""
    journal = open_journal(project_dir(repo))
    attempts = journal.attempts()
    if not best:
        attempts.sort(key=lambda a: (a.run_id, a.iteration), reverse=True)
    if run_id:
        attempts = [a for a in attempts if a.run_id == run_id]
    table = Table("run", "#", "status", "Δ", "persona", "hypothesis", "verdict")
    for a in attempts[:limit]:
        delta = f"{a.improvement:+.1%}" if a.improvement is not None else "—"
        table.add_row(a.run_id, str(a.iteration), a.status, delta, a.persona, a.hypothesis[:70],
                      a.verdict or "")
    console.print(table)
    console.print(f"[dim]{len(attempts)} iteration(s) in {journal.path}[/dim]")
