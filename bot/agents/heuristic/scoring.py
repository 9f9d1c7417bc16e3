"""A move's score: its prior adjusted by the journal's plan, the runtime budget and the human hints."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.agents.heuristic.plan import Plan
from bot.ope.knobs import Budget
from bot.ope.moves import Move, Survey
from bot.ope.weights import WEIGHTS

#: Words a hint may use for a kind of move (beside the move's own keywords and target class).
_KIND_WORDS = {
    "reward-swap": ("reward model", "regression model", "regression", "reward"),
    "reward-knob": ("reward model", "regression model", "regression", "reward"),
    "estimator-knob": ("hyperparameter", "tune", "tuning"),
}


@dataclass(frozen=True)
class Scored:
    """A candidate move with its score and the reasons the score moved from the prior."""

    move: Move
    score: float
    notes: tuple[str, ...]


def score(move: Move, hints: Sequence[str], found: Survey, plan: Plan, budget: Budget | None) -> Scored:
    """``move`` scored for this iteration."""
    w = WEIGHTS
    value = move.score
    notes: list[str] = []
    exploit = (plan.mode == "exploit-combined" and move in plan.extra) or (
        plan.mode == "exploit-stacked"
        and ((move.kind == "estimator-knob" and move.target in plan.focus)
             or (move.knob != "" and move.score >= w.relevant)
             or (move.kind in ("reward-swap", "reward-knob", "folds") and found.reward_in_use))
    )
    if exploit and plan.weight > 0:
        value += w.exploit[move.kind] * plan.weight
        notes.append("builds on the best improvement")
    if move.kind in ("estimator-swap", "reward-swap") and move not in plan.extra:
        if move.target in plan.spent:
            value -= w.spent_class
            notes.append(f"{move.target} failed or was evaluated before")
        elif move.target in plan.no_gain:
            value -= w.same_class
            notes.append(f"{move.target} tried without gain")
        elif move.family and move.family in plan.families:
            value -= w.same_family
            notes.append(f"family {move.family} tried without gain")
        if plan.heavy_refused and move.spec is not None and move.spec.heavy:
            value -= w.heavy_refused
            notes.append("a tree-ensemble reward model broke a guardrail")
    # A move belongs to the family of each change it makes: a swap made together with the model it
    # needs is avoided when plain swaps broke the evaluation (not the other way round: there the
    # added model is the likelier culprit).
    broken = dict(plan.broken)
    family = next((k for k in (move.kind, *(c.kind for c in move.changes)) if k in broken), None)
    if family is not None:
        value -= w.broken_family
        notes.append(f"{family} broke the evaluation ({broken[family]})")
    if budget is not None and move.cost > budget.factor:
        value -= w.over_budget
        notes.append(f"~{move.cost:g}x runtime, over the {budget.metric} guardrail (+{budget.allowed:.0%})")
    if hinted(move, hints):
        value += w.hint_boost
        notes.append("named in a hint")
    return Scored(move=move, score=value, notes=tuple(notes))


def hinted(move: Move, hints: Sequence[str]) -> bool:
    """True if a hint names the move's class, family or knob (hints are matched, never executed)."""
    if not hints:
        return False
    text = " ".join(_words(h) for h in hints)
    words = (*move.keywords, move.target, *_KIND_WORDS.get(move.kind, ()))
    return any(_words(w) in text for w in words if w.strip())


def _words(text: str) -> str:
    return " " + " ".join(re.sub(r"[^a-z0-9]+", " ", text.casefold()).split()) + " "
