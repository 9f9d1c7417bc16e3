"""When does a candidate count? Search acceptance, validation and held-out confirmation (one rule,
:mod:`bot.decision`, on three tiers of seeds), the paired verdict the agents see, which candidate the
next iteration builds on, and when the loop stops early — pure functions over journal records."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from bot.config import Config, Objective
from bot.decision import Criteria, Decision, assess, judge, pct
from bot.journal import IterationRecorded
from bot.results import EvalResult, IterationFailure


@dataclass(frozen=True)
class Verdict:
    """``ok`` if the candidate counts; ``improvement`` is relative, positive = better; ``kind`` says
    why it does not count (None when it does)."""

    ok: bool
    improvement: float
    reason: str
    kind: IterationFailure | None = None
    #: About how many paired seeds would decide, when the objective is undecided and leans better.
    needed: int | None = None


def judge_search(base: EvalResult, cand: EvalResult, config: Config) -> Verdict:
    """Whether a candidate counts on the search seeds: better by the one rule (:mod:`bot.decision`)
    and every guardrail within its allowance."""
    return _judge(base, cand, config, "search")


def judge_validation(base: EvalResult, cand: EvalResult, config: Config) -> Verdict:
    """Whether a would-be incumbent also holds on the validation seeds (the same rule); a candidate
    that does not is recorded as ``not_validated`` ("did not validate")."""
    verdict = _judge(base, cand, config, "validation")
    if verdict.ok:
        return verdict
    return Verdict(False, verdict.improvement, f"did not validate: {verdict.reason}", "not_validated",
                   verdict.needed)


def judge_confirmation(base: EvalResult, cand: EvalResult, config: Config) -> Verdict:
    """Whether a finalist holds on the held-out seeds (the same rule)."""
    return _judge(base, cand, config, "held-out")


def _judge(base: EvalResult, cand: EvalResult, config: Config, seeds: str) -> Verdict:
    metric = config.evaluate.objective.metric
    if not cand.ok:
        bad = cand.first_failure
        why = f"{bad.failure} on seed {bad.seed}" if bad else "no results"
        kind: IterationFailure = bad.failure if bad and bad.failure else "crash"
        return Verdict(False, math.nan, f"evaluation failed on the {seeds} seeds ({why})", kind)
    assessment = assess(base, cand, Criteria.of(config))
    decision = assessment.objective
    change = f"{metric} {pct(decision.comparison.relative)} on the {seeds} seeds"
    if decision.outcome != "better":
        # Only a candidate leaning better is worth more seeds (the held-out tier's extension).
        leans_better = decision.comparison.wins > decision.comparison.losses
        return Verdict(False, decision.improvement, f"{change}: {decision.label}", "not_better",
                       decision.needed if leans_better else None)
    if assessment.broken:
        why = "; ".join(check.reason for check in assessment.broken)
        return Verdict(False, decision.improvement, f"guardrail broken on the {seeds} seeds: {why}",
                       "guardrail")
    return Verdict(True, decision.improvement, f"{change}: {decision.label}, guardrails hold")


# --------------------------------------------------------------------------- noise, as agents see it
def paired_verdict(reference: EvalResult, cand: EvalResult, objective: Objective) -> Decision:
    """The bot's one rule (:func:`bot.decision.judge`) on ``cand`` against ``reference``, over the seeds
    both evaluated: every view of noise the agents get goes through here, so they read the same
    better / worse / within noise / undecided the loop, the report and the check use. Raises nothing.
    """
    return judge(reference, cand, objective.metric, objective.goal)


# --------------------------------------------------------------------------- the loop's choices
def _rank(objective: Objective) -> Callable[[IterationRecorded], tuple[float, int]]:
    """Sort key: best search mean first, earlier iteration on ties."""
    sign = 1 if objective.goal == "minimize" else -1
    return lambda r: (sign * r.search.mean(objective.metric) if r.search else math.inf, r.iteration)


def improved(iterations: Iterable[IterationRecorded], objective: Objective) -> list[IterationRecorded]:
    """The iterations that improved on the search seeds, best first."""
    return sorted((r for r in iterations if r.status == "improved" and r.search), key=_rank(objective))


def distinct_finalists(
    iterations: Iterable[IterationRecorded], objective: Objective, top: int
) -> list[IterationRecorded]:
    """The ``top`` best improved iterations, each diff once (the earliest iteration that proposed it):
    search shards explore apart and may reach the same candidate, which a single run records as a
    duplicate and never confirms twice."""
    seen: set[str] = set()
    chosen: list[IterationRecorded] = []
    for record in improved(iterations, objective):
        if record.diff not in seen:
            seen.add(record.diff)
            chosen.append(record)
    return chosen[:top]


def ranks_above(result: EvalResult, record: IterationRecorded | None, objective: Objective) -> bool:
    """Whether ``result`` (search seeds) beats ``record``'s search mean, the ranking of :func:`improved`
    (True when there is no ``record``): the candidate would become the incumbent."""
    if record is None or record.search is None:
        return True
    sign = 1 if objective.goal == "minimize" else -1
    return sign * result.mean(objective.metric) < sign * record.search.mean(objective.metric)


def incumbent(iterations: Iterable[IterationRecorded], objective: Objective) -> IterationRecorded | None:
    """The candidate the next iteration builds on: the best improved iteration so far, or None."""
    ranked = improved(iterations, objective)
    return ranked[0] if ranked else None


def stop_reason(iterations: Mapping[int, IterationRecorded], config: Config) -> str | None:
    """Why the loop should stop before its last iteration (target, patience, repeated failures), or None."""
    loop, objective = config.loop, config.evaluate.objective
    done = [iterations[k] for k in sorted(iterations)]
    best = incumbent(done, objective)
    if loop.target is not None and best is not None and best.search is not None:
        value = best.search.mean(objective.metric)
        reached = value <= loop.target if objective.goal == "minimize" else value >= loop.target
        if reached:
            return f"target {loop.target} reached by iteration {best.iteration}"
    if loop.patience is not None and len(done) >= loop.patience:
        last_best = best.iteration if best else 0
        if done[-1].iteration - last_best >= loop.patience:
            return f"no new best for {loop.patience} iterations (patience)"
    tail = done[-loop.max_same_failures:]
    if len(tail) == loop.max_same_failures and all(r.status == "failed" for r in tail):
        # Records written before failure_kind existed carry the kind only as the reason's first word.
        kinds = {r.failure_kind or (r.failure_reason or "").split(":")[0] for r in tail}
        # An agent that moves on to another family of change after a failure is learning from it:
        # only the same failure in the same family, again and again, means it has nothing else left.
        families = {move_family(r) for r in tail}
        if len(kinds) == 1 and len(families) == 1:
            return (f"paused: {loop.max_same_failures} consecutive failures for the same reason "
                    f"({kinds.pop()}) in the same family of change ({families.pop()}); "
                    "see the iteration logs")
    return None


def move_family(record: IterationRecorded) -> str:
    """The family of change an iteration tried, as the pause rule groups them: the agent's own name
    for it (``details["kind"]``: the heuristic's move kind, such as ``estimator-swap``), else the
    Analyzer's persona ("none" when the Analyzer gave no hypothesis)."""
    return record.details.get("kind") or record.persona
