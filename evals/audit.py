"""After a run: the baseline, the run's final incumbent and its winner evaluated on fresh seeds.

The bot never sees these seeds (they are in none of its tiers), so they tell whether what it built on
and what it selected generalise. A candidate worse than the baseline there is a **trap**: it won on
the seeds the bot looked at and loses elsewhere (evals/README.md, "Traps").
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bot.config import load_config
from bot.evaluate import Evaluator
from bot.journal import JOURNAL_FILE, IterationRecorded, Journal, RunFinished
from bot.results import EvalResult
from bot.selection import incumbent
from bot.stats import compare
from bot.workspace import STATE_DIR, Workspace


def audit(
    repo: Path, run_id: str, seeds: list[int], environ: Mapping[str, str] | None = None
) -> dict[str, object]:
    """Evaluate the baseline, the final incumbent and the winner of ``run_id`` on ``seeds``, in
    ``environ`` (default: this process's; the evaluation's own scrubbing applies).

    Returns the ``RunRecord`` fields ``incumbent``, ``incumbent_audit`` and ``winner_audit`` (relative
    improvements of the objective mean over the baseline on ``seeds``, positive = better; None where
    there is no such candidate or it failed to evaluate) and ``incumbent_audit_failure`` /
    ``winner_audit_failure`` (the first failed seed's failure and reason, when the candidate failed
    to evaluate on a seed where the baseline did not).

    Raises:
        WorkspaceError: the repository's git state is unusable.
        EvaluationError: the evaluation command cannot run at all.
    """
    config = load_config(repo)
    objective = config.evaluate.objective
    records = Journal(repo / STATE_DIR / JOURNAL_FILE).by_run(run_id)
    iterations = [r for r in records if isinstance(r, IterationRecorded)]
    finished = next((r for r in reversed(records) if isinstance(r, RunFinished)), None)
    best = incumbent(iterations, objective)
    winner = next((r for r in iterations if finished is not None and r.iteration == finished.winner), None)
    workspace = Workspace.open(repo, f"audit-{run_id}")
    evaluator = Evaluator(config.evaluate, repo / STATE_DIR / "cache", environ=environ)
    policy = workspace.policy(config.edit)
    log_dir = repo / STATE_DIR / "runs" / run_id / "audit"

    def evaluate(diff: str | None) -> EvalResult:
        workspace.reset()
        if diff:
            workspace.apply(diff, policy)
        workspace.restore_protected(policy.protected)
        return evaluator.evaluate(workspace.project_root, workspace.tree_hash(), seeds, log_dir)

    def gain(base: EvalResult, record: IterationRecorded | None) -> tuple[float | None, str | None]:
        if record is None:
            return None, None
        result = evaluate(record.diff)
        if result.ok:
            return compare(base, result, objective.metric, objective.goal).improvement, None
        ok_in_base = {s.seed for s in base.seeds if s.ok}
        failed = next((s for s in result.seeds if not s.ok and s.seed in ok_in_base), None)
        if failed is None:
            return None, None
        return None, f"{failed.failure} on seed {failed.seed}: {(failed.reason or '').splitlines()[0][:200]}"

    try:
        base = evaluate(None)
        incumbent_gain, incumbent_failure = gain(base, best)
        winner_gain, winner_failure = gain(base, winner)
        return {"incumbent": best.iteration if best else None, "incumbent_audit": incumbent_gain,
                "winner_audit": winner_gain, "incumbent_audit_failure": incumbent_failure,
                "winner_audit_failure": winner_failure}
    finally:
        workspace.remove()
