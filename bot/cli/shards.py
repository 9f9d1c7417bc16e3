"""`growthhacker shard` and `gather`, and `run --shards K`: one optimisation as K search shards (each
its own process and workspace, writing a shard directory) joined by a gather that selects post hoc
exactly as a single run does. The plan and the directory layout are in :mod:`bot.shards`."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import click

from bot.agents.budget import Budget
from bot.agents.factory import Framework, make_agent
from bot.cli.common import console, errors_to_exit_codes, eval_environ, existing_dir
from bot.cli.confirm import merge_confirmations
from bot.cli.progress import RunDisplay, Tracker
from bot.cli.run import make_run_id, open_journal, show_summary, spent_by, write_artifacts
from bot.config import CONFIG_FILE, load_config
from bot.errors import (
    AgentError,
    ConfigError,
    EvaluationError,
    GrowthHackerError,
    JournalError,
    PatchError,
    RunNotFound,
    ShardError,
    WorkspaceError,
)
from bot.evaluate import Evaluator
from bot.journal import Journal
from bot.loop import Loop
from bot.plot import preload as preload_plotting
from bot.redact import scrub, secret_values
from bot.results import RunSummary
from bot.shards import (
    ITERATIONS,
    JOURNAL,
    ShardSpec,
    copy_iterations,
    finish,
    gathered_lines,
    prepare,
    read_done,
    split_budget,
)
from bot.workspace import Workspace, check_run_id, project_dir, state_dir

#: The exit code of a failed shard process → the error the parent run raises for it.
_BY_EXIT_CODE: dict[int, type[GrowthHackerError]] = {
    cls.exit_code: cls for cls in (WorkspaceError, PatchError, EvaluationError, JournalError, AgentError,
                                   ConfigError, RunNotFound)
}


def run_shard(
    repo: Path, spec: ShardSpec, out: Path, *, config_path: Path | None, agent_name: str | None,
    agent_command: str | None, hints: list[str], framework: Framework = "two_agent",
    time_limit_min: float | None = None,
) -> str | None:
    """Run search shard ``spec`` of a run on ``repo`` into the directory ``out`` (resuming it when its
    journal holds the run's start, doing nothing when it already finished); returns why it stopped
    early, or None. ``time_limit_min``: no iteration starts after that many minutes from now.

    Raises:
        GrowthHackerError: as :func:`bot.cli.run.execute_run`; ShardError: ``out`` holds another shard.
    """
    repo = project_dir(repo)
    check_run_id(spec.run_id)
    done = read_done(out)
    if done is not None and done.spec == spec:
        console.print(f"shard {spec.index} of run {spec.run_id} already finished ({done.records} records)")
        return done.stopped
    config = load_config(repo, config_path)
    state = state_dir(repo)
    resume = prepare(out, spec, open_journal(repo))
    journal = Journal(out / JOURNAL)
    usd, tokens = split_budget(config.loop.budget.usd, config.loop.budget.tokens, spec.count)
    budget = Budget(usd=usd, tokens=tokens)
    if resume:  # a killed shard continues its own share of the budget, not a fresh one
        budget.record(spent_by(journal.by_run(spec.run_id)))
    agent, why = make_agent(config.loop, dict(os.environ), framework=framework, agent=agent_name,
                            agent_command=agent_command, cwd=repo, budget=budget)
    console.print(f"[dim]agent: {why}[/dim]")
    workspace = Workspace.open(repo, f"{spec.run_id}-shard{spec.index}", spec.base_commit)
    deadline = None if time_limit_min is None else time.monotonic() + 60.0 * time_limit_min
    display = RunDisplay(console, Tracker(config, len(spec.numbers())))
    evaluator = Evaluator(config.evaluate, state / "cache", environ=eval_environ(os.environ),
                          on_seed=display.seed_done)
    loop = Loop(config=config, workspace=workspace, evaluator=evaluator, journal=journal, agent=agent,
                run_id=spec.run_id, run_dir=out / ITERATIONS, iterations=spec.iterations, hints=hints,
                on_event=display.event, numbers=spec.numbers(), shard=spec.index, deadline=deadline)
    verb = "resuming" if resume else "running"
    console.print(f"{verb} shard {spec.index} of {spec.count} of run [bold]{spec.run_id}[/bold] at "
                  f"{workspace.base[:8]}: iterations {spec.numbers()}")
    try:
        with display:
            stopped = loop.search(resume=resume)
    finally:
        workspace.remove()
    finished = finish(out, spec, stopped)
    console.print(f"shard {spec.index} finished: {finished.records} records in {out}")
    return stopped


def gather(repo: Path, directories: list[Path], *, config_path: Path | None,
           confirmations: Sequence[Path] = ()) -> tuple[RunSummary, Path]:
    """Merge the finished shards in ``directories`` into the project journal, confirm the finalists
    on the held-out seeds and commit the winner, as a single run ends; returns the summary and the
    run directory (report, plot, per-iteration files). Re-running it changes nothing.

    ``confirmations``: directories of ``growthhacker confirm`` (:mod:`bot.finalists`); a finalist
    confirmed there is not confirmed again, one whose confirmation did not finish is confirmed here.

    Raises:
        ShardError: a shard is missing, unfinished, of another run or damaged, or a finished
            confirmation is of another run or finalist (nothing of it is merged).
        GrowthHackerError: as :func:`bot.cli.run.execute_run`.
    """
    repo = project_dir(repo)
    config = load_config(repo, config_path)
    gathered = gathered_lines(directories)
    spec = gathered.spec
    run_dir = state_dir(repo) / "runs" / check_run_id(spec.run_id)
    journal = open_journal(repo)
    added = journal.merge(gathered.lines)
    copy_iterations(sorted(directories, key=lambda d: str(d)), run_dir)
    console.print(f"gathered {len(directories)} shard(s) of run [bold]{spec.run_id}[/bold]: "
                  f"{added} record(s) merged into {journal.path}")
    workspace = Workspace.open(repo, spec.run_id, spec.base_commit)
    display = RunDisplay(console, Tracker(config, 0), live=False)
    evaluator = Evaluator(config.evaluate, state_dir(repo) / "cache", environ=eval_environ(os.environ),
                          on_seed=display.seed_done)
    loop = Loop(config=config, workspace=workspace, evaluator=evaluator, journal=journal, agent=None,
                run_id=spec.run_id, run_dir=run_dir, iterations=spec.iterations, on_event=display.event,
                numbers=[])
    preload_plotting()  # drawn at the end: imported while the finalists are evaluated
    try:
        confirmed = merge_confirmations(loop, confirmations, run_dir)
        if confirmations:
            console.print(f"{confirmed} record(s) merged from {len(confirmations)} confirmation(s)")
        with display:
            summary = loop.conclude(gathered.stopped)
    finally:
        workspace.remove()
    write_artifacts(summary, run_dir)
    return summary, run_dir


def run_sharded(
    repo: Path, *, shards: int, workers: int | None, config_path: Path | None, iterations: int | None,
    agent_name: str | None, agent_command: str | None, hints: list[str], base_ref: str,
    framework: Framework = "two_agent",
) -> tuple[RunSummary, Path]:
    """One optimisation as ``shards`` search shards, at most ``workers`` (default: all) running at
    once as separate processes, then the gather; returns the summary and the run directory.

    Raises:
        GrowthHackerError: a shard failed (the error of its exit code, naming its log), or as
            :func:`gather`.
    """
    repo = project_dir(repo)
    config = load_config(repo, config_path)
    run_id = make_run_id()
    base = Workspace.resolve(repo, base_ref)
    total = config.loop.iterations if iterations is None else iterations
    hints = [scrub(hint, secret_values(os.environ)) for hint in hints]
    root = state_dir(repo) / "runs" / run_id / "shards"
    console.print(f"run [bold]{run_id}[/bold] on {repo} at {base[:8]}: {total} iterations in {shards} "
                  f"shard(s), {workers or shards} at a time")
    argv = {i: _shard_argv(repo, ShardSpec(run_id=run_id, index=i, count=shards, base_commit=base,
                                           iterations=total), root / str(i), config_path=config_path,
                           agent_name=agent_name, agent_command=agent_command, hints=hints,
                           framework=framework)
            for i in range(shards)}
    failed = _run_all(argv, root, workers or shards, "shard")
    if failed:
        index, code = failed[0]
        tail = _last_line(root / f"{index}.log")
        error = _BY_EXIT_CODE.get(code, ShardError)
        raise error(f"shard {index} failed (exit code {code}): {tail}; its log: {root / f'{index}.log'}. "
                    "Fix that, then re-run the shard with the command in the log or start a new run")
    directories = [root / str(i) for i in range(shards)]
    confirmations = _confirm_all(repo, directories, config.loop.confirm_top if shards > 1 else 0,
                                 workers or shards, config_path, root.parent / "finalists")
    return gather(repo, directories, config_path=config_path, confirmations=confirmations)


def _confirm_all(repo: Path, directories: list[Path], finalists: int, workers: int,
                 config_path: Path | None, root: Path) -> list[Path]:
    """Confirm the run's ``finalists`` side by side (``workers`` processes at a time) into
    ``root/<i>``; returns those directories. Only worth it with two or more of each: otherwise the
    gather confirms them itself. A failed confirmation is reported and left to the gather."""
    if finalists < 2 or workers < 2:
        return []
    argv: dict[int, list[str]] = {}
    for index in range(finalists):
        argv[index] = [sys.executable, "-m", "bot.cli", "confirm", *map(str, directories), "--repo",
                       str(repo), "--finalist", str(index), "--out", str(root / str(index))]
        if config_path is not None:
            argv[index] += ["--config", str(config_path)]
    for index, code in _run_all(argv, root, workers, "finalist"):
        console.print(f"[yellow]finalist {index}'s confirmation failed (exit code {code}: "
                      f"{_last_line(root / f'{index}.log')}): the gather confirms it[/yellow]")
    return [root / str(index) for index in range(finalists)]


def _shard_argv(
    repo: Path, spec: ShardSpec, out: Path, *, config_path: Path | None, agent_name: str | None,
    agent_command: str | None, hints: Sequence[str], framework: Framework,
) -> list[str]:
    argv = [sys.executable, "-m", "bot.cli", "shard", str(repo), "--run-id", spec.run_id, "--index",
            str(spec.index), "--count", str(spec.count), "--base", spec.base_commit, "--iterations",
            str(spec.iterations), "--out", str(out), "--framework", framework]
    if config_path is not None:
        argv += ["--config", str(config_path)]
    if agent_name is not None:
        argv += ["--agent", agent_name]
    if agent_command is not None:
        argv += ["--agent-command", agent_command]
    for hint in hints:
        argv += ["--hint", hint]
    return argv


def _run_all(argv: dict[int, list[str]], root: Path, workers: int, what: str) -> list[tuple[int, int]]:
    """Run the processes ``argv`` (each a ``what``: shard, finalist), ``workers`` at a time, each
    logging to ``root/<i>.log``; returns the failed ones' indices and exit codes."""
    root.mkdir(parents=True, exist_ok=True)
    pending = sorted(argv)
    running: dict[int, subprocess.Popen[bytes]] = {}
    failed: list[tuple[int, int]] = []
    try:
        while pending or running:
            while pending and len(running) < workers:
                index = pending.pop(0)
                with (root / f"{index}.log").open("wb") as log:
                    log.write(f"$ {shlex.join(argv[index])}\n".encode())
                    log.flush()
                    running[index] = subprocess.Popen(argv[index], stdout=log, stderr=subprocess.STDOUT)
                console.print(f"[dim]{what} {index} started (log: {root / f'{index}.log'})[/dim]")
            for index, process in list(running.items()):
                code = process.poll()
                if code is None:
                    continue
                del running[index]
                if code:
                    failed.append((index, code))
                console.print(f"{what} {index} {'failed with exit code ' + str(code) if code else 'done'}")
            time.sleep(0.2)
    finally:
        # Interrupted: a shard resumes when re-run, a confirmation starts over.
        for process in running.values():
            process.terminate()
            process.wait()
    return failed


def _last_line(log: Path) -> str:
    lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return lines[-1] if lines else "no output"


@click.command()
@click.argument("repo", type=existing_dir(), default=".")
@click.option("--run-id", required=True, help="The run this shard belongs to.")
@click.option("--index", type=click.IntRange(0), required=True, help="This shard's index, 0 to COUNT-1.")
@click.option("--count", type=click.IntRange(1), required=True, help="How many shards the run has.")
@click.option("--base", "base_ref", required=True, help="The run's base commit (the same for every shard).")
@click.option("-n", "--iterations", type=click.IntRange(0, 1000), required=True,
              help="The whole run's iterations (this shard runs every COUNT-th).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The shard's directory (its artifact).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Config file (default: REPO/{CONFIG_FILE}).")
@click.option("--agent", "agent_name", type=click.Choice(["auto", "anthropic", "command", "heuristic"]),
              help="Override loop.agent.")
@click.option("--agent-command", help="For --agent command: the executable that answers the prompts.")
@click.option("--framework", type=click.Choice(["two_agent", "default"]), default="two_agent",
              show_default=True, help="LLM agents only: Analyzer + Coder, or one single-shot call.")
@click.option("--hint", "hints", multiple=True, help="A hint for the Analyzer (repeatable).")
@errors_to_exit_codes
def shard(repo: Path, run_id: str, index: int, count: int, base_ref: str, iterations: int, out: Path,
          config_path: Path | None, agent_name: str | None, agent_command: str | None,
          framework: Framework, hints: tuple[str, ...]) -> None:
    """Run search shard INDEX of COUNT of run RUN_ID into the directory OUT (no selection: `gather`
    selects over every shard). Re-running a finished shard does nothing; a killed one resumes."""
    if index >= count:
        raise ConfigError(f"--index {index} is not below --count {count}")
    base = Workspace.resolve(project_dir(repo), base_ref)
    spec = ShardSpec(run_id=run_id, index=index, count=count, base_commit=base, iterations=iterations)
    run_shard(repo, spec, out.resolve(), config_path=config_path, agent_name=agent_name,
              agent_command=agent_command, hints=list(hints), framework=framework)


@click.command("gather")
@click.argument("shard_dirs", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--repo", type=existing_dir(), default=".", show_default=True, help="The target repository.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Config file (default: REPO/{CONFIG_FILE}).")
@click.option("--confirmation", "confirmations", multiple=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="A directory of `growthhacker confirm` (repeatable): that finalist is not confirmed "
                   "again. One that did not finish is skipped with a note.")
@errors_to_exit_codes
def gather_cmd(shard_dirs: tuple[Path, ...], repo: Path, config_path: Path | None,
               confirmations: tuple[Path, ...]) -> None:
    """Join the finished search shards in SHARD_DIRS (all of one run): merge their records into the
    journal, confirm the finalists on the held-out seeds and commit the winner, as a run ends."""
    summary, run_dir = gather(repo, [d.resolve() for d in shard_dirs], config_path=config_path,
                              confirmations=[d.resolve() for d in confirmations])
    show_summary(summary, run_dir)
