"""The experiment journal: the memory of both loops, an append-only JSONL file of runs, iterations
and human outcomes.

- :mod:`bot.journal.records`: one model per kind of record, the schema version, reading one line.
- :mod:`bot.journal.store`: :class:`Journal`, the file and its only writer (append and merge under a
  lock, read skipping what this version cannot read, resume).
- :mod:`bot.journal.views`: attempts best-first (what the agents see) and one run's summary.
"""

from __future__ import annotations

from bot.journal.records import (
    BaselineRecorded,
    ConfirmationRecorded,
    IterationRecorded,
    OutcomeRecorded,
    Record,
    RunFinished,
    RunStarted,
    now,
)
from bot.journal.store import JOURNAL_FILE, Journal, JournalWarning, journal_lines, merge_lines
from bot.journal.views import best_first, summarise

__all__ = [
    "JOURNAL_FILE",
    "BaselineRecorded",
    "ConfirmationRecorded",
    "IterationRecorded",
    "Journal",
    "JournalWarning",
    "OutcomeRecorded",
    "Record",
    "RunFinished",
    "RunStarted",
    "best_first",
    "journal_lines",
    "merge_lines",
    "now",
    "summarise",
]
