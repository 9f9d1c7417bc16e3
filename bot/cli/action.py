"""`growthhacker action`: what the GitHub Action runs for each event."""

from __future__ import annotations

import os
from pathlib import Path

import click

from bot.cli.common import console, errors_to_exit_codes, eval_environ, existing_dir, sigterm_interrupts
from bot.cli.run import AGENTS, execute_run, show_summary
from bot.config import CONFIG_FILE
from bot.github.events import MODES
from bot.results import RunSummary


@click.command()
@click.argument("repo", type=existing_dir(), default=".")
@click.option("--mode", type=click.Choice(MODES), envvar="GROWTHHACKER_MODE", show_envvar=True,
              help="The job's part of the event's work (search, publish, measure, report, receive, …); may "
              "be left out only where one job does it all (outcome).")
@click.option("--artifact", type=click.Path(file_okay=False, path_type=Path), envvar="GROWTHHACKER_ARTIFACT",
              show_envvar=True, default=Path("growthhacker-artifact"), show_default=True,
              help="The artifact a read-only job (search, measure) writes and the job after it reads.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              envvar="GROWTHHACKER_CONFIG", show_envvar=True,
              help=f"Config file (default: REPO/{CONFIG_FILE}).")
@click.option("-n", "--iterations", type=click.IntRange(0, 1000), envvar="GROWTHHACKER_ITERATIONS",
              show_envvar=True, help="Override loop.iterations.")
@click.option("--agent", "agent_name", type=AGENTS, envvar="GROWTHHACKER_AGENT", show_envvar=True,
              help="Override loop.agent.")
@click.option("--agent-command", envvar="GROWTHHACKER_AGENT_COMMAND", show_envvar=True,
              help="For --agent command: the executable that answers prompts.")
@click.option("--bot-login", envvar="GROWTHHACKER_BOT_LOGIN", show_envvar=True,
              help="Login the token posts as; only its comments are taken as the sticky comment. "
              "Default: comments by any Bot account (github-actions[bot] for the Actions token, "
              "<app>[bot] for a GitHub App), which no human can post as. Needed with a personal "
              "access token (its comments are by a User): give that user's login.")
@click.option("--write-pause", type=click.FloatRange(0), default=1.0, show_default=True,
              envvar="GROWTHHACKER_WRITE_PAUSE", show_envvar=True,
              help="Seconds between GitHub write requests (GitHub's advice against secondary rate limits).")
@click.option("--time-limit", "time_limit_min", type=click.FloatRange(0, min_open=True), metavar="MINUTES",
              envvar="GROWTHHACKER_TIME_LIMIT", show_envvar=True,
              help="search, shard: start no iteration after this many minutes, so the run selects, "
              "confirms and hands its records on before the job's timeout-minutes.")
@click.option("--shard", "shard_index", type=click.IntRange(0), envvar="GROWTHHACKER_SHARD", show_envvar=True,
              help="shard: this job's shard, 0 to SHARDS-1 (the workflow's matrix value).")
@click.option("--shards", "shard_count", type=click.IntRange(1, 64), envvar="GROWTHHACKER_SHARDS",
              show_envvar=True, help="shard: how many shards the optimize has (the matrix's size).")
@click.option("--shards-dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="GROWTHHACKER_SHARDS_DIR", show_envvar=True,
              help="confirm, gather: the directory the shards' artifacts were downloaded into, one "
              "directory each.")
@click.option("--finalist", type=click.IntRange(0), envvar="GROWTHHACKER_FINALIST", show_envvar=True,
              help="confirm: which finalist this job confirms, 0 (the best) to loop.confirm_top-1.")
@click.option("--confirmations-dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="GROWTHHACKER_CONFIRMATIONS_DIR", show_envvar=True,
              help="gather: the directory the confirm jobs' artifacts were downloaded into (if any), one "
              "directory each; a finalist none confirmed is confirmed by the gather.")
@errors_to_exit_codes
def action(repo: Path, mode: str | None, artifact: Path, config_path: Path | None, iterations: int | None,
           agent_name: str | None, agent_command: str | None, bot_login: str | None,
           write_pause: float, time_limit_min: float | None, shard_index: int | None,
           shard_count: int | None, shards_dir: Path | None, finalist: int | None,
           confirmations_dir: Path | None) -> None:
    """Run as the GitHub Action: read the event from GITHUB_EVENT_NAME / GITHUB_EVENT_PATH and do this
    job's part of its work (--mode).

    A job that runs repository or candidate code (search, measure) has a read-only token and hands its
    result on as one artifact; the job after it (publish, report) checks the artifact and writes,
    running no repository code. Every option can also be set by the environment variable shown with it
    (action.yml passes its inputs that way). Needs GITHUB_REPOSITORY and GITHUB_TOKEN; writes
    GITHUB_OUTPUT and GITHUB_STEP_SUMMARY.
    """
    # Imported here: PyGithub and the Action's modules take about a second to import, which no
    # other command needs.
    from bot.cli.confirm import confirm_finalist
    from bot.cli.shards import gather, run_shard
    from bot.github.action import perform
    from bot.github.action.perform import Sharding
    from bot.github.action.session import prepare
    from bot.shards import ShardSpec

    prepared = prepare(repo, os.environ, config_path=config_path, requested=mode or "",
                       eval_environ=eval_environ(os.environ), artifact=artifact.resolve(),
                       bot_login=bot_login, pause_s=write_pause)
    console.print(f"event {prepared.event.kind}: {prepared.decision.reason}")
    if prepared.session is None:
        console.print("nothing to do")
        return

    def run_loop(base_ref: str, hints: list[str]) -> tuple[RunSummary, Path]:
        summary, run_dir = execute_run(repo, config_path=config_path, iterations=iterations,
                                       agent_name=agent_name, hints=hints, resume=False,
                                       base_ref=base_ref, agent_command=agent_command,
                                       time_limit_min=time_limit_min)
        show_summary(summary, run_dir)
        return summary, run_dir

    def search_shard(spec: ShardSpec, out: Path) -> str | None:
        return run_shard(repo, spec, out, config_path=config_path, agent_name=agent_name,
                         agent_command=agent_command, hints=[], time_limit_min=time_limit_min)

    def gather_shards(directories: list[Path], confirmed: list[Path]) -> tuple[RunSummary, Path]:
        summary, run_dir = gather(repo, directories, config_path=config_path, confirmations=confirmed)
        show_summary(summary, run_dir)
        return summary, run_dir

    planned = prepared.session.config.loop.iterations if iterations is None else iterations
    def confirm_one(directories: list[Path], index: int, out: Path) -> int | None:
        return confirm_finalist(repo, directories, index, out, config_path=config_path)

    sharding = Sharding(search_shard, gather_shards, planned, shard_index, shard_count,
                        None if shards_dir is None else shards_dir.resolve(), confirm_one, finalist,
                        None if confirmations_dir is None else confirmations_dir.resolve())
    with sigterm_interrupts():  # a cancelled or timed-out job still hands on or pushes its records
        result = perform(prepared, run_loop, sharding)
    console.print(", ".join(f"{name}={value or '—'}" for name, value in result.items()))
