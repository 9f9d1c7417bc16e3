"""What the inner loop knows about a run and what it reports: the progress events it emits, its
state rebuilt from the journal, and the records of iterations that failed before counting."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.agents.base import Analysis, Usage
from bot.gate import Refusal
from bot.journal import BaselineRecorded, ConfirmationRecorded, IterationRecorded, Record
from bot.patch import diff_summary
from bot.results import AttemptStatus, EvalResult


@dataclass(frozen=True)
class LoopEvent:
    """Something the user may want to see: ``kind`` is a stable name, ``message`` is for humans."""

    kind: str
    message: str
    iteration: int | None = None


EventSink = Callable[[LoopEvent], None]


@dataclass
class RunState:
    """What the loop knows about the run so far (rebuilt from the journal on resume)."""

    baseline: BaselineRecorded | None = None
    iterations: dict[int, IterationRecorded] = field(default_factory=dict)
    confirmations: dict[int, ConfirmationRecorded] = field(default_factory=dict)

    @classmethod
    def from_records(cls, records: list[Record]) -> RunState:
        state = cls()
        for r in records:
            if isinstance(r, BaselineRecorded):
                state.baseline = r
            elif isinstance(r, IterationRecorded):
                state.iterations[r.iteration] = r
            elif isinstance(r, ConfirmationRecorded):
                state.confirmations[r.iteration] = r
        return state


def failed_record(
    run_id: str, n: int, parent: IterationRecorded | None, analysis: Analysis | None, refusal: Refusal,
    usage: Usage, started: float, diff: str = "", search: EvalResult | None = None,
    status: AttemptStatus = "failed",
) -> IterationRecorded:
    """The record of iteration ``n`` that did not count (``refusal`` says why); ``started`` is its
    ``time.monotonic()`` start. Raises nothing."""
    return IterationRecorded(
        run_id=run_id, iteration=n, parent=parent.iteration if parent else None,
        hypothesis=analysis.hypothesis if analysis else "(no hypothesis)",
        persona=analysis.persona if analysis else "none", plan=analysis.plan if analysis else "",
        diff=diff, diff_summary=diff_summary(diff) if diff else "", status=status, search=search,
        failure_reason=refusal.reason, failure_kind=refusal.kind,
        details=analysis.details if analysis else {}, tokens=usage.tokens, usd=usage.usd,
        duration_s=time.monotonic() - started,
    )


def seeds_of(result: EvalResult) -> list[int]:
    """The seeds ``result`` was evaluated on, in order."""
    return [s.seed for s in result.seeds]


def describe(record: IterationRecorded, metric: str) -> str:
    """One line for the user on how an iteration ended."""
    if record.status in ("failed", "flagged"):
        return f"{record.status}: {record.failure_reason}"
    assert record.search is not None
    return f"{record.status}: {metric} = {record.search.mean(metric):.4g} ({record.diff_summary})"

