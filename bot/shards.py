"""Sharded search: one optimisation split into K search shards, and the gather that joins them.

A run's ``N`` iterations are dealt out to ``K`` shards over the same base commit and search seeds:
shard ``i`` (0-based) runs iterations ``i+1, i+1+K, i+1+2K …`` with its own workspace, its own LLM
budget (``1/K`` of ``loop.budget``, so the total fails closed) and its own journal view (the project
journal as it was when the shard started, plus the shard's own records): an island that builds
best-first on what it found itself. A deterministic agent starts each island from a different move
(:attr:`bot.agents.base.AnalyzerContext.shard`).

A shard writes everything into one directory (an artifact; nothing else passes between steps)::

    shard.json       ShardSpec: run id, index, count, base commit, the run's iterations
    journal.jsonl    the shard's journal: the view it started from, then its own records
    iterations/<n>/  per iteration: prompts, responses, analysis.json, candidate.diff, metrics, logs
    records.jsonl    at the end: the shard's records (run start, baseline, iterations), verbatim
    done.json        written last: ShardDone (the records' count and SHA-256, why it stopped early)

A shard is idempotent by run id and index: re-running a finished one changes nothing; a killed one
resumes from its journal (a deterministic agent then writes the records an unkilled run would have).
The gather (:func:`gathered_lines`) checks that all K shards finished, for the same run and base,
and hands back the lines :meth:`bot.journal.Journal.merge` appends to the project journal: shard 0's
run start and baseline, then every iteration in number order. The post-hoc selection then runs on
them exactly as at the end of a single run (:meth:`bot.loop.Loop.conclude`).
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import ShardError
from bot.journal import BaselineRecorded, IterationRecorded, Journal, RunStarted
from bot.journal.records import Unreadable, parse_line

SPEC = "shard.json"
JOURNAL = "journal.jsonl"
RECORDS = "records.jsonl"
DONE = "done.json"
ITERATIONS = "iterations"


class ShardSpec(BaseModel):
    """Which part of which run a shard searches."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    index: int = Field(ge=0)
    count: int = Field(ge=1)
    base_commit: str
    #: The whole run's iterations (the shard runs its slice of them: :meth:`numbers`).
    iterations: int = Field(ge=0)

    def numbers(self) -> list[int]:
        """The iteration numbers this shard runs: ``index+1``, then every ``count``-th up to the run's
        ``iterations`` (the shards' slices are disjoint and together are ``1..iterations``)."""
        return list(range(self.index + 1, self.iterations + 1, self.count))


class ShardDone(BaseModel):
    """A finished shard: its spec, its records file's size and hash, and why it stopped early."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    spec: ShardSpec
    records: int = Field(ge=0)
    sha256: str
    stopped: str | None = None


def split_budget(usd: float | None, tokens: int | None, count: int) -> tuple[float | None, int | None]:
    """Each of ``count`` shards' share of a run's LLM budget (None: no limit), together never more
    than the whole."""
    return (None if usd is None else usd / count), (None if tokens is None else tokens // count)


def read_done(directory: Path) -> ShardDone | None:
    """The shard in ``directory`` if it finished and its records are intact, else None (it was
    never run, was killed, or its records were changed since). Raises nothing."""
    try:
        done = ShardDone.model_validate_json((directory / DONE).read_bytes())
        data = (directory / RECORDS).read_bytes()
    except (OSError, ValidationError):
        return None
    return done if hashlib.sha256(data).hexdigest() == done.sha256 else None


def prepare(directory: Path, spec: ShardSpec, project: Journal) -> bool:
    """Make ``directory`` ready for shard ``spec``; returns True to resume (its journal already holds
    the run's start), False for a fresh start (the journal view copied from ``project``).

    Raises:
        ShardError: ``directory`` holds a shard of another run, index or base.
        JournalError: a journal cannot be read or written.
    """
    try:
        recorded = ShardSpec.model_validate_json((directory / SPEC).read_bytes())
    except FileNotFoundError:
        recorded = None
    except (OSError, ValidationError) as exc:
        raise ShardError(f"{directory / SPEC} is unreadable ({exc}); use an empty directory") from exc
    if recorded is not None and recorded != spec:
        raise ShardError(f"{directory} holds shard {recorded.index} of {recorded.count} of run "
                         f"{recorded.run_id}, not shard {spec.index} of {spec.count} of run {spec.run_id}: "
                         "use another directory")
    journal = Journal(directory / JOURNAL)
    if recorded is not None and any(isinstance(r, RunStarted) for r in journal.by_run(spec.run_id)):
        return True
    # Killed before its run started (or never run): start clean from the project journal as it is now.
    for stale in (JOURNAL, RECORDS, DONE):
        (directory / stale).unlink(missing_ok=True)
    shutil.rmtree(directory / ITERATIONS, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / SPEC).write_text(spec.model_dump_json(indent=2) + "\n", encoding="utf-8")
    Journal(directory / JOURNAL).merge(project.lines())
    return False


def finish(directory: Path, spec: ShardSpec, stopped: str | None) -> ShardDone:
    """Write the shard's records (its journal's lines of the run) and, last, ``done.json``.

    Raises:
        JournalError: the shard journal cannot be read.
        OSError: the directory cannot be written.
    """
    lines = [line for line in Journal(directory / JOURNAL).lines() if _run_of(line) == spec.run_id]
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    (directory / RECORDS).write_bytes(data)
    done = ShardDone(spec=spec, records=len(lines), sha256=hashlib.sha256(data).hexdigest(), stopped=stopped)
    (directory / DONE).write_text(done.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return done


@dataclass(frozen=True)
class Gathered:
    """What the gather merges: the journal lines in order, the run's spec (shard 0's) and why shards
    stopped early (None if none did)."""

    lines: list[str]
    spec: ShardSpec
    stopped: str | None


def gathered_lines(directories: list[Path]) -> Gathered:
    """The lines to merge into the project journal from the shard ``directories`` of one run.

    Raises:
        ShardError: a directory holds no finished shard, the shards are of different runs or bases,
            one is missing or repeated, or a record is not of the run or not of the shard's slice.
    """
    shards: dict[int, tuple[ShardDone, list[str]]] = {}
    for directory in directories:
        done = read_done(directory)
        if done is None:
            raise ShardError(f"{directory} holds no finished shard: run (or re-run) that shard, then gather")
        if done.spec.index in shards:
            raise ShardError(f"shard {done.spec.index} is given twice ({directory})")
        lines = (directory / RECORDS).read_text(encoding="utf-8").split("\n")[:-1]
        shards[done.spec.index] = (done, lines)
    if not shards:
        raise ShardError("no shard directories to gather")
    first = shards[min(shards)][0].spec
    for done, _ in shards.values():
        spec = done.spec
        if (spec.run_id, spec.count, spec.base_commit, spec.iterations) != (
            first.run_id, first.count, first.base_commit, first.iterations
        ):
            raise ShardError(f"shard {spec.index} is of run {spec.run_id} at {spec.base_commit[:8]} "
                             f"({spec.count} shards), not of run {first.run_id} at {first.base_commit[:8]} "
                             f"({first.count} shards)")
    missing = sorted(set(range(first.count)) - set(shards))
    if missing:
        raise ShardError(f"shard(s) {', '.join(map(str, missing))} of run {first.run_id} are missing: "
                         "run them, then gather")
    head: list[str] = []
    iterations: list[tuple[int, str]] = []
    for index in sorted(shards):
        done, lines = shards[index]
        allowed = set(done.spec.numbers())
        for line in lines:
            record = parse_line(line.encode("utf-8"))
            if isinstance(record, Unreadable) or record.run_id != first.run_id:
                raise ShardError(f"shard {index}'s records hold a line that is not of run {first.run_id}")
            if isinstance(record, IterationRecorded):
                if record.iteration not in allowed:
                    raise ShardError(f"shard {index} recorded iteration {record.iteration}, outside its "
                                     "slice")
                iterations.append((record.iteration, line))
            elif index == 0 and isinstance(record, RunStarted | BaselineRecorded):
                head.append(line)  # every shard measured the same base: shard 0's record stands
    stopped = [f"shard {i}: {shards[i][0].stopped}" for i in sorted(shards) if shards[i][0].stopped]
    return Gathered(lines=head + [line for _, line in sorted(iterations)], spec=first,
                    stopped="; ".join(stopped) or None)


def copy_iterations(directories: list[Path], run_dir: Path) -> None:
    """Copy each shard's per-iteration directories into ``run_dir`` (where a single run leaves them),
    keeping what is already there (a re-run gather). Raises OSError if they cannot be copied."""
    for directory in directories:
        source = directory / ITERATIONS
        if not source.is_dir():
            continue
        for child in source.iterdir():
            wanted = child.name.isdigit() or child.name == "baseline"
            if child.is_dir() and wanted and not (run_dir / child.name).exists():
                shutil.copytree(child, run_dir / child.name)


def _run_of(line: str) -> str | None:
    record = parse_line(line.encode("utf-8"))
    return None if isinstance(record, Unreadable) else record.run_id
