"""Journal situations for each fixture pipeline, and the heuristic's ranking rendered as text.

The golden snapshots under ``tests/golden/heuristic/`` hold one file per pipeline: for each situation
(a fresh journal, a move that gained nothing, an improvement to build on, a hint, a runtime
guardrail) every candidate move the heuristic ranks, best first, with its score, kind, target,
hypothesis and the notes that explain the score. A weight change shows in review as a diff there.
Each situation's journal is built by the agent itself (its first choice, recorded as the loop would
record it), so the snapshots follow the agent rather than a hand-written history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.agents.base import Agent, Analysis, AnalyzerContext, CoderRequest
from bot.agents.heuristic.scoring import Scored
from bot.config import Guardrail, Objective
from bot.crash import Crash, Frame
from bot.results import Attempt, AttemptStatus, IterationFailure
from tests.helpers.ope_pipelines import (
    BARE_IPW,
    CONTINUOUS_PDIS,
    DISCRETE_TIS,
    DM_ONLY,
    DR_PIPELINE,
    IPW_PIPELINE,
    LEGACY_SCOPE_PIPELINE,
    SCOPE_PIPELINE,
)
from tests.helpers.patching import apply
from tests.helpers.stranger_pipelines import OBP_COMPUTED_READ, OBP_HARNESS_READS

#: A runtime guardrail: the pipeline's time may grow by 200%.
RUNTIME = [Guardrail(metric="ope_seconds", max_regression=2.0)]
#: The snapshot names (``tests/golden/heuristic/<name>.txt``), one per fixture pipeline.
PIPELINES = ("obp-ipw", "obp-dr", "obp-bare-ipw", "scope-discrete-dm-tis", "scope-legacy-tis",
             "scope-dm-only", "scope-continuous-pdis", "scope-discrete-tis", "obp-harness-reads")


@dataclass(frozen=True)
class Situation:
    """A named journal state for one pipeline."""

    name: str
    context: AnalyzerContext


def context(
    files: dict[str, str], attempts: Sequence[Attempt] = (), guardrails: Sequence[Guardrail] = (),
    hints: Sequence[str] = (), readonly: dict[str, str] | None = None,
) -> AnalyzerContext:
    """An Analyzer context on ``files`` minimising ``relative_error`` (baseline 0.5)."""
    return AnalyzerContext(
        files=files, objective=Objective(metric="relative_error"), guardrails=list(guardrails),
        attempts=list(attempts), baseline={"relative_error": 0.5}, iteration=len(attempts) + 1,
        iterations=10, hints=list(hints), other_files=readonly or {},
    )


def recorded(
    analysis: Analysis, diff: str, status: AttemptStatus, iteration: int, improvement: float | None = None,
    failure_kind: IterationFailure | None = None, failure_reason: str | None = None,
    crash: Crash | None = None,
) -> Attempt:
    """The attempt as the journal gives it back to the Analyzer (details and failure kind included)."""
    if failure_kind is None and status == "no_gain":
        failure_kind, failure_reason = "not_better", failure_reason or "not better than the baseline"
    return Attempt(
        run_id="run", iteration=iteration, hypothesis=analysis.hypothesis, persona=analysis.persona,
        diff=diff, status=status, improvement=improvement, failure_kind=failure_kind,
        failure_reason=failure_reason, details=analysis.details, crash=crash,
    )


def situations(agent: Agent, tmp_path: Path) -> dict[str, list[Situation]]:
    """Every fixture pipeline (by snapshot name) with its situations."""
    counter = iter(range(1_000_000))

    def first(files: dict[str, str], guardrails: Sequence[Guardrail] = (), hints: Sequence[str] = (),
              readonly: dict[str, str] | None = None) -> tuple[Analysis, str, dict[str, str]]:
        """The agent's first choice on ``files``, its diff and the files with it applied."""
        analysis = agent.analyzer.analyze(context(files, guardrails=guardrails, hints=hints,
                                                  readonly=readonly)).analysis
        diff = agent.coder.write_diff(CoderRequest(analysis=analysis, files=files)).diff
        return analysis, diff, apply(diff, files, tmp_path / str(next(counter)))

    def journeys(files: dict[str, str], guardrails: Sequence[Guardrail] = ()) -> list[Situation]:
        """Fresh; the first move without gain; the first move improved (combined, then stacked)."""
        analysis, diff, after = first(files, guardrails)
        lost = [recorded(analysis, diff, "no_gain", 1)]
        won = [recorded(analysis, diff, "improved", 1, improvement=0.4)]
        return [
            Situation("fresh", context(files, guardrails=guardrails)),
            Situation("first move gained nothing", context(files, lost, guardrails)),
            Situation("first move improved, not in the files", context(files, won, guardrails)),
            Situation("first move improved, stacked into the files", context(after, won, guardrails)),
        ]

    forest = ["a random forest or gradient boosting reward model"]
    tree, tree_diff, _ = first(DR_PIPELINE, hints=forest)
    refused = recorded(tree, tree_diff, "no_gain", 1, failure_kind="guardrail",
                       failure_reason="guardrail broken on the search seeds: runtime_s: worse by 3282.8%")
    steps, steps_diff, more_steps = first({"ope/run.py": DM_ONLY}, RUNTIME)
    harness, read_only = OBP_HARNESS_READS
    swap, swap_diff, _ = first(harness, readonly=read_only)
    audit = Crash(exception="RuntimeError", message="estimator not approved",
                  frames=[Frame(file="harness/run_eval.py", line=9, function="main")])
    computed, computed_read = OBP_COMPUTED_READ
    renamed, renamed_diff, _ = first(computed, readonly=computed_read)
    key_error = Crash(exception="KeyError", message="'ipw'",
                      frames=[Frame(file="harness/run_eval.py", line=6, function="report")])
    return {
        "obp-ipw": [
            *journeys(IPW_PIPELINE),
            Situation("hint: switch estimator",
                      context(IPW_PIPELINE, hints=["Maybe a switch estimator helps"])),
        ],
        "obp-dr": [
            *journeys(DR_PIPELINE),
            Situation("hint: tree reward model", context(DR_PIPELINE, hints=forest)),
            Situation("tree reward model broke a runtime guardrail",
                      context(DR_PIPELINE, [refused], hints=forest)),
        ],
        "obp-bare-ipw": journeys(BARE_IPW),
        "scope-discrete-dm-tis": journeys(SCOPE_PIPELINE),
        "scope-legacy-tis": [Situation("fresh", context(LEGACY_SCOPE_PIPELINE))],
        "scope-dm-only": [
            Situation("fresh, no guardrail", context({"ope/run.py": DM_ONLY})),
            *journeys({"ope/run.py": DM_ONLY}, RUNTIME),
            Situation("more FQE steps improved and stacked: runtime spent",
                      context(more_steps, [recorded(steps, steps_diff, "improved", 1, 0.15)], RUNTIME)),
        ],
        "scope-continuous-pdis": journeys({"cont.py": CONTINUOUS_PDIS}, RUNTIME),
        "scope-discrete-tis": journeys({"disc.py": DISCRETE_TIS}),
        "obp-harness-reads": [
            Situation("fresh, the harness reads 'ipw'", context(harness, readonly=read_only)),
            Situation("first move crashed the evaluation", context(
                harness, [recorded(swap, swap_diff, "failed", 1, failure_kind="crash", crash=audit,
                                   failure_reason="crash: seed 0: exit code 1")], readonly=read_only)),
            Situation("first move crashed on the key 'ipw', read where no file shows it", context(
                computed, [recorded(renamed, renamed_diff, "failed", 1, failure_kind="crash", crash=key_error,
                                    failure_reason="crash: seed 0: exit code 1")], readonly=computed_read)),
        ],
    }


def render(pipeline: str, ranked: Callable[[AnalyzerContext], tuple[str, Sequence[Scored]]],
           cases: Sequence[Situation]) -> str:
    """The snapshot text of one pipeline: each situation's mode and full ranking."""
    lines = [f"# Heuristic move ranking: {pipeline}",
             "# score | kind | target | hypothesis [| notes]; regenerate: GROWTHHACKER_UPDATE_GOLDEN=1"]
    for case in cases:
        mode, rows = ranked(case.context)
        lines += ["", f"## {case.name} (mode {mode}, {len(rows)} candidates)", ""]
        for row in rows:
            hypothesis = " ".join(row.move.hypothesis.split())
            cells = [f"{row.score:7.2f}", row.move.kind, row.move.target or "-", hypothesis]
            if row.notes:
                cells.append("; ".join(row.notes))
            lines.append(" | ".join(cells))
    return "\n".join(lines) + "\n"
