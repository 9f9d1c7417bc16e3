"""When does a candidate count? The rules of search and held-out confirmation, which candidate the
next iteration builds on, and when the loop stops early — pure functions over journal records."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from bot.config import Config, Objective
from bot.journal import IterationRecorded
from bot.results import EvalResult, IterationFailure
from bot.stats import compare, guardrail_holds


@dataclass(frozen=True)
class Verdict:
    """``ok`` if the candidate counts; ``improvement`` is relative, positive = better; ``kind`` says
    why it does not count (None when it does)."""

    ok: bool
    improvement: float
    reason: str
    kind: IterationFailure | None = None


def judge_search(base: EvalResult, cand: EvalResult, config: Config) -> Verdict:
    """A candidate improves on the search seeds if its objective mean beats the baseline's by more
    than ``loop.min_improvement`` and every guardrail holds."""
    return _judge(base, cand, config, "search", paired_majority=False)


def judge_confirmation(base: EvalResult, cand: EvalResult, config: Config) -> Verdict:
    """On the held-out seeds a finalist must also win on a strict majority of paired seeds, which
    rejects "extreme value" wins where one lucky seed carries the mean."""
    return _judge(base, cand, config, "held-out", paired_majority=True)


def _judge(base: EvalResult, cand: EvalResult, config: Config, seeds: str, paired_majority: bool) -> Verdict:
    objective = config.evaluate.objective
    if not cand.ok:
        bad = cand.first_failure
        why = f"{bad.failure} on seed {bad.seed}" if bad else "no results"
        kind: IterationFailure = bad.failure if bad and bad.failure else "crash"
        return Verdict(False, math.nan, f"evaluation failed on the {seeds} seeds ({why})", kind)
    cmp = compare(base, cand, objective.metric, objective.goal)
    if not math.isfinite(cmp.improvement):
        return Verdict(False, math.nan, f"{objective.metric} is not comparable on the {seeds} seeds",
                       "not_better")
    if cmp.improvement <= config.loop.min_improvement:
        return Verdict(False, cmp.improvement,
                       f"{objective.metric} {cmp.improvement:+.1%} on the {seeds} seeds: no gain",
                       "not_better")
    if paired_majority and cmp.wins <= cmp.losses:
        return Verdict(False, cmp.improvement,
                       f"{objective.metric} {cmp.improvement:+.1%} on the {seeds} seeds but better on only "
                       f"{cmp.wins} of {cmp.n} seeds (needs a majority)", "not_better")
    for guardrail in config.evaluate.guardrails:
        holds, why = guardrail_holds(base, cand, guardrail)
        if not holds:
            return Verdict(False, cmp.improvement, f"guardrail broken on the {seeds} seeds: {why}",
                           "guardrail")
    return Verdict(True, cmp.improvement,
                   f"{objective.metric} {cmp.improvement:+.1%} on the {seeds} seeds "
                   f"(better on {cmp.wins} of {cmp.n}), guardrails hold")


# --------------------------------------------------------------------------- the loop's choices
def _rank(objective: Objective) -> Callable[[IterationRecorded], tuple[float, int]]:
    """Sort key: best search mean first, earlier iteration on ties."""
    sign = 1 if objective.goal == "minimize" else -1
    return lambda r: (sign * r.search.mean(objective.metric) if r.search else math.inf, r.iteration)


def improved(iterations: Iterable[IterationRecorded], objective: Objective) -> list[IterationRecorded]:
    """The iterations that improved on the search seeds, best first."""
    return sorted((r for r in iterations if r.status == "improved" and r.search), key=_rank(objective))


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
