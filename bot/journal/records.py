"""The journal's records: one pydantic model per kind of line (runs, baselines, iterations,
confirmations, run ends, human outcomes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from bot.results import AttemptStatus, EvalResult, IterationFailure


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
    failure_kind: IterationFailure | None = None
    #: The agent's structured proposal (``Analysis.details``): what the change is, as data.
    details: dict[str, str] = Field(default_factory=dict)
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
RECORD: TypeAdapter[Record] = TypeAdapter(Record)
