"""`growthhacker confirm`: one finalist of a sharded run confirmed on the held-out seeds, apart from
the others (a process, or a job of the GitHub matrix), so the gather only selects. The plan and the
directory layout are in :mod:`bot.finalists`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import click

from bot.cli.common import console, errors_to_exit_codes, eval_environ, existing_dir
from bot.cli.progress import RunDisplay, Tracker
from bot.config import CONFIG_FILE, load_config
from bot.evaluate import Evaluator
from bot.finalists import (
    ITERATIONS,
    confirmation_lines,
    copy_results,
    finish,
    joined_baseline,
    read_done,
    start,
)
from bot.journal import BaselineRecorded, RunFinished
from bot.loop import Loop
from bot.runstate import RunState
from bot.shards import gathered_lines
from bot.tiers import baseline_ok
from bot.workspace import Workspace, check_run_id, project_dir, state_dir


def confirm_finalist(repo: Path, directories: list[Path], index: int, out: Path, *,
                     config_path: Path | None) -> int | None:
    """Confirm finalist ``index`` (0 = best) of the run whose finished shards are ``directories``
    into the directory ``out``; returns its iteration, or None when the run has no such finalist.
    A finished confirmation of the same run and finalist in ``out`` is kept; anything else there is
    replaced (a confirmation starts over: its evaluations are cached by tree and seed).

    Raises:
        ShardError: a shard is missing, unfinished, of another run or damaged.
        GrowthHackerError: as the loop's held-out confirmation (evaluation harness, workspace).
    """
    repo = project_dir(repo)
    config = load_config(repo, config_path)
    gathered = gathered_lines(directories)
    spec = gathered.spec
    done = read_done(out)
    if done is not None and (done.run_id, done.finalist) == (spec.run_id, index):
        console.print(f"finalist {index} of run {spec.run_id} was already confirmed ({done.records} records)")
        return done.iteration
    journal = start(out, gathered.lines)
    workspace = Workspace.open(repo, f"{check_run_id(spec.run_id)}-finalist{index}", spec.base_commit)
    display = RunDisplay(console, Tracker(config, 0), live=False)
    evaluator = Evaluator(config.evaluate, state_dir(repo) / "cache", environ=eval_environ(os.environ),
                          on_seed=display.seed_done)
    loop = Loop(config=config, workspace=workspace, evaluator=evaluator, journal=journal, agent=None,
                run_id=spec.run_id, run_dir=out / ITERATIONS, iterations=spec.iterations,
                on_event=display.event, numbers=[])
    try:
        with display:
            iteration = loop.confirm_finalist(index)
    finally:
        workspace.remove()
    finished = finish(out, spec.run_id, index, iteration, gathered.lines)
    what = f"iteration {iteration}" if iteration is not None else "nothing (the run has fewer finalists)"
    console.print(f"finalist {index} of run {spec.run_id}: confirmed {what}; {finished.records} record(s) "
                  f"in {out}")
    return iteration


def merge_confirmations(loop: Loop, confirmations: Sequence[Path], run_dir: Path) -> int:
    """Merge the finished ``confirmations`` of ``loop``'s run into its journal before it selects,
    with the baseline they extended joined into one, and their result files into ``run_dir``;
    returns how many records were added. A finished run is left as it is.

    Raises:
        ShardError: a finished confirmation is not of this run's finalists (nothing is merged).
        JournalError: the journal cannot be read or written.
    """
    records = loop.journal.by_run(loop.run_id)
    if not confirmations or any(isinstance(r, RunFinished) for r in records):
        return 0
    state = RunState.from_records(records)
    ok = state.baseline is not None and baseline_ok(state.baseline)
    finalists = [r.iteration for r in loop.tiers.finalists(state)] if ok else []
    lines, notes = confirmation_lines(list(confirmations), loop.run_id, finalists)
    for note in notes:
        console.print(f"[yellow]{note}[/yellow]")
    added = loop.journal.merge(lines)
    baselines = [r for r in loop.journal.by_run(loop.run_id) if isinstance(r, BaselineRecorded)]
    joined = joined_baseline(baselines)
    if joined is not None:
        loop.journal.append(joined)
        added += 1
    copy_results(list(confirmations), run_dir)
    return added


@click.command("confirm")
@click.argument("shard_dirs", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--repo", type=existing_dir(), default=".", show_default=True, help="The target repository.")
@click.option("--finalist", type=click.IntRange(0), required=True,
              help="Which finalist: 0 is the best on the search seeds (loop.confirm_top of them).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The confirmation's directory (give it to `gather --confirmation`).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Config file (default: REPO/{CONFIG_FILE}).")
@errors_to_exit_codes
def confirm_cmd(shard_dirs: tuple[Path, ...], repo: Path, finalist: int, out: Path,
                config_path: Path | None) -> None:
    """Confirm one finalist of the run whose finished search shards are SHARD_DIRS on the held-out
    seeds, into the directory OUT, so that `gather` only selects (finalists side by side)."""
    confirm_finalist(repo, [d.resolve() for d in shard_dirs], finalist, out.resolve(),
                     config_path=config_path)

