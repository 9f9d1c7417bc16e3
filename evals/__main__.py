"""`python -m evals`: run the benchmark, merge shard outputs, re-render a report.

Thin click commands over :mod:`evals.runner`, :mod:`evals.records` and :mod:`evals.report`.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import cast

import click

from bot.errors import GrowthHackerError
from evals import RESULTS_DIR
from evals.metrics import is_positive, is_reliable
from evals.records import (
    FRAMEWORKS,
    RUNS_FILE,
    EvalsError,
    Framework,
    RunRecord,
    merge_runs,
    read_runs,
    write_runs,
)
from evals.report import cell_table, pct, write
from evals.runner import Backend, BackendKind, parse_shard, plan, run_all
from evals.targets import resolve_targets

_KEYS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL")


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _title(out: Path) -> str:
    return f"GrowthHacker evals — {out.name}"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Benchmark GrowthHacker on the OPE targets in evals/targets (see evals/README.md)."""


@main.command()
@click.option("--frameworks", default="heuristic", show_default=True,
              help=f"Comma-separated, from: {', '.join(FRAMEWORKS)}.")
@click.option("--targets", default="all", show_default=True,
              help="Comma-separated target names (directories of evals/targets or evals/strangers); "
                   "'all' = the original targets, 'strangers' = the stranger set.")
@click.option("--runs", type=click.IntRange(1), default=1, show_default=True,
              help="Runs per target × framework; run r uses the target's seeds shifted by r × 1000.")
@click.option("--iterations", type=click.IntRange(0), default=3, show_default=True,
              help="Iterations per run.")
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True, help="Runs at once.")
@click.option("--shard", default="1/1", show_default=True,
              help="Execute only shard i of n of the planned runs.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Result directory (default: evals/results/<today>).")
@click.option("--work", type=click.Path(file_okay=False, path_type=Path),
              help="Where the per-run repositories and logs go (default: OUT/work).")
@click.option("--search-seeds", type=click.IntRange(1),
              help="Use only the first N search seeds of each target.")
@click.option("--confirm-seeds", type=click.IntRange(1),
              help="Use only the first N held-out seeds of each target.")
@click.option("--validate-seeds", type=click.IntRange(0),
              help="Use only the first N validation seeds of each target (0: no validation tier).")
@click.option("--audit-seeds", type=click.IntRange(0), default=0, show_default=True,
              help="After each run, evaluate the baseline, the final incumbent and the winner on N fresh "
                   "seeds (a candidate worse there is a trap).")
@click.option("--backend", type=click.Choice(["anthropic", "command"]), default="anthropic",
              show_default=True, help="How the LLM frameworks reach a model (the heuristic needs none).")
@click.option("--agent-command", help="For --backend command: the executable that answers prompts on stdout.")
@click.option("--agent-timeout", type=click.FloatRange(min=0, min_open=True),
              help="Seconds one agent call may take (sets loop.agent_timeout_s of the LLM runs).")
def run(frameworks: str, targets: str, runs: int, iterations: int, workers: int, shard: str, out: Path | None,
        work: Path | None, search_seeds: int | None, confirm_seeds: int | None, validate_seeds: int | None,
        audit_seeds: int, backend: str, agent_command: str | None, agent_timeout: float | None) -> None:
    """Run `growthhacker run` on fresh copies of the targets and write runs.jsonl, report.md and a plot.

    Runs already in OUT/runs.jsonl are not run again, so an interrupted benchmark resumes.
    """
    try:
        chosen = cast(list[Framework], _split(frameworks))
        names = resolve_targets(targets)
        llm = [f for f in chosen if f != "heuristic"]
        if llm and backend == "anthropic" and not any(os.environ.get(k) for k in _KEYS):
            raise click.UsageError(f"{', '.join(llm)} need a model: set ANTHROPIC_API_KEY (or "
                                   "ANTHROPIC_BASE_URL), or use --backend command --agent-command CMD")
        if backend == "command" and not agent_command:
            raise click.UsageError("--backend command needs --agent-command")
        specs = plan(names, chosen, runs, iterations, search=search_seeds, confirm=confirm_seeds,
                     validate=validate_seeds, audit=audit_seeds, shard=parse_shard(shard))
    except GrowthHackerError as exc:  # EvalsError, or a target's invalid config
        raise click.UsageError(str(exc)) from exc
    out = out or RESULTS_DIR / date.today().isoformat()
    work = work or out / "work"
    out.mkdir(parents=True, exist_ok=True)
    ignore = out / ".gitignore"
    if work.resolve().is_relative_to(out.resolve()) and not ignore.exists():
        ignore.write_text(f"{work.resolve().relative_to(out.resolve())}/\n", encoding="utf-8")
    click.echo(f"{len(specs)} run(s) → {out / RUNS_FILE} (work: {work}, {workers} at a time)")

    def progress(record: RunRecord, done: int, total: int) -> None:
        outcome = f"not reliable ({record.process})"
        if is_positive(record):
            outcome = "positive " + pct(record.heldout_improvement, True)
        elif is_reliable(record):
            outcome = "reliable, no improvement"
        click.echo(f"[{done}/{total}] {record.spec.key}: {outcome} ({record.wall_s:.0f} s)")

    try:
        records = run_all(specs, out, work, workers=workers,
                          backend=Backend(kind=cast(BackendKind, backend), command=agent_command,
                                          agent_timeout_s=agent_timeout),
                          environ=dict(os.environ), on_done=progress)
    except EvalsError as exc:
        raise click.ClickException(str(exc)) from exc
    report = write(read_runs(out), out, _title(out))
    click.echo(cell_table(records))
    click.echo(f"\nreport: {report}")


@main.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory for the merged runs.jsonl, report.md and plot.")
def merge(sources: tuple[Path, ...], out: Path) -> None:
    """Merge the runs.jsonl of several shards (directories or files) into OUT and render the report."""
    try:
        records = merge_runs(sources)
    except EvalsError as exc:
        raise click.ClickException(str(exc)) from exc
    write_runs(out / RUNS_FILE, records)
    report = write(records, out, _title(out))
    click.echo(cell_table(records))
    click.echo(f"\nmerged {len(records)} run(s) from {len(sources)} source(s); report: {report}")


@main.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def report(directory: Path) -> None:
    """Re-render report.md and the plot of DIRECTORY from its runs.jsonl."""
    try:
        records = read_runs(directory)
    except EvalsError as exc:
        raise click.ClickException(str(exc)) from exc
    path = write(records, directory, _title(directory))
    click.echo(cell_table(records))
    click.echo(f"\nreport: {path}")


if __name__ == "__main__":
    sys.exit(main())
