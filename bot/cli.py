"""The `growthhacker` command line: thin click commands over the library below."""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from bot import __version__
from bot.agents.factory import Framework, make_agent
from bot.config import CONFIG_FILE, load_config
from bot.errors import ConfigError, GrowthHackerError, ResumeError
from bot.evaluate import Evaluator
from bot.git import git
from bot.github.action import perform
from bot.github.action.session import prepare
from bot.github.render import check_report, goals_of, pr_body, pr_title
from bot.init import DEFAULT_ACTION_REF, init_repo
from bot.journal import JOURNAL_FILE, Journal, RunStarted
from bot.loop import Loop, LoopEvent
from bot.redact import scrub, secret_values
from bot.report import deltas_table, write_report
from bot.results import RunSummary
from bot.verify import evaluate_refs
from bot.workspace import Workspace, project_dir, state_dir

console = Console(highlight=False)
F = TypeVar("F", bound=Callable[..., Any])

_EVENT_STYLE = {
    "baseline": "cyan", "baseline_done": "cyan", "baseline_failed": "bold red",
    "hypothesis": "magenta", "iteration_done": "green", "patch_refused": "yellow",
    "protected_restored": "yellow", "stopped": "yellow", "confirming": "cyan",
    "confirmed": "bold green", "not_confirmed": "yellow", "committed": "bold green",
    "finished": "bold",
}


class CLIError(click.ClickException):
    """A GrowthHackerError shown as a one-line message with the error's own exit code."""

    def __init__(self, error: GrowthHackerError) -> None:
        super().__init__(str(error))
        # click reads exit_code per instance; the error tree decides it per class.
        self.exit_code = error.exit_code  # type: ignore[misc]


def _errors_to_exit_codes(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GrowthHackerError as exc:
            raise CLIError(exc) from exc

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="growthhacker")
def cli() -> None:
    """GrowthHacker: propose, verify and ship improvements to off-policy-evaluation code.

    It works in a private git worktree of your repository, runs your own evaluation command on
    search and held-out seeds, and keeps the best verified change on a branch with a report.
    """


def _print_event(event: LoopEvent) -> None:
    stamp = datetime.now().strftime("%H:%M:%S")
    style = _EVENT_STYLE.get(event.kind, "dim")
    console.print(f"[dim]{stamp}[/dim] [{style}]{event.message}[/{style}]")


def _warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def open_journal(root: Path) -> Journal:
    """The journal of the project at ``root``; lines it cannot read are reported once on stderr."""
    return Journal(state_dir(root) / JOURNAL_FILE, warn=_warn)


def make_run_id() -> str:
    """A sortable, unique run id like ``20261125-120455-a1b2``."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def eval_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with this interpreter's bin directory first on PATH.

    The eval command says ``python``; it must mean the environment the bot runs in (where the
    target's OPE libraries are installed), even when the venv is not activated.
    """
    bin_dir = str(Path(sys.executable).parent)
    return {**environ, "PATH": os.pathsep.join([bin_dir, environ.get("PATH", os.defpath)])}


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
) -> tuple[RunSummary, Path]:
    """Run (or resume) the inner loop on ``repo``; returns the summary and the run directory."""
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
    agent, why = make_agent(config.loop, dict(os.environ), framework=framework, agent=agent_name,
                            agent_command=agent_command, cwd=repo)
    console.print(f"[dim]agent: {why}[/dim]")
    workspace = Workspace.open(repo, run_id, base_ref)
    run_dir = state / "runs" / run_id
    evaluator = Evaluator(config.evaluate, state / "cache", environ=eval_environ(os.environ))
    loop = Loop(config=config, workspace=workspace, evaluator=evaluator, journal=journal, agent=agent,
                run_id=run_id, run_dir=run_dir, iterations=iterations, hints=hints, on_event=_print_event)
    console.print(f"run [bold]{run_id}[/bold] on {repo} at {workspace.base[:8]} "
                  f"({loop.iterations} iterations, agent {agent.name})")
    try:
        summary = loop.run(resume=resume)
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
        pr_text.unlink(missing_ok=True)


def show_summary(summary: RunSummary, run_dir: Path) -> None:
    """Print the verdict, the held-out deltas table and where the artifacts are."""
    console.rule("result")
    best = summary.best
    if best is not None and best.confirm is not None and summary.baseline_confirm is not None:
        console.print(f"[bold green]{summary.reason}[/bold green]")
        console.print(f"hypothesis: {best.hypothesis}")
        goals = summary.goals
        console.print(deltas_table(summary.baseline_confirm, best.confirm, list(goals), goals), markup=False)
        console.print(f"branch: [bold]{summary.branch}[/bold]")
    else:
        console.print(f"[bold yellow]{summary.reason}[/bold yellow]")
    console.print(f"report: {run_dir / 'report.md'}\nplot:   {run_dir / 'plot.png'}")
    if (run_dir / "pr.md").is_file():
        console.print(f"PR:     {run_dir / 'pr.md'} (the pull request GrowthHacker would open)")
    console.print(f"files:  {run_dir}/<iteration>/")


@cli.command()
@click.argument("repo", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Config file (default: REPO/{CONFIG_FILE}).")
@click.option("-n", "--iterations", type=click.IntRange(0, 1000), help="Override loop.iterations.")
@click.option("--agent", "agent_name", type=click.Choice(["auto", "anthropic", "command", "heuristic"]),
              help="Override loop.agent (auto: anthropic if a key is set, else heuristic).")
@click.option("--agent-command", help="For --agent command: the executable (and arguments) that reads "
              "the prompt on stdin and answers on stdout.")
@click.option("--framework", type=click.Choice(["two_agent", "default"]), default="two_agent",
              show_default=True, help="LLM agents only: Analyzer + Coder, or one single-shot call.")
@click.option("--hint", "hints", multiple=True, help="A hint for the Analyzer (repeatable).")
@click.option("--resume", is_flag=True, help="Continue the most recent unfinished run from the journal.")
@click.option("--base", "base_ref", default="HEAD", show_default=True, help="Commit to optimise from.")
@_errors_to_exit_codes
def run(repo: Path, config_path: Path | None, iterations: int | None, agent_name: str | None,
        agent_command: str | None, framework: Framework, hints: tuple[str, ...], resume: bool,
        base_ref: str) -> None:
    """Optimise the OPE code of REPO: baseline, N iterations, post-hoc selection.

    The winner (if any candidate beats the baseline on the search seeds, keeps every guardrail and
    confirms on the held-out seeds) is committed on branch growthhacker/<run-id>; the report, plot
    and per-iteration files go to REPO/.growthhacker/runs/<run-id>/. Your checkout is not touched.
    """
    summary, run_dir = execute_run(repo, config_path=config_path, iterations=iterations,
                                   agent_name=agent_name, hints=list(hints), resume=resume,
                                   base_ref=base_ref, agent_command=agent_command, framework=framework)
    show_summary(summary, run_dir)


def bundled_example() -> Path:
    """The example OPE repository shipped in the source tree (``examples/ope-target``)."""
    path = Path(__file__).resolve().parents[1] / "examples" / "ope-target"
    if not (path / CONFIG_FILE).is_file():
        raise ConfigError(f"the bundled example is not at {path}; run the demo from a source checkout "
                          "or pass --example PATH")
    return path


@cli.command()
@click.option("--output", type=click.Path(file_okay=False, path_type=Path),
              help="Where to create the demo repository (default: a new temporary directory).")
@click.option("--example", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Example repository to copy (default: the bundled examples/ope-target).")
@click.option("-n", "--iterations", type=click.IntRange(0, 1000), help="Override loop.iterations.")
@_errors_to_exit_codes
def demo(output: Path | None, example: Path | None, iterations: int | None) -> None:
    """Run the whole loop on a copy of the bundled example OPE repository, with no API key.

    Copies the example into a fresh git repository, runs the heuristic agent end to end and prints
    the metric deltas, with the report, plot and pull-request text it would post.
    """
    source = example or bundled_example()
    if output is None:
        output = Path(tempfile.mkdtemp(prefix="growthhacker-demo-"))
    elif output.exists():
        shutil.rmtree(output)
    shutil.copytree(source, output, ignore=shutil.ignore_patterns("__pycache__", ".growthhacker"))
    git(output, "init", "-q", "-b", "main")
    git(output, "add", "-A")
    git(output, "-c", "user.name=growthhacker-demo", "-c", "user.email=demo@example.invalid",
        "commit", "-q", "-m", "OPE pipeline baseline")
    console.print(f"demo repository: {output}")
    summary, run_dir = execute_run(output, config_path=None, iterations=iterations,
                                   agent_name="heuristic", hints=[], resume=False, base_ref="HEAD")
    show_summary(summary, run_dir)


@cli.command()
@click.argument("run_id", required=False)
@click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".",
              show_default=True, help="The target repository.")
@_errors_to_exit_codes
def report(run_id: str | None, repo: Path) -> None:
    """Rebuild report.md and plot.png of RUN_ID (default: the latest run) from the journal."""
    root = project_dir(repo)
    journal = open_journal(root)
    runs = journal.run_ids()
    if not runs:
        raise click.ClickException(f"no runs in {journal.path}; start one with `growthhacker run`")
    run_id = run_id or runs[-1]
    if run_id not in runs:
        raise click.ClickException(f"unknown run {run_id!r}; known: {', '.join(runs[-5:])}")
    summary = journal.summary(run_id)
    run_dir = state_dir(root) / "runs" / run_id
    write_artifacts(summary, run_dir)
    show_summary(summary, run_dir)


@cli.command("journal")
@click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".",
              show_default=True, help="The target repository.")
@click.option("--best", is_flag=True, help="Sort best-first (as the Analyzer sees it) instead of by time.")
@click.option("--run", "run_id", help="Only this run.")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True, help="Rows to show.")
@_errors_to_exit_codes
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


@cli.command()
@click.argument("repo", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".")
@click.option("--base", "base_ref", help="The commit to compare against (default: the config's github.base).")
@click.option("--head", "head_ref", default="HEAD", show_default=True, help="The commit to verify.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Config file (default: REPO/{CONFIG_FILE}).")
@_errors_to_exit_codes
def verify(repo: Path, base_ref: str | None, head_ref: str, config_path: Path | None) -> None:
    """Evaluate two commits of REPO on the search seeds, one after the other, and print the deltas.

    The same check the GitHub Action runs on pull requests: no agent, no secrets in the evaluation,
    and protected files (the evaluation harness, the config) measured at the base's version.
    """
    root = project_dir(repo)
    config = load_config(root, config_path)
    base = base_ref or config.github.base
    console.print(f"evaluating {base} and {head_ref} on seeds {config.evaluate.seeds.search} …")
    result = evaluate_refs(root, config, base, head_ref, environ=eval_environ(os.environ))
    goals = goals_of(config)
    console.rule(f"{head_ref} ({result.head_sha[:8]}) vs {base} ({result.base_sha[:8]})")
    # soft_wrap: a wrapped markdown table is no longer a table when the output is pasted.
    console.print(deltas_table(result.base, result.head, list(goals), goals), markup=False, soft_wrap=True)
    check = check_report(result.base, result.head, config)
    console.print(f"{check.conclusion}: {check.title}", markup=False)
    if result.restored:
        console.print(f"protected files measured at the base version: {', '.join(result.restored)}")


@cli.command()
@click.argument("repo", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".")
@click.option("--action-ref", default=DEFAULT_ACTION_REF, show_default=True,
              help="The action the workflows use: owner/repo@tag, owner/repo@<commit sha> to pin it, "
              "or ./path for a local copy.")
@click.option("--force", is_flag=True, help="Overwrite existing .growthhacker.yml and workflow files.")
@_errors_to_exit_codes
def init(repo: Path, action_ref: str, force: bool) -> None:
    """Write .growthhacker.yml (detected from REPO) and the GitHub workflows that run GrowthHacker.

    Finds the evaluation script (evaluate*.py / eval*.py taking --seed) and the code importing obp
    or scope_rl; writes .github/workflows/growthhacker-{optimize,verify,command}.yml. Review the
    config (the objective metric above all) before committing.
    """
    result = init_repo(repo, action_ref=action_ref, force=force)
    for path in result.written:
        console.print(f"wrote {path}")
    for note in result.detected.notes:
        console.print(f"[yellow]check:[/yellow] {note}")
    console.print(
        "next: adjust evaluate.objective, try it with `growthhacker run`, commit, add the "
        "ANTHROPIC_API_KEY secret (optional) and allow Actions to create pull requests "
        "(Settings → Actions → General)."
    )


@cli.command()
@click.argument("repo", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".")
@click.option("--mode", type=click.Choice(["optimize", "verify", "command"]),
              help="Default: derived from the event (GITHUB_EVENT_NAME).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Config file (default: REPO/{CONFIG_FILE}).")
@click.option("-n", "--iterations", type=click.IntRange(0, 1000), help="Override loop.iterations.")
@click.option("--agent", "agent_name", type=click.Choice(["auto", "anthropic", "command", "heuristic"]),
              help="Override loop.agent.")
@click.option("--agent-command", help="For --agent command: the executable that answers prompts.")
@click.option("--bot-login", envvar="GROWTHHACKER_BOT_LOGIN",
              help="Login the token posts as; only its comments are taken as the sticky comment. "
              "Default: comments by any Bot account (github-actions[bot] for the Actions token, "
              "<app>[bot] for a GitHub App), which no human can post as. Needed with a personal "
              "access token (its comments are by a User): give that user's login.")
@click.option("--write-pause", type=click.FloatRange(0), default=1.0, show_default=True,
              help="Seconds between GitHub write requests (GitHub's advice against secondary rate limits).")
@_errors_to_exit_codes
def action(repo: Path, mode: str | None, config_path: Path | None, iterations: int | None,
           agent_name: str | None, agent_command: str | None, bot_login: str | None,
           write_pause: float) -> None:
    """Run as the GitHub Action: read the event from GITHUB_EVENT_NAME / GITHUB_EVENT_PATH and act.

    schedule / workflow_dispatch: optimize and open a pull request. pull_request: verify base vs
    head (and record the outcome when a bot PR closes). issue_comment: run a /growthhacker command.
    Needs GITHUB_REPOSITORY and GITHUB_TOKEN; writes GITHUB_OUTPUT and GITHUB_STEP_SUMMARY.
    """
    prepared = prepare(repo, os.environ, config_path=config_path, requested=mode or "",
                       eval_environ=eval_environ(os.environ), bot_login=bot_login, pause_s=write_pause)
    console.print(f"event {prepared.event.kind}: {prepared.decision.reason}")
    if prepared.session is None:
        console.print("nothing to do")
        return

    def run_loop(base_ref: str, hints: list[str]) -> tuple[RunSummary, Path]:
        summary, run_dir = execute_run(repo, config_path=config_path, iterations=iterations,
                                       agent_name=agent_name, hints=hints, resume=False,
                                       base_ref=base_ref, agent_command=agent_command)
        show_summary(summary, run_dir)
        return summary, run_dir

    result = perform(prepared, run_loop)
    console.print(", ".join(f"{name}={value or '—'}" for name, value in result.items()))


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="growthhacker")
