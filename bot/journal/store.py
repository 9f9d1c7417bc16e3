"""The journal file: append-only JSONL, one record per line, under an advisory lock.

Every write (one record, or the lines a merge adds) is a single ``write`` on an ``O_APPEND``
descriptor, fsynced, under an exclusive advisory lock, so concurrent writers (processes included)
never interleave and a crash can at worst leave a torn final line. A torn final line is ignored on
read and cut off before the next write: nothing that was completely written is ever lost or
rewritten. :class:`Journal` is the only writer of the file; the journal branch merges through
:meth:`Journal.merge`.

Reading never stops the bot: lines this version cannot read (see :mod:`bot.journal.records`) are
skipped with one warning and stay in the file.
"""

from __future__ import annotations

import fcntl
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.errors import JournalError
from bot.journal.records import Record, RunFinished, RunStarted, Unreadable, describe_unreadable, parse_line
from bot.journal.views import best_first, summarise
from bot.results import Attempt, RunSummary

JOURNAL_FILE = "journal.jsonl"


class JournalWarning(UserWarning):
    """The journal holds records this version of GrowthHacker cannot read; they were skipped."""


def _warn(message: str) -> None:
    warnings.warn(message, JournalWarning, stacklevel=3)


class Journal:
    """The journal file at ``path`` (created on first write).

    ``warn`` receives the one-sentence warning of a read that skipped lines (default: a
    :class:`JournalWarning`); it is called once per distinct set of skipped lines, however often the
    journal is read.
    """

    def __init__(self, path: Path, warn: Callable[[str], None] = _warn) -> None:
        self.path = path
        self._warn = warn
        self._warned = ""

    def append(self, record: Record) -> None:
        """Durably append one record.

        Raises:
            JournalError: the file cannot be written.
        """
        with self._locked("append to") as fd:
            _write_all(fd, (record.model_dump_json() + "\n").encode("utf-8"))

    def merge(self, lines: Iterable[str]) -> int:
        """Append the ``lines`` of another copy of the journal (the journal branch) that the file lacks,
        in their order; returns how many were added.

        Lines are kept verbatim, whatever version wrote them; blank lines and exact duplicates of a
        line already present are dropped. The file keeps its own lines first, untouched.

        Raises:
            JournalError: the file cannot be read or written.
        """
        # surrogateescape: lines decoded that way from bytes that are not UTF-8 go back as they came.
        incoming = [line.encode("utf-8", "surrogateescape") for line in lines if line.strip()]
        if not incoming:  # nothing to merge: do not create the file
            return 0
        with self._locked("merge into") as fd:
            present = set(_read_all(fd).split(b"\n"))
            added: list[bytes] = []
            for raw in incoming:
                if raw not in present:
                    present.add(raw)
                    added.append(raw + b"\n")
            if added:
                _write_all(fd, b"".join(added))
            return len(added)

    def lines(self) -> list[str]:
        """The complete lines of the file in order, as text, a torn last line excluded (what the
        journal branch publishes); none for a missing file.

        Raises:
            JournalError: the file exists but cannot be read.
        """
        return journal_lines(self._read().decode("utf-8", "replace"))

    def records(self) -> list[Record]:
        """Every record this version can read, in file order.

        A torn last line is ignored; other lines it cannot read (see :func:`parse_line`) are skipped
        and reported through ``warn``.

        Raises:
            JournalError: the file exists but cannot be read.
        """
        records: list[Record] = []
        skipped: list[tuple[int, Unreadable]] = []
        for number, raw in self._complete_lines():
            parsed = parse_line(raw)
            if isinstance(parsed, Unreadable):
                skipped.append((number, parsed))
            else:
                records.append(parsed)
        if skipped:
            message = describe_unreadable(str(self.path), skipped)
            if message != self._warned:
                self._warned = message
                self._warn(message)
        return records

    def _read(self) -> bytes:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return b""
        except OSError as exc:
            raise JournalError(f"cannot read the journal {self.path}: {exc}") from exc

    def _complete_lines(self) -> Iterator[tuple[int, bytes]]:
        # The last element is a torn write if non-empty (the writer died before its newline): ignored.
        for number, raw in enumerate(self._read().split(b"\n")[:-1], start=1):
            if raw.strip():
                yield number, raw

    @contextmanager
    def _locked(self, doing: str) -> Iterator[int]:
        """The file open for appending, under the exclusive lock, its torn tail cut."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise JournalError(f"cannot open the journal {self.path}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _cut_torn_tail(fd)
            yield fd
            os.fsync(fd)
        except OSError as exc:
            raise JournalError(f"cannot {doing} the journal {self.path}: {exc}") from exc
        finally:
            os.close(fd)

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


def merge_lines(first: Iterable[str], second: Iterable[str]) -> list[str]:
    """The union of two copies of the journal: ``first`` in order, then what only ``second`` has.

    Blank lines and exact duplicates are dropped (the first occurrence stays). Raises nothing.
    """
    seen: set[str] = set()
    merged: list[str] = []
    for line in (*first, *second):
        if line.strip() and line not in seen:
            seen.add(line)
            merged.append(line)
    return merged


def journal_lines(text: str) -> list[str]:
    """The complete lines of a journal text (a final line without its newline is a torn write)."""
    return text.split("\n")[:-1]


def _read_all(fd: int) -> bytes:
    """The whole file behind ``fd`` (its offset is left at the end)."""
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` (``O_APPEND``: at the end); loops in case a write comes back short."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


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
