"""The heuristic Analyzer: surveys the files, ranks every untried move and proposes the best."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.agents.base import Analysis, AnalyzerContext, AnalyzerReply
from bot.agents.heuristic.memory import remember
from bot.agents.heuristic.plan import journal_plan
from bot.agents.heuristic.render import render_prompt, render_response
from bot.agents.heuristic.scoring import Scored, score
from bot.errors import AgentError
from bot.ope.catalog import Catalog
from bot.ope.knobs import Budget, runtime_budget, spent_runtime
from bot.ope.moves import Survey, survey


@dataclass(frozen=True)
class Ranking:
    """Every untried move of an iteration, best first, and what ranked them."""

    found: Survey
    #: The plan's mode ("explore", "exploit-stacked", "exploit-combined").
    mode: str
    scored: list[Scored]
    #: Distinct moves in the journal.
    n_tried: int
    budget: Budget | None
    #: Families of change that broke the evaluation, with what happened (``Plan.broken``).
    broken: tuple[tuple[str, str], ...] = ()


class HeuristicAnalyzer:
    """Picks the next move deterministically from the files, the journal and the hints."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def rank(self, context: AnalyzerContext) -> Ranking:
        """Every move the files allow that the journal has not tried, scored and sorted best first
        (ties by hypothesis, so the order is deterministic)."""
        memory = remember(context.attempts)
        found = survey(context.files, self.catalog, context.other_files, memory.learned_keys)
        plan = journal_plan(memory, found, context.files)
        budget = runtime_budget((g.metric, g.max_regression, g.goal) for g in context.guardrails)
        candidates = [m for m in (*found.moves, *plan.extra)
                      if not memory.tried(m) and m.hypothesis not in context.proposed]
        # Runtime against the baseline: improvements stacked into the files may have spent some already.
        spent = spent_runtime(found.moves, memory.settings)
        candidates = [replace(m, cost=m.cost * spent) for m in candidates]
        scored = sorted(
            (score(m, context.hints, found, plan, budget) for m in dict.fromkeys(candidates)),
            key=lambda s: (-s.score, s.move.hypothesis),
        )
        return Ranking(found=found, mode=plan.mode, scored=scored, n_tried=memory.n_tried, budget=budget,
                       broken=plan.broken)

    def analyze(self, context: AnalyzerContext) -> AnalyzerReply:
        """The best untried move as an Analysis, with the candidate list as prompt/response text.

        Raises:
            AgentError: no editable Python file holds a known OPE call, or every move was tried.
        """
        ranking = self.rank(context)
        found = ranking.found
        prompt = render_prompt(context, found, ranking.mode, ranking.scored, ranking.n_tried, ranking.budget,
                               ranking.broken)
        if not ranking.scored:
            calls = sum(len(s.calls) + len(s.fold_calls) + len(s.pipeline_calls) for s in found.scans)
            raise AgentError(
                f"heuristic agent has no untried move: {ranking.n_tried} moves tried, "
                f"{calls} OPE calls found in {len(found.scans)} editable Python files; "
                "widen edit.paths, or use an LLM agent for changes beyond estimator/knob/reward-model swaps"
            )
        best = ranking.scored[_pick(context, len(ranking.scored))]
        move = best.move
        analysis = Analysis(
            hypothesis=move.hypothesis,
            persona=move.persona,
            plan=move.plan,
            expected_effect=move.expected_effect,
            files=sorted({e.file for e in move.edits}),
            details={**move.details(), "score": f"{best.score:.1f}", "mode": ranking.mode},
        )
        return AnalyzerReply(analysis=analysis, prompt=prompt, response=render_response(best))


def _pick(context: AnalyzerContext, ranked: int) -> int:
    """The rank of the move to propose among ``ranked`` untried ones: the best, except for the first
    move of search shard ``i`` of a sharded run, which takes the ``i``-th best (its island's root), so
    shards explore from different starting points and then each builds best-first on its own."""
    first = not any(attempt.run_id == context.run_id for attempt in context.attempts)
    return context.shard % ranked if first and context.run_id is not None else 0
