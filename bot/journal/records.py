"""The journal's records: one pydantic model per kind of line (runs, baselines, iterations,
confirmations, run ends, human outcomes), and :func:`parse_line`, which reads one line.

The journal is shared by every version of the bot that works on a repository (through the journal
branch), so a reader meets lines written by newer versions. Each record carries the ``schema`` it was
written with (:data:`SCHEMA`; lines from before the field existed read as :data:`LEGACY_SCHEMA`).
:func:`parse_line` turns a line this version cannot read (not JSON, an unknown kind, a newer schema,
a value it does not know such as a new status, or otherwise invalid) into an :class:`Unreadable`
instead of an error: the reader skips it and the line stays in the file for the versions that can.
Fields a reader does not know are ignored.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from bot.results import AttemptStatus, EvalResult, IterationFailure


def now() -> str:
    """The current UTC time as an ISO-8601 string (the journal's timestamp format)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


#: The record format this version writes, and the newest it reads. Bump it when a change would make
#: an older reader misread a record (a field changes meaning or type, a new required field); a new
#: optional field needs no bump, since readers ignore fields they do not know.
SCHEMA = 2
#: The format of records written before the ``schema`` field existed (they carry none).
LEGACY_SCHEMA = 1


class _Record(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="ignore", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )

    #: The record format this record was written with (``"schema"`` in the file).
    schema_version: int = Field(default=SCHEMA, alias="schema")
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
    #: Guardrail metric → allowed relative regression; with ``min_improvement`` and ``level``, what
    #: the run's verdicts were decided by (so a report rebuilt later decides the same way).
    allowances: dict[str, float] = Field(default_factory=dict)
    min_improvement: float = 0.0
    level: float | None = None
    hints: list[str] = Field(default_factory=list)


class BaselineRecorded(_Record):
    """The unmodified base commit evaluated on the search, validation and held-out seeds (a later
    record of the same run supersedes it: validation added on resume, held-out seeds extended)."""

    kind: Literal["baseline"] = "baseline"
    search: EvalResult
    confirm: EvalResult
    validation: EvalResult | None = None


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
    #: Results on the validation seeds, when the candidate would have become the incumbent.
    validation: EvalResult | None = None
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
#: Every kind of record this version reads.
KINDS: frozenset[str] = frozenset(
    model.model_fields["kind"].default for model in get_args(get_args(Record)[0])
)

Problem = Literal["not_json", "unknown_kind", "newer_schema", "unknown_value", "invalid"]


@dataclass(frozen=True)
class Unreadable:
    """A complete journal line this version cannot read: why (one word) and what exactly."""

    problem: Problem
    detail: str


def parse_line(raw: bytes) -> Record | Unreadable:
    """The record on one complete journal line, or :class:`Unreadable` saying why there is none.

    A line without ``schema`` reads as :data:`LEGACY_SCHEMA`. Raises nothing.
    """
    try:
        data: Any = json.loads(raw)
    except ValueError:
        return Unreadable("not_json", _show(raw.decode("utf-8", "replace")))
    if not isinstance(data, dict):
        return Unreadable("not_json", f"a JSON {type(data).__name__}, not an object")
    schema = data.setdefault("schema", LEGACY_SCHEMA)
    if not isinstance(schema, int) or isinstance(schema, bool):
        return Unreadable("invalid", f"schema {_show(schema)}")
    kind = data.get("kind")
    if schema > SCHEMA:
        return Unreadable("newer_schema", f"kind {_show(kind)} at schema {schema}")
    if not isinstance(kind, str) or kind not in KINDS:
        return Unreadable("unknown_kind", f"kind {_show(kind)}")
    try:
        return RECORD.validate_python(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        where = ".".join(str(part) for part in first["loc"][1:])  # loc[0] is the kind's tag
        if all(error["type"] == "literal_error" for error in errors):
            return Unreadable("unknown_value", f"{where} {_show(first['input'])}")
        return Unreadable("invalid", f"{kind} {where}: {first['msg']}")


def _show(value: object) -> str:
    """``repr(value)`` cut to a length fit for a one-line warning (file content is untrusted)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


_PROBLEM_TEXT: dict[Problem, str] = {
    "not_json": "not JSON",
    "unknown_kind": "of an unknown kind",
    "newer_schema": f"of a newer schema than {SCHEMA}",
    "unknown_value": "with a value this version does not know",
    "invalid": "not a valid record",
}
#: What a newer version writes (as opposed to a damaged line).
_NEWER: frozenset[Problem] = frozenset({"unknown_kind", "newer_schema", "unknown_value"})


def describe_unreadable(path: str, skipped: Sequence[tuple[int, Unreadable]]) -> str:
    """One warning for the user about the lines a read skipped (``(line number, why)`` pairs)."""
    counts = Counter(why.problem for _, why in skipped)
    examples: dict[Problem, str] = {}
    for _, why in skipped:
        examples.setdefault(why.problem, why.detail)
    kinds = "; ".join(f"{n} {_PROBLEM_TEXT[p]} ({examples[p]})" for p, n in counts.items())
    numbers = ", ".join(str(number) for number, _ in skipped[:5]) + (", …" if len(skipped) > 5 else "")
    advice = []
    if counts.keys() & _NEWER:
        advice.append("upgrade GrowthHacker to read what a newer version wrote")
    if counts.keys() - _NEWER:
        advice.append("a damaged line can be removed by hand")
    return (
        f"{path}: skipped {len(skipped)} journal line(s) this version of GrowthHacker cannot read: "
        f"{kinds}, at line {numbers}. They stay in the file; {' and '.join(advice)}."
    )
