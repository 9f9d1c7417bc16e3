"""The contract between the loop and any agent backend (heuristic, anthropic, command)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from bot.config import Guardrail, Objective
from bot.harness import ReadOnlyExcerpt
from bot.results import Attempt, EvalResult, Persona


class Usage(BaseModel):
    """Tokens and dollars spent by one agent call (zero for the heuristic agent)."""

    model_config = ConfigDict(frozen=True)

    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            usd=self.usd + other.usd,
        )

    @property
    def tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens


class Analysis(BaseModel):
    """The Analyzer's structured proposal for one iteration (written to ``analysis.json``)."""

    hypothesis: str = Field(min_length=1)
    persona: Persona
    plan: str = ""
    expected_effect: str = ""
    #: Which editable files the Coder should see first (repo-relative); empty means all.
    files: list[str] = Field(default_factory=list)
    #: Backend-specific details the Coder of the same backend may use (e.g. a heuristic move id).
    details: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True)
class AnalyzerContext:
    """Everything the Analyzer may see. Human text (hints, feedback) is data, never instructions."""

    files: dict[str, str]
    objective: Objective
    guardrails: list[Guardrail]
    #: Past attempts, best first (improved before no_gain before failed; ties by improvement).
    attempts: list[Attempt]
    baseline: dict[str, float]
    iteration: int
    iterations: int
    hints: list[str] = field(default_factory=list)
    #: The baseline's per-seed results on the search seeds (this run's base commit).
    baseline_search: EvalResult | None = None
    #: The attempt the files are built on (the incumbent), None when they are the base commit.
    incumbent: Attempt | None = None
    #: This run's id: attempts of other runs were measured against other baselines.
    run_id: str | None = None
    #: Read-only excerpts for the LLM prompts: the harness's calls into the editable code,
    #: ``edit.context`` files.
    read_only: list[ReadOnlyExcerpt] = field(default_factory=list)
    #: The project's other code and configuration (the harness, its settings) in full, read-only:
    #: where the heuristic looks for reads of a result key. The LLM prompts get ``read_only`` instead.
    other_files: dict[str, str] = field(default_factory=dict)
    #: Which slice of the exploration this search explores: 0 for a run that is not sharded, else the
    #: search shard's index (a deterministic agent starts its shard's island from a different move).
    shard: int = 0
    #: The hypotheses already proposed in this round (``loop.round_size`` > 1), not yet evaluated:
    #: the Analyzer proposes something else.
    proposed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AnalyzerReply:
    """An analysis plus the exact prompt/response text, for the iteration directory."""

    analysis: Analysis
    prompt: str
    response: str
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True)
class CoderRequest:
    """What the Coder gets: the hypothesis, current file contents, and a repair reason if any."""

    analysis: Analysis
    files: dict[str, str]
    #: The patch engine's reason the previous diff was refused (a repair round), else None.
    feedback: str | None = None
    previous_diff: str | None = None
    attempt: int = 0
    #: The attempt the files are built on (the incumbent), None when they are the base commit.
    incumbent: Attempt | None = None
    #: Read-only excerpts (the harness's calls into the editable code), for the interfaces to keep.
    read_only: list[ReadOnlyExcerpt] = field(default_factory=list)


@dataclass(frozen=True)
class CoderReply:
    """The Coder's unified diff (possibly wrapped in prose; the patch engine extracts it)."""

    diff: str
    prompt: str
    response: str
    usage: Usage = field(default_factory=Usage)


class Analyzer(Protocol):
    """Proposes the next hypothesis. Raises AgentError (or BudgetExceeded) on failure."""

    def analyze(self, context: AnalyzerContext) -> AnalyzerReply: ...


class Coder(Protocol):
    """Turns a hypothesis into one unified diff. Raises AgentError (or BudgetExceeded) on failure."""

    def write_diff(self, request: CoderRequest) -> CoderReply: ...


@dataclass(frozen=True)
class Agent:
    """An Analyzer/Coder pair from one backend, with the name reports show."""

    name: str
    analyzer: Analyzer
    coder: Coder
