"""The experiment journal: an append-only JSONL file of runs, iterations and human outcomes.

Every record is one line written with a single ``write`` on an ``O_APPEND`` descriptor and fsynced,
under an advisory lock, so concurrent writers never interleave and a crash can at worst leave a torn
final line. A torn final line is ignored on read and cut off before the next append: nothing that
was completely written is ever lost or rewritten.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from bot.errors import JournalError
from bot.results import Attempt, AttemptStatus, EvalResult, IterationSummary, RunSummary, Verdict

JOURNAL_FILE = "journal.jsonl"


def now() -> str:
    """The current UTC time as an ISO-8601 string (the journal's timestamp format)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    run_id: str
    at: str = Field(default_factory=now)


class RunStarted(_Record):
    """A run began: what it optimises, from which commit, with which agent."""

    kind: Literal["run_started"] = "run_started"
    base_commit: str
    agent: str
    iterations: int
    metric: str
    goal: Literal["minimize", "maximize"]
    guardrails: list[str] = Field(default_factory=list)
    guardrail_goals: dict[str, Literal["minimize", "maximize"]] = Field(default_factory=dict)
    hints: list[str] = Field(default_factory=list)


class BaselineRecorded(_Record):
    """The unmodified base commit evaluated on the search and held-out seeds."""

    kind: Literal["baseline"] = "baseline"
    search: EvalResult
    confirm: EvalResult


class IterationRecorded(_Record):
    """One iteration: hypothesis, the candidate diff (against base) and its search-seed results."""

    kind: Literal["iteration"] = "iteration"
    iteration: int
    parent: int | None = None
    hypothesis: str
    persona: str
    plan: str = ""
    diff: str = ""
    diff_summary: str = ""
    status: AttemptStatus
    search: EvalResult | None = None
    failure_reason: str | None = None
    tokens: int = 0
    usd: float = 0.0
    duration_s: float = 0.0


class ConfirmationRecorded(_Record):
    """A finalist evaluated on the held-out seeds."""

    kind: Literal["confirmation"] = "confirmation"
    iteration: int
    confirm: EvalResult
    confirmed: bool
    reason: str


class RunFinished(_Record):
    """The run ended: the post-hoc selection and why."""

    kind: Literal["run_finished"] = "run_finished"
    winner: int | None
    reason: str
    branch: str | None = None
    improvement: float | None = None
    stopped_early: str | None = None


class OutcomeRecorded(_Record):
    """What humans did with a candidate (the outer loop): merged, closed, or a comment/command."""

    kind: Literal["outcome"] = "outcome"
    iteration: int | None = None
    event: Literal["merged", "closed", "command", "comment"]
    actor: str = ""
    text: str = ""
    pr_number: int | None = None


Record = Annotated[
    RunStarted
    | BaselineRecorded
    | IterationRecorded
    | ConfirmationRecorded
    | RunFinished
    | OutcomeRecorded,
    Field(discriminator="kind"),
]
_RECORD: TypeAdapter[Record] = TypeAdapter(Record)

_STATUS_RANK: dict[str, int] = {"improved": 0, "no_gain": 1, "flagged": 2, "failed": 3}
_VERDICT_RANK: dict[str | None, int] = {"merged": 0, None: 1, "closed": 2}


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
                yield _RECORD.validate_json(raw)
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


def best_first(records: list[Record]) -> list[Attempt]:
    """Attempts from ``records`` with human verdicts attached, sorted best-first."""
    starts = {r.run_id: r for r in records if isinstance(r, RunStarted)}
    baselines = {r.run_id: r for r in records if isinstance(r, BaselineRecorded)}
    verdicts: dict[tuple[str, int | None], Verdict] = {}
    feedback: dict[tuple[str, int | None], list[str]] = {}
    for r in records:
        if isinstance(r, OutcomeRecorded):
            key = (r.run_id, r.iteration)
            if r.event in ("merged", "closed"):
                verdicts[key] = "merged" if r.event == "merged" else "closed"
            elif r.text:
                feedback.setdefault(key, []).append(r.text)
    attempts: list[tuple[int, Attempt]] = []
    for order, r in enumerate(records):
        if not isinstance(r, IterationRecorded):
            continue
        start, base = starts.get(r.run_id), baselines.get(r.run_id)
        objective = r.search.mean(start.metric) if (start and r.search and r.search.ok) else None
        improvement = None
        if start and base and objective is not None:
            base_mean = base.search.mean(start.metric)
            if base_mean:
                rel = (objective - base_mean) / abs(base_mean)
                improvement = -rel if start.goal == "minimize" else rel
        key = (r.run_id, r.iteration)
        attempts.append(
            (
                order,
                Attempt(
                    run_id=r.run_id,
                    iteration=r.iteration,
                    hypothesis=r.hypothesis,
                    persona=r.persona,
                    diff=r.diff,
                    diff_summary=r.diff_summary,
                    status=r.status,
                    objective=objective,
                    improvement=improvement,
                    failure_reason=r.failure_reason,
                    verdict=verdicts.get(key),
                    feedback=feedback.get(key, []),
                ),
            )
        )
    attempts.sort(
        key=lambda pair: (
            _STATUS_RANK[pair[1].status],
            _VERDICT_RANK[pair[1].verdict],
            -(pair[1].improvement if pair[1].improvement is not None else float("-inf")),
            -pair[0],
        )
    )
    return [a for _, a in attempts]


def summarise(records: list[Record], run_id: str) -> RunSummary:
    """Fold one run's records into a :class:`RunSummary` (later records win on resume)."""
    start = next((r for r in records if isinstance(r, RunStarted)), None)
    base = next((r for r in reversed(records) if isinstance(r, BaselineRecorded)), None)
    if start is None or base is None:
        raise JournalError(f"run {run_id} has no baseline in the journal; it cannot be reported")
    iterations: dict[int, IterationSummary] = {}
    for r in records:
        if isinstance(r, IterationRecorded):
            iterations[r.iteration] = IterationSummary(
                iteration=r.iteration,
                hypothesis=r.hypothesis,
                persona=r.persona,
                status=r.status,
                diff=r.diff,
                diff_summary=r.diff_summary,
                search=r.search,
                failure_reason=r.failure_reason,
                tokens=r.tokens,
                usd=r.usd,
                duration_s=r.duration_s,
            )
        elif isinstance(r, ConfirmationRecorded) and r.iteration in iterations:
            iterations[r.iteration] = iterations[r.iteration].model_copy(
                update={"confirm": r.confirm, "confirmed": r.confirmed}
            )
    finish = next((r for r in reversed(records) if isinstance(r, RunFinished)), None)
    return RunSummary(
        run_id=run_id,
        agent=start.agent,
        base_commit=start.base_commit,
        metric=start.metric,
        goal=start.goal,
        guardrails=start.guardrails,
        guardrail_goals=start.guardrail_goals,
        baseline_search=base.search,
        baseline_confirm=base.confirm,
        iterations=[iterations[k] for k in sorted(iterations)],
        winner=finish.winner if finish else None,
        reason=finish.reason if finish else "run not finished (resume with `growthhacker run --resume`)",
        branch=finish.branch if finish else None,
        stopped_early=finish.stopped_early if finish else None,
    )

