"""The journal file: append-only JSONL, one record per line, under an advisory lock.

Every record is one line written with a single ``write`` on an ``O_APPEND`` descriptor and fsynced,
under an advisory lock, so concurrent writers never interleave and a crash can at worst leave a torn
final line. A torn final line is ignored on read and cut off before the next append: nothing that
was completely written is ever lost or rewritten.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from bot.errors import JournalError
from bot.journal.records import RECORD, Record, RunFinished, RunStarted
from bot.journal.views import best_first, summarise
from bot.results import Attempt, RunSummary

JOURNAL_FILE = "journal.jsonl"


class Journal:
    """The journal file at ``path`` (created on first append)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, record: Record) -> None:
        """Durably append one record.

        Raises:
            JournalError: the file cannot be written.
        """
        line = (record.model_dump_json() + "\n").encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise JournalError(f"cannot open the journal {self.path}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _cut_torn_tail(fd)
            os.write(fd, line)
            os.fsync(fd)
        except OSError as exc:
            raise JournalError(f"cannot append to the journal {self.path}: {exc}") from exc
        finally:
            os.close(fd)

    def records(self) -> list[Record]:
        """Every complete record in file order; a torn last line is skipped.

        Raises:
            JournalError: a complete line in the middle of the file is not a valid record.
        """
        return list(self._iter_records())

    def _iter_records(self) -> Iterator[Record]:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        complete, tail = lines[:-1], lines[-1]
        for number, raw in enumerate(complete, start=1):
            if not raw.strip():
                continue
            try:
                yield RECORD.validate_json(raw)
            except ValidationError as exc:
                raise JournalError(
                    f"{self.path}:{number}: not a journal record ({exc.errors()[0]['msg']}); "
                    "move the file aside to start a fresh journal"
                ) from exc
        # ``tail`` is a torn write if non-empty: the writer died before its newline. Ignored.
        del tail

    def by_run(self, run_id: str) -> list[Record]:
        """The records of one run, in order."""
        return [r for r in self.records() if r.run_id == run_id]

    def run_ids(self) -> list[str]:
        """Run ids in the order the runs started."""
        return [r.run_id for r in self.records() if isinstance(r, RunStarted)]

    def unfinished_run(self) -> str | None:
        """The most recent run that started but never finished (what ``--resume`` continues)."""
        records = self.records()
        finished = {r.run_id for r in records if isinstance(r, RunFinished)}
        started = [r.run_id for r in records if isinstance(r, RunStarted)]
        return next((rid for rid in reversed(started) if rid not in finished), None)

    def attempts(self) -> list[Attempt]:
        """Every iteration of every run as an :class:`Attempt`, sorted best-first.

        Order: improved, no gain, flagged, failed; within a group merged before unreviewed before
        closed, then by relative improvement (largest first), then newest first.
        """
        return best_first(self.records())

    def summary(self, run_id: str) -> RunSummary:
        """Rebuild the :class:`RunSummary` of a run from its records.

        Raises:
            JournalError: the run is unknown or has no baseline yet.
        """
        return summarise(self.by_run(run_id), run_id)


def _cut_torn_tail(fd: int) -> None:
    """Truncate a final line that lacks its newline (a writer died mid-append)."""
    end = os.lseek(fd, 0, os.SEEK_END)
    pos = end
    while pos > 0:
        start = max(0, pos - (1 << 16))
        os.lseek(fd, start, os.SEEK_SET)
        chunk = os.read(fd, pos - start)
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            keep = start + cut + 1
            break
        pos = start
    else:
        keep = 0
    if keep != end:
        os.ftruncate(fd, keep)
