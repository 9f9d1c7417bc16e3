"""When does a candidate count? The rules of search and held-out confirmation, as pure functions."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.config import Config
from bot.results import EvalResult
from bot.stats import compare, guardrail_holds


@dataclass(frozen=True)
class Verdict:
    """``ok`` if the candidate counts; ``improvement`` is relative, positive = better."""

    ok: bool
    improvement: float
    reason: str


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
        return Verdict(False, math.nan, f"evaluation failed on the {seeds} seeds ({why})")
    cmp = compare(base, cand, objective.metric, objective.goal)
    if not math.isfinite(cmp.improvement):
        return Verdict(False, math.nan, f"{objective.metric} is not comparable on the {seeds} seeds")
    if cmp.improvement <= config.loop.min_improvement:
        return Verdict(False, cmp.improvement,
                       f"{objective.metric} {cmp.improvement:+.1%} on the {seeds} seeds: no gain")
    if paired_majority and cmp.wins <= cmp.losses:
        return Verdict(False, cmp.improvement,
                       f"{objective.metric} {cmp.improvement:+.1%} on the {seeds} seeds but better on only "
                       f"{cmp.wins} of {cmp.n} seeds (needs a majority)")
    for guardrail in config.evaluate.guardrails:
        holds, why = guardrail_holds(base, cand, guardrail)
        if not holds:
            return Verdict(False, cmp.improvement, f"guardrail broken on the {seeds} seeds: {why}")
    return Verdict(True, cmp.improvement,
                   f"{objective.metric} {cmp.improvement:+.1%} on the {seeds} seeds "
                   f"(better on {cmp.wins} of {cmp.n}), guardrails hold")
