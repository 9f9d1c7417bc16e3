"""The experiment journal: the memory of both loops, an append-only JSONL file of runs, iterations
and human outcomes.

- :mod:`bot.journal.records`: one model per kind of record.
- :mod:`bot.journal.store`: :class:`Journal`, the file (append under a lock, read, resume).
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
from bot.journal.store import JOURNAL_FILE, Journal
from bot.journal.views import best_first, summarise

__all__ = [
    "JOURNAL_FILE",
    "BaselineRecorded",
    "ConfirmationRecorded",
    "IterationRecorded",
    "Journal",
    "OutcomeRecorded",
    "Record",
    "RunFinished",
    "RunStarted",
    "best_first",
    "now",
    "summarise",
]
