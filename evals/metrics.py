"""What the benchmark measures: the definitions of evals/README.md as code, per target × framework.

- A run is **reliable** when the CLI exited cleanly, recorded a verdict, the unmodified target
  evaluated cleanly, and at least one candidate evaluated cleanly on every search seed — the bot
  finished with a valid result, even if that result is "no improvement".
- A run is **positive** when it selected a winner whose held-out improvement is > 0.
- **Improvement** is the relative change of the objective on the held-out seeds, sign-adjusted so
  positive is better: (baseline − candidate) / |baseline| when minimising.
- A winner is selected only if one rule (bot/decision.py) calls it better than the baseline on the
  search seeds, on the validation seeds when it would become the incumbent, and on the held-out seeds.
- **Extreme-value failures** count candidates with a non-finite or out-of-``bounds`` metric on any
  seed, plus finalists that won on the search seeds and were rejected on the held-out seeds.
- A **trap** is a candidate the bot built on (its final incumbent) or selected (its winner) whose
  objective is worse than the baseline's on the audit seeds, fresh seeds in none of the bot's tiers
  (``--audit-seeds``); trap rates use the audited runs as denominator.
Rates use every run of the cell as denominator (a crashed run counts as unreliable, not positive).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from evals.records import FRAMEWORKS, RunRecord

ALL_TARGETS = "all targets"


def is_reliable(record: RunRecord) -> bool:
    """True if the run finished with a valid result (see module docstring)."""
    return (record.process == "finished" and record.verdict_recorded and record.baseline_ok
            and record.evaluated > 0)


def is_positive(record: RunRecord) -> bool:
    """True if the run's selected candidate improves the objective on the held-out seeds."""
    return (is_reliable(record) and record.winner is not None and record.heldout_improvement is not None
            and math.isfinite(record.heldout_improvement) and record.heldout_improvement > 0)


def is_trap(audit_improvement: float | None, audit_failure: str | None = None) -> bool:
    """True if a candidate is worse than the baseline on the audit seeds, or failed to evaluate there
    (an extreme value, a crash) while the baseline did not."""
    return audit_failure is not None or (audit_improvement is not None and audit_improvement < 0)


@dataclass(frozen=True)
class CellMetrics:
    """The measures of one target × framework cell (or a framework over all targets)."""

    target: str
    framework: str
    runs: int
    reliable: int
    positive: int
    #: Held-out improvements of the positive runs (fractions, 0.1 = 10%).
    improvements: tuple[float, ...]
    extreme_values: int
    heldout_rejections: int
    tokens_per_run: float
    usd_per_run: float
    wall_s_per_run: float
    #: Mean over runs of (bot overhead per iteration) / (search-seed eval time per iteration).
    overhead_ratio: float | None
    #: Mean over runs of (run wall time − its evaluations' time) / its evaluations' time: the bot's
    #: whole cost (start, catalog, agents, patches, gates, selection, report) against the evaluation.
    #: Meaningful when a run evaluates one seed at a time (the benchmark's targets do).
    run_overhead_ratio: float | None = None
    #: Candidates that did not validate, summed over runs.
    not_validated: int = 0
    #: Runs audited on fresh seeds; of those, runs whose final incumbent / winner is a trap.
    audited: int = 0
    trap_incumbents: int = 0
    trap_winners: int = 0

    @property
    def reliability(self) -> float:
        """Reliable runs / runs (NaN for no runs)."""
        return self.reliable / self.runs if self.runs else math.nan

    @property
    def positive_rate(self) -> float:
        """Positive runs / runs (NaN for no runs)."""
        return self.positive / self.runs if self.runs else math.nan

    @property
    def mean_improvement(self) -> float:
        """Mean held-out improvement among positive runs (NaN if none)."""
        return statistics.fmean(self.improvements) if self.improvements else math.nan

    @property
    def median_improvement(self) -> float:
        """Median held-out improvement among positive runs (NaN if none)."""
        return statistics.median(self.improvements) if self.improvements else math.nan


def cell(target: str, framework: str, records: Sequence[RunRecord]) -> CellMetrics:
    """The measures of ``records`` (all of one cell)."""
    n = len(records)
    audited = [r for r in records if r.spec.audit_seeds and is_reliable(r)]
    ratios = [r.overhead_s_per_iteration / r.eval_s_per_iteration for r in records
              if r.overhead_s_per_iteration is not None and r.eval_s_per_iteration]
    run_ratios = [(r.wall_s - r.eval_s) / r.eval_s for r in records if r.eval_s > 0 and r.wall_s > 0]
    return CellMetrics(
        target=target,
        framework=framework,
        runs=n,
        reliable=sum(1 for r in records if is_reliable(r)),
        positive=sum(1 for r in records if is_positive(r)),
        improvements=tuple(r.heldout_improvement for r in records
                           if is_positive(r) and r.heldout_improvement is not None),
        extreme_values=sum(r.extreme_values for r in records),
        heldout_rejections=sum(r.heldout_rejections for r in records),
        tokens_per_run=statistics.fmean(r.tokens for r in records) if n else math.nan,
        usd_per_run=statistics.fmean(r.usd for r in records) if n else math.nan,
        wall_s_per_run=statistics.fmean(r.wall_s for r in records) if n else math.nan,
        overhead_ratio=statistics.fmean(ratios) if ratios else None,
        run_overhead_ratio=statistics.fmean(run_ratios) if run_ratios else None,
        not_validated=sum(r.not_validated for r in records),
        audited=len(audited),
        trap_incumbents=sum(1 for r in audited if is_trap(r.incumbent_audit, r.incumbent_audit_failure)),
        trap_winners=sum(1 for r in audited if is_trap(r.winner_audit, r.winner_audit_failure)),
    )


def cells(records: Iterable[RunRecord]) -> list[CellMetrics]:
    """One :class:`CellMetrics` per target × framework present, targets sorted, frameworks in the
    order heuristic, default, two_agent."""
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for r in records:
        groups.setdefault((r.spec.target, r.spec.framework), []).append(r)
    keys = sorted(groups, key=lambda k: (k[0], FRAMEWORKS.index(k[1])))
    return [cell(t, f, groups[(t, f)]) for t, f in keys]


def by_framework(records: Iterable[RunRecord]) -> list[CellMetrics]:
    """One :class:`CellMetrics` per framework over every target (target ``ALL_TARGETS``)."""
    groups: dict[str, list[RunRecord]] = {}
    for r in records:
        groups.setdefault(r.spec.framework, []).append(r)
    return [cell(ALL_TARGETS, f, groups[f]) for f in FRAMEWORKS if f in groups]
