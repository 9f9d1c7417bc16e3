"""A sharded run's finalists confirmed side by side: one job (or process) per finalist, before the gather.

The gather of a sharded run (:mod:`bot.shards`) confirms the best distinct finalists on the held-out
seeds one after another, as a single run ends. With long evaluations that is the longest step, so it
can be spread: *confirmation* ``i`` merges the same shard directories, takes the run's ``i``-th
finalist (0 = best on the search seeds, :func:`bot.selection.distinct_finalists`) and confirms it
exactly as the gather would (:meth:`bot.tiers.Tiers.confirm`), into a directory of its own::

    journal.jsonl    the shards' records, then what the confirmation added
    iterations/<n>/  the finalist's held-out results and logs (confirm.json, logs/)
    records.jsonl    what the confirmation added: its ConfirmationRecorded, and the baseline
                     extended by the held-out seeds it added (when its verdict was undecided)
    confirmed.json   written last: ConfirmationDone (run, finalist, iteration, the records' hash)

The gather merges these records before it selects; a finalist already confirmed is not confirmed
again, so the selection is the one a single process makes, only sooner. The baselines the
confirmations extended are joined into one (:func:`joined_baseline`): a single run's baseline
grows the same way, one finalist after another, and every verdict pairs only the seeds both sides
evaluated. Confirmations are an acceleration, never a dependency: a finalist whose confirmation did
not finish is confirmed by the gather itself.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import ShardError
from bot.journal import BaselineRecorded, ConfirmationRecorded, Journal
from bot.journal.records import Unreadable, parse_line

JOURNAL = "journal.jsonl"
RECORDS = "records.jsonl"
DONE = "confirmed.json"
ITERATIONS = "iterations"


class ConfirmationDone(BaseModel):
    """A finished confirmation: which finalist of which run, the iteration it was (None: the run has
    fewer finalists, nothing was confirmed) and its records file's size and hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    finalist: int = Field(ge=0)
    iteration: int | None = None
    records: int = Field(ge=0)
    sha256: str


def start(directory: Path, shard_lines: list[str]) -> Journal:
    """Make ``directory`` ready for a confirmation (anything an earlier, killed attempt left is
    removed: a confirmation starts over) and return its journal, holding ``shard_lines``.

    Raises:
        JournalError: the journal cannot be written.
        OSError: the directory cannot be emptied.
    """
    for stale in (DONE, RECORDS, JOURNAL):
        (directory / stale).unlink(missing_ok=True)
    shutil.rmtree(directory / ITERATIONS, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    journal = Journal(directory / JOURNAL)
    journal.merge(shard_lines)
    return journal


def finish(directory: Path, run_id: str, finalist: int, iteration: int | None,
           shard_lines: list[str]) -> ConfirmationDone:
    """Write what the confirmation added to its journal (every line of the run not among
    ``shard_lines``) and, last, ``confirmed.json``.

    Raises:
        JournalError: the journal cannot be read.
        OSError: the directory cannot be written.
    """
    given = set(shard_lines)
    added = [line for line in Journal(directory / JOURNAL).lines() if line not in given]
    data = "".join(line + "\n" for line in added).encode("utf-8")
    (directory / RECORDS).write_bytes(data)
    done = ConfirmationDone(run_id=run_id, finalist=finalist, iteration=iteration, records=len(added),
                            sha256=hashlib.sha256(data).hexdigest())
    (directory / DONE).write_text(done.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return done


def read_done(directory: Path) -> ConfirmationDone | None:
    """The confirmation in ``directory`` if it finished and its records are intact, else None (never
    run, killed, or changed since). Raises nothing."""
    try:
        done = ConfirmationDone.model_validate_json((directory / DONE).read_bytes())
        data = (directory / RECORDS).read_bytes()
    except (OSError, ValidationError):
        return None
    return done if hashlib.sha256(data).hexdigest() == done.sha256 else None


def confirmation_lines(directories: list[Path], run_id: str,
                       finalists: list[int]) -> tuple[list[str], list[str]]:
    """The journal lines the finished confirmations in ``directories`` add to run ``run_id``, whose
    distinct finalists are the iterations ``finalists`` (best first), in finalist order; and a note
    for each directory that holds no finished confirmation (its finalist is left to the gather).

    Raises:
        ShardError: a finished confirmation is of another run, names another iteration than the
            run's finalist of its index, is given twice, or holds a record it may not (anything but
            its finalist's confirmation and the run's baseline).
    """
    chosen: dict[int, list[str]] = {}
    notes: list[str] = []
    for directory in directories:
        done = read_done(directory)
        if done is None:
            notes.append(f"{directory} holds no finished confirmation: the gather confirms its finalist")
            continue
        if done.run_id != run_id:
            raise ShardError(f"{directory} confirms a finalist of run {done.run_id}, not of run {run_id}")
        expected = finalists[done.finalist] if done.finalist < len(finalists) else None
        if done.iteration != expected:
            raise ShardError(f"{directory} confirmed iteration {done.iteration} as finalist {done.finalist}, "
                             f"but the shards' finalist {done.finalist} is {expected}: it was confirmed "
                             "from other shards; re-run it on these")
        if done.finalist in chosen:
            raise ShardError(f"finalist {done.finalist} is confirmed twice ({directory})")
        lines = (directory / RECORDS).read_text(encoding="utf-8").split("\n")[:-1]
        for line in lines:
            record = parse_line(line.encode("utf-8"))
            allowed = isinstance(record, BaselineRecorded) or (
                isinstance(record, ConfirmationRecorded) and record.iteration == done.iteration)
            if isinstance(record, Unreadable) or record.run_id != run_id or not allowed:
                raise ShardError(f"{directory} holds a record that is not finalist {done.finalist}'s "
                                 f"confirmation in run {run_id}")
        chosen[done.finalist] = lines
    return [line for index in sorted(chosen) for line in chosen[index]], notes


def joined_baseline(baselines: list[BaselineRecorded]) -> BaselineRecorded | None:
    """One baseline holding every held-out seed the ``baselines`` of a run evaluated (the first's,
    then each later one's additions, in order), or None when the last one already does.

    The base commit's result on a seed does not depend on which confirmation asked for it (the
    evaluation is cached by tree and seed), so the join is the baseline a single run ends with.
    Raises nothing.
    """
    if not baselines:
        return None
    confirm = baselines[0].confirm
    for later in baselines[1:]:
        confirm = confirm.extended(later.confirm)
    last = baselines[-1]
    if [s.seed for s in confirm.seeds] == [s.seed for s in last.confirm.seeds]:
        return None
    return BaselineRecorded(run_id=last.run_id, search=last.search, confirm=confirm,
                            validation=last.validation)


def copy_results(directories: list[Path], run_dir: Path) -> None:
    """Copy each finished confirmation's per-iteration files into ``run_dir``, beside what the
    shards left there, keeping any file already present. Raises OSError if they cannot be copied."""
    for directory in directories:
        source = directory / ITERATIONS
        if read_done(directory) is None or not source.is_dir():
            continue
        for path in sorted(source.rglob("*")):
            target = run_dir / path.relative_to(source)
            if path.is_file() and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
