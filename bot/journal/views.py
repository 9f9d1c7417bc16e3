"""Views of the journal's records: the attempts best-first (what the agents see) and one run's summary."""

from __future__ import annotations

from bot.crash import Crash
from bot.errors import JournalError
from bot.journal.records import (
    BaselineRecorded,
    ConfirmationRecorded,
    IterationRecorded,
    OutcomeRecorded,
    Record,
    RunFinished,
    RunStarted,
)
from bot.results import Attempt, IterationSummary, RunSummary, Verdict

_STATUS_RANK: dict[str, int] = {"improved": 0, "no_gain": 1, "flagged": 2, "failed": 3}
_VERDICT_RANK: dict[str | None, int] = {"merged": 0, None: 1, "closed": 2}


def best_first(records: list[Record]) -> list[Attempt]:
    """Attempts from ``records`` with human verdicts attached, sorted best-first."""
    starts = {r.run_id: r for r in records if isinstance(r, RunStarted)}
    baselines = {r.run_id: r for r in records if isinstance(r, BaselineRecorded)}
    verdicts: dict[tuple[str, int | None], Verdict] = {}
    feedback: dict[tuple[str, int | None], list[str]] = {}
    for r in records:
        if isinstance(r, OutcomeRecorded):
            key = (r.run_id, r.iteration)
            if r.event in ("merged", "closed"):
                verdicts[key] = "merged" if r.event == "merged" else "closed"
            elif r.text:
                feedback.setdefault(key, []).append(r.text)
    attempts: list[tuple[int, Attempt]] = []
    seen: dict[str, list[tuple[str, dict[int, float]]]] = {}  # per run: (name, objective by seed)
    for order, r in enumerate(records):
        if not isinstance(r, IterationRecorded):
            continue
        start, base = starts.get(r.run_id), baselines.get(r.run_id)
        objective = r.search.mean(start.metric) if (start and r.search and r.search.ok) else None
        improvement = None
        if start and base and objective is not None:
            base_mean = base.search.mean(start.metric)
            if base_mean:
                rel = (objective - base_mean) / abs(base_mean)
                improvement = -rel if start.goal == "minimize" else rel
        key = (r.run_id, r.iteration)
        attempts.append(
            (
                order,
                Attempt(
                    run_id=r.run_id,
                    iteration=r.iteration,
                    hypothesis=r.hypothesis,
                    persona=r.persona,
                    diff=r.diff,
                    diff_summary=r.diff_summary,
                    status=r.status,
                    objective=objective,
                    improvement=improvement,
                    failure_reason=r.failure_reason,
                    failure_kind=r.failure_kind,
                    crash=_crash(r),
                    details=r.details,
                    verdict=verdicts.get(key),
                    feedback=feedback.get(key, []),
                    search=r.search,
                    parent=r.parent,
                    no_effect=_same_as(r, start, base, seen),
                ),
            )
        )
    attempts.sort(
        key=lambda pair: (
            _STATUS_RANK[pair[1].status],
            _VERDICT_RANK[pair[1].verdict],
            -(pair[1].improvement if pair[1].improvement is not None else float("-inf")),
            -pair[0],
        )
    )
    return [a for _, a in attempts]


def _same_as(
    record: IterationRecorded,
    start: RunStarted | None,
    base: BaselineRecorded | None,
    seen: dict[str, list[tuple[str, dict[int, float]]]],
) -> str | None:
    """What ``record``'s objective equals on every seed (the baseline or an earlier iteration of
    its run), or None; remembers ``record`` for the iterations after it."""
    if start is None or record.search is None or not record.search.ok:
        return None
    values = record.search.by_seed(start.metric)
    earlier = seen.setdefault(record.run_id, [])
    if not earlier and base is not None and base.search.ok:
        earlier.append(("the baseline", base.search.by_seed(start.metric)))
    match = next((name for name, other in earlier if other == values), None)
    earlier.append((f"iteration {record.iteration}", values))
    return match


def summarise(records: list[Record], run_id: str) -> RunSummary:
    """Fold one run's records into a :class:`RunSummary` (later records win on resume)."""
    start = next((r for r in records if isinstance(r, RunStarted)), None)
    base = next((r for r in reversed(records) if isinstance(r, BaselineRecorded)), None)
    if start is None or base is None:
        raise JournalError(f"run {run_id} has no baseline in the journal; it cannot be reported")
    iterations: dict[int, IterationSummary] = {}
    for r in records:
        if isinstance(r, IterationRecorded):
            iterations[r.iteration] = IterationSummary(
                iteration=r.iteration,
                hypothesis=r.hypothesis,
                persona=r.persona,
                status=r.status,
                diff=r.diff,
                diff_summary=r.diff_summary,
                search=r.search,
                validation=r.validation,
                failure_reason=r.failure_reason,
                failure_kind=r.failure_kind,
                tokens=r.tokens,
                usd=r.usd,
                duration_s=r.duration_s,
            )
        elif isinstance(r, ConfirmationRecorded) and r.iteration in iterations:
            iterations[r.iteration] = iterations[r.iteration].model_copy(
                update={"confirm": r.confirm, "confirmed": r.confirmed}
            )
    finish = next((r for r in reversed(records) if isinstance(r, RunFinished)), None)
    return RunSummary(
        run_id=run_id,
        agent=start.agent,
        base_commit=start.base_commit,
        metric=start.metric,
        goal=start.goal,
        guardrails=start.guardrails,
        guardrail_goals=start.guardrail_goals,
        allowances=start.allowances,
        min_improvement=start.min_improvement,
        level=start.level,
        baseline_search=base.search,
        baseline_validation=base.validation,
        baseline_confirm=base.confirm,
        iterations=[iterations[k] for k in sorted(iterations)],
        winner=finish.winner if finish else None,
        reason=finish.reason if finish else "run not finished (resume with `growthhacker run --resume`)",
        branch=finish.branch if finish else None,
        stopped_early=finish.stopped_early if finish else None,
    )


def _crash(record: IterationRecorded) -> Crash | None:
    """The crash of the iteration's first failed seed, if its evaluation crashed."""
    failed = record.search.first_failure if record.search is not None else None
    return failed.crash if failed is not None else None
