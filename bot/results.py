"""Evaluation results: per-seed metrics and their aggregate, shared by evaluate, loop, journal, report."""

from __future__ import annotations

import math
import statistics
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.crash import Crash

#: Why a seed's evaluation did not produce usable metrics.
FailureKind = Literal[
    "crash",  # non-zero exit
    "timeout",  # killed after evaluate.timeout_s
    "metrics_missing",  # no metrics file / required metric absent
    "metrics_malformed",  # not JSON, not an object, non-numeric value
    "non_finite",  # NaN or ±inf
    "extreme_value",  # outside evaluate.bounds
    "check_failed",  # one of evaluate.checks failed
    "compile_error",  # a changed Python file does not compile
]


class SeedResult(BaseModel):
    """One run of the eval command for one seed."""

    model_config = ConfigDict(frozen=True)

    seed: int
    ok: bool
    metrics: dict[str, float] = Field(default_factory=dict)
    failure: FailureKind | None = None
    reason: str | None = None
    #: A crash, read from its traceback: the exception and the project frames it went through.
    crash: Crash | None = None
    duration_s: float = 0.0
    cached: bool = False


class EvalResult(BaseModel):
    """The results of one tree on a list of seeds."""

    model_config = ConfigDict(frozen=True)

    tree: str
    seeds: list[SeedResult]

    @property
    def ok(self) -> bool:
        """True if every seed produced finite metrics."""
        return bool(self.seeds) and all(s.ok for s in self.seeds)

    @property
    def first_failure(self) -> SeedResult | None:
        """The first failed seed, if any."""
        return next((s for s in self.seeds if not s.ok), None)

    def extended(self, more: EvalResult) -> EvalResult:
        """These results followed by those of ``more`` on seeds not already here (same tree)."""
        have = {s.seed for s in self.seeds}
        added = [s for s in more.seeds if s.seed not in have]
        return self.model_copy(update={"seeds": [*self.seeds, *added]})

    def values(self, metric: str) -> list[float]:
        """The metric's value per seed, in seed order (only successful seeds)."""
        return [s.metrics[metric] for s in self.seeds if s.ok and metric in s.metrics]

    def by_seed(self, metric: str) -> dict[int, float]:
        """Mapping seed → metric value for successful seeds."""
        return {s.seed: s.metrics[metric] for s in self.seeds if s.ok and metric in s.metrics}

    def mean(self, metric: str) -> float:
        """Mean over seeds, NaN if no seed has the metric."""
        vals = self.values(metric)
        return statistics.fmean(vals) if vals else math.nan

    def stdev(self, metric: str) -> float:
        """Sample standard deviation over seeds (0 for a single seed, NaN for none)."""
        vals = self.values(metric)
        if not vals:
            return math.nan
        return statistics.stdev(vals) if len(vals) > 1 else 0.0


#: Why an iteration does not count, as a word code can branch on (``IterationRecorded.failure_kind``):
#: the seed-level kinds of the evaluation, then the loop's own.
IterationFailure = Literal[
    "crash", "timeout", "metrics_missing", "metrics_malformed", "non_finite", "extreme_value",
    "check_failed", "compile_error",
    "analyzer",  # the Analyzer gave no usable hypothesis
    "coder",  # the Coder gave no diff
    "patch",  # every diff the Coder wrote was refused by the patch engine
    "duplicate",  # the same diff as an earlier iteration
    "integrity",  # flagged: the candidate reaches around the harness (metric gaming)
    "not_better",  # evaluated fine, but did not beat the baseline
    "guardrail",  # beat the baseline, but a guardrail broke
    "not_validated",  # beat the baseline on the search seeds, but not on the validation seeds
]  # fmt: skip
#: The kind of change an iteration proposes (the Analyzer's persona).
Persona = Literal["estimator", "regression-model", "hyperparameter", "data-handling"]

AttemptStatus = Literal[
    "improved",  # beat the baseline on the search seeds (and guardrails held)
    "no_gain",  # evaluated fine but did not beat the baseline
    "failed",  # no usable diff, patch rejected, or evaluation failed
    "flagged",  # rejected by the integrity check
]
Verdict = Literal["merged", "closed"]


class Attempt(BaseModel):
    """A past iteration as the agents see it: what was tried and how it went (journal view)."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    iteration: int
    hypothesis: str
    persona: str
    diff: str = ""
    diff_summary: str = ""
    status: AttemptStatus
    #: Mean objective over the search seeds; None if the evaluation failed.
    objective: float | None = None
    #: Relative improvement over the run's baseline, positive = better (whatever the goal).
    improvement: float | None = None
    failure_reason: str | None = None
    failure_kind: IterationFailure | None = None
    #: The evaluation's crash (its first failed seed's), read from the traceback; None otherwise.
    crash: Crash | None = None
    #: The agent's structured proposal (``Analysis.details``): what was changed, as data.
    details: dict[str, str] = Field(default_factory=dict)
    verdict: Verdict | None = None
    feedback: list[str] = Field(default_factory=list)
    #: Per-seed results on the search seeds (None when nothing was evaluated).
    search: EvalResult | None = None
    #: The iteration of the same run this attempt was built on (its diff includes that one's).
    parent: int | None = None
    #: What the objective equals to the last digit on every seed ("the baseline", "iteration 3"):
    #: the change had no effect on the computation. None when it differs from all of them.
    no_effect: str | None = None


class IterationSummary(BaseModel):
    """One iteration of a run, as the report and the GitHub PR show it."""

    iteration: int
    hypothesis: str
    persona: str
    status: AttemptStatus
    diff: str = ""
    diff_summary: str = ""
    search: EvalResult | None = None
    #: Validation seed results, only for candidates that would have become the incumbent.
    validation: EvalResult | None = None
    #: Held-out seed results, only for finalists that were sent to confirmation.
    confirm: EvalResult | None = None
    confirmed: bool | None = None
    failure_reason: str | None = None
    #: Why it does not count, as a word (None for improvements and for records that predate the field).
    failure_kind: IterationFailure | None = None
    tokens: int = 0
    usd: float = 0.0
    duration_s: float = 0.0


class RunSummary(BaseModel):
    """A finished (or stopped) run: baseline, iterations and the post-hoc selection."""

    run_id: str
    agent: str
    base_commit: str
    metric: str
    goal: Literal["minimize", "maximize"]
    guardrails: list[str] = Field(default_factory=list)
    #: Direction of each guardrail metric (minimize unless stated).
    guardrail_goals: dict[str, Literal["minimize", "maximize"]] = Field(default_factory=dict)
    #: Guardrail metric → its ``max_regression`` (runs recorded before this field: empty).
    allowances: dict[str, float] = Field(default_factory=dict)
    min_improvement: float = 0.0
    #: The level of the paired test the run was judged at (None: recorded before it was; the default).
    level: float | None = None
    baseline_search: EvalResult
    baseline_validation: EvalResult | None = None
    baseline_confirm: EvalResult | None = None
    iterations: list[IterationSummary] = Field(default_factory=list)
    #: The selected iteration number, or None ("no improvement").
    winner: int | None = None
    #: Why this winner, or why none (human-readable, one sentence).
    reason: str = ""
    branch: str | None = None
    stopped_early: str | None = None

    @property
    def goals(self) -> dict[str, Literal["minimize", "maximize"]]:
        """Objective and guardrail metrics (objective first) mapped to their direction."""
        goals: dict[str, Literal["minimize", "maximize"]] = {self.metric: self.goal}
        for name in self.guardrails:
            goals.setdefault(name, self.guardrail_goals.get(name, "minimize"))
        return goals

    def iteration(self, n: int) -> IterationSummary:
        """The iteration numbered ``n``; raises KeyError if absent."""
        for it in self.iterations:
            if it.iteration == n:
                return it
        raise KeyError(n)

    @property
    def best(self) -> IterationSummary | None:
        """The winning iteration, if any."""
        return self.iteration(self.winner) if self.winner is not None else None
