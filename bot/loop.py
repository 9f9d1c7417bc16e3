"""The inner loop: baseline → N × (analyze → code → apply → verify → journal) → post-hoc selection.

Seeds come in three tiers: every candidate is evaluated on the search seeds; one that would become
the incumbent also on the validation seeds (it becomes the incumbent only if it holds there, else it
"did not validate"); the finalists once, at the end, on the held-out seeds (extended by up to
``evaluate.seeds.extend`` seeds while undecided). One rule decides on every tier (:mod:`bot.decision`).

It knows nothing of GitHub or terminals: it takes its collaborators as arguments and reports
progress as :class:`LoopEvent` values to a callback the caller renders.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.agents.base import Agent, Analysis, AnalyzerContext, CoderRequest, Usage
from bot.config import Config
from bot.errors import AgentError, BudgetExceeded, PatchError
from bot.evaluate import Evaluator
from bot.gate import Gate, Refusal, write_json
from bot.harness import ReadOnlyExcerpt, read_only_context
from bot.journal import (
    BaselineRecorded,
    ConfirmationRecorded,
    IterationRecorded,
    Journal,
    Record,
    RunFinished,
    RunStarted,
)
from bot.patch import diff_summary
from bot.results import Attempt, AttemptStatus, EvalResult, RunSummary
from bot.selection import (
    improved,
    incumbent,
    judge_confirmation,
    judge_search,
    ranks_above,
    stop_reason,
)
from bot.tiers import Tiers, baseline_failure, baseline_ok
from bot.workspace import Workspace, candidate_message

#: Bounded repair: a refused diff goes back to the Coder at most this many times.
MAX_REPAIRS = 2


@dataclass(frozen=True)
class LoopEvent:
    """Something the user may want to see: ``kind`` is a stable name, ``message`` is for humans."""

    kind: str
    message: str
    iteration: int | None = None


EventSink = Callable[[LoopEvent], None]


@dataclass
class _State:
    """What the loop knows about the run so far (rebuilt from the journal on resume)."""

    baseline: BaselineRecorded | None = None
    iterations: dict[int, IterationRecorded] = field(default_factory=dict)
    confirmations: dict[int, ConfirmationRecorded] = field(default_factory=dict)

    @classmethod
    def from_records(cls, records: list[Record]) -> _State:
        state = cls()
        for r in records:
            if isinstance(r, BaselineRecorded):
                state.baseline = r
            elif isinstance(r, IterationRecorded):
                state.iterations[r.iteration] = r
            elif isinstance(r, ConfirmationRecorded):
                state.confirmations[r.iteration] = r
        return state


class Loop:
    """One run of the inner loop on a workspace. Construct, then call :meth:`run`."""

    def __init__(
        self,
        *,
        config: Config,
        workspace: Workspace,
        evaluator: Evaluator,
        journal: Journal,
        agent: Agent,
        run_id: str,
        run_dir: Path,
        iterations: int | None = None,
        hints: list[str] | None = None,
        on_event: EventSink | None = None,
        branch_prefix: str | None = None,
        deadline: float | None = None,
    ) -> None:
        self.config = config
        self.ws = workspace
        self.evaluator = evaluator
        self.journal = journal
        self.agent = agent
        self.run_id = run_id
        self.run_dir = run_dir
        self.iterations = config.loop.iterations if iterations is None else iterations
        self.hints = hints or []
        self.emit: EventSink = on_event or (lambda event: None)
        #: time.monotonic() after which no iteration starts (None: no limit).
        self.deadline = deadline
        self.branch = f"{branch_prefix or config.github.branch_prefix}{run_id}"
        self.policy = workspace.policy(config.edit)
        self.objective = config.evaluate.objective
        self.gate = Gate(config, workspace, self.policy, evaluator,
                         lambda kind, message, n: self.emit(LoopEvent(kind, message, n)))
        self.read_only: list[ReadOnlyExcerpt] | None = None
        self.tiers = Tiers(config=config, workspace=workspace, policy=self.policy, gate=self.gate,
                           evaluator=evaluator, journal=journal, run_id=run_id, run_dir=run_dir,
                           notify=lambda kind, message, n: self.emit(LoopEvent(kind, message, n)))

    # ------------------------------------------------------------------ run
    def run(self, resume: bool = False) -> RunSummary:
        """Run (or resume) to the end and return the summary; the journal records every step."""
        state = _State.from_records(self.journal.by_run(self.run_id)) if resume else _State()
        if not resume:
            self.journal.append(
                RunStarted(
                    run_id=self.run_id,
                    base_commit=self.ws.base,
                    agent=self.agent.name,
                    iterations=self.iterations,
                    metric=self.objective.metric,
                    goal=self.objective.goal,
                    guardrails=[g.metric for g in self.config.evaluate.guardrails],
                    guardrail_goals={g.metric: g.goal for g in self.config.evaluate.guardrails},
                    allowances={g.metric: g.max_regression for g in self.config.evaluate.guardrails},
                    min_improvement=self.config.loop.min_improvement,
                    level=self.config.loop.level,
                    hints=self.hints,
                )
            )
        if state.baseline is None:
            state.baseline = self.tiers.baseline()
        elif self.config.evaluate.seeds.validation and state.baseline.validation is None:
            state.baseline = self.tiers.with_validation(state.baseline)  # a run begun without the tier
        if not baseline_ok(state.baseline):
            return self._finish(winner=None, reason=baseline_failure(state.baseline))
        stopped = self._iterate(state)
        winner, reason = self._select(state)
        if winner is None:
            return self._finish(winner=None, reason=reason, stopped=stopped)
        improvement = self._confirm_improvement(state, winner)
        branch = self._commit_winner(state, winner, improvement)
        return self._finish(winner, reason, stopped, branch, improvement)

    def _finish(
        self, winner: int | None, reason: str, stopped: str | None = None,
        branch: str | None = None, improvement: float | None = None,
    ) -> RunSummary:
        self.journal.append(RunFinished(run_id=self.run_id, winner=winner, reason=reason, branch=branch,
                                        improvement=improvement, stopped_early=stopped))
        self.emit(LoopEvent("finished", reason))
        return self.journal.summary(self.run_id)

    # ----------------------------------------------------------- iterations
    def _iterate(self, state: _State) -> str | None:
        """Run the remaining iterations; returns why it stopped early, or None."""
        start = max(state.iterations, default=0) + 1
        for n in range(start, self.iterations + 1):
            if self.deadline is not None and time.monotonic() >= self.deadline:
                self.emit(LoopEvent("stopped", "time limit reached", n))
                return "time limit reached"
            try:
                record = self._iteration(state, n)
            except BudgetExceeded as exc:
                self.emit(LoopEvent("stopped", f"budget exhausted: {exc}", n))
                return f"budget exhausted: {exc}"
            state.iterations[n] = record
            self.journal.append(record)
            self.emit(LoopEvent("iteration_done", _describe(record, self.objective.metric), n))
            stop = stop_reason(state.iterations, self.config)
            if stop:
                self.emit(LoopEvent("stopped", stop, n))
                return stop
        return None

    def _parent(self, state: _State) -> IterationRecorded | None:
        return incumbent(state.iterations.values(), self.objective)

    def _iteration(self, state: _State, n: int) -> IterationRecorded:
        started = time.monotonic()
        it_dir = self.run_dir / str(n)
        it_dir.mkdir(parents=True, exist_ok=True)
        parent = self._parent(state)
        self.ws.reset()
        if parent is not None:
            self.ws.apply(parent.diff, self.policy)
        files = self.ws.editable_files(self.policy)
        assert state.baseline is not None
        attempts = self.journal.attempts()
        incumbent = next((a for a in attempts if parent is not None and a.run_id == self.run_id
                          and a.iteration == parent.iteration), None)
        if self.read_only is None:  # the harness is restored from the base commit: read it once
            self.read_only = read_only_context(self.ws.project_root, self.config.evaluate.command, files,
                                               self.config.edit.context, prefix=self.ws.subdir)
        context = AnalyzerContext(
            files=files,
            objective=self.objective,
            guardrails=list(self.config.evaluate.guardrails),
            attempts=attempts,
            baseline={m: state.baseline.search.mean(m) for m in self.evaluator.required_metrics()},
            iteration=n,
            iterations=self.iterations,
            hints=self.hints,
            baseline_search=state.baseline.search,
            incumbent=incumbent,
            run_id=self.run_id,
            read_only=self.read_only,
            other_files=self.ws.readonly_files(self.policy),
        )
        usage = Usage()
        self.emit(LoopEvent("analyzing", f"iteration {n}/{self.iterations}: asking the analyzer", n))
        try:
            reply = self.agent.analyzer.analyze(context)
        except BudgetExceeded:
            raise
        except AgentError as exc:
            return self._failed(n, parent, None, Refusal("analyzer", f"analyzer: {exc}"), usage, started)
        usage += reply.usage
        analysis = reply.analysis
        (it_dir / "prompt-analyzer.md").write_text(reply.prompt, encoding="utf-8")
        (it_dir / "response-analyzer.md").write_text(reply.response, encoding="utf-8")
        write_json(it_dir / "analysis.json", analysis.model_dump())
        self.emit(LoopEvent("hypothesis", f"[{analysis.persona}] {analysis.hypothesis}", n))

        diff, refused, usage = self._code(analysis, files, parent, incumbent, it_dir, usage)
        if refused is not None:
            return self._failed(n, parent, analysis, refused, usage, started)
        (it_dir / "candidate.diff").write_text(diff, encoding="utf-8")
        duplicate = next((r.iteration for r in state.iterations.values() if r.diff == diff), None)
        if duplicate is not None:
            dup = Refusal("duplicate", f"duplicate of iteration {duplicate}")
            return self._failed(n, parent, analysis, dup, usage, started, diff)
        search, refusal = self.gate.search(it_dir, n)
        if refusal is not None:
            status: AttemptStatus = "flagged" if refusal.kind == "integrity" else "failed"
            return self._failed(n, parent, analysis, refusal, usage, started, diff, search, status)
        assert search is not None
        verdict = judge_search(state.baseline.search, search, self.config)
        validation: EvalResult | None = None
        if verdict.ok and self.config.evaluate.seeds.validation and ranks_above(
            search, parent, self.objective
        ):
            validation, verdict, tampering = self.tiers.validate(state.baseline, n, it_dir)
            if tampering is not None:
                return self._failed(n, parent, analysis, tampering, usage, started, diff, search, "flagged")
        status = "improved" if verdict.ok else "no_gain"
        return IterationRecorded(
            run_id=self.run_id, iteration=n, parent=parent.iteration if parent else None,
            hypothesis=analysis.hypothesis, persona=analysis.persona, plan=analysis.plan,
            diff=diff, diff_summary=diff_summary(diff), status=status, search=search, validation=validation,
            failure_reason=None if verdict.ok else verdict.reason, failure_kind=verdict.kind,
            details=analysis.details,
            tokens=usage.tokens, usd=usage.usd, duration_s=time.monotonic() - started,
        )

    def _code(
        self, analysis: Analysis, files: dict[str, str], parent: IterationRecorded | None,
        incumbent: Attempt | None, it_dir: Path, usage: Usage,
    ) -> tuple[str, Refusal | None, Usage]:
        """Ask the Coder for a diff, repairing up to MAX_REPAIRS times; returns (diff, refusal, usage)."""
        feedback: str | None = None
        previous: str | None = None
        for attempt in range(MAX_REPAIRS + 1):
            request = CoderRequest(analysis=analysis, files=files, feedback=feedback,
                                   previous_diff=previous, attempt=attempt, incumbent=incumbent,
                                   read_only=self.read_only or [])
            try:
                reply = self.agent.coder.write_diff(request)
            except BudgetExceeded:
                raise
            except AgentError as exc:
                return "", Refusal("coder", f"coder: {exc}"), usage
            usage += reply.usage
            (it_dir / f"prompt-coder-{attempt}.md").write_text(reply.prompt, encoding="utf-8")
            (it_dir / f"response-coder-{attempt}.md").write_text(reply.response, encoding="utf-8")
            self.ws.reset()
            if parent is not None:
                self.ws.apply(parent.diff, self.policy)
            try:
                self.ws.apply(reply.diff, self.policy)
            except PatchError as exc:
                feedback, previous = exc.as_feedback(), reply.diff
                self.emit(LoopEvent("patch_refused", f"diff refused {feedback}", None))
                continue
            return self.ws.diff_from_base(), None, usage
        return "", Refusal("patch", f"patch: {feedback} (after {MAX_REPAIRS} repairs)"), usage

    def _failed(
        self, n: int, parent: IterationRecorded | None, analysis: Analysis | None, refusal: Refusal,
        usage: Usage, started: float, diff: str = "", search: EvalResult | None = None,
        status: AttemptStatus = "failed",
    ) -> IterationRecorded:
        return IterationRecorded(
            run_id=self.run_id, iteration=n, parent=parent.iteration if parent else None,
            hypothesis=analysis.hypothesis if analysis else "(no hypothesis)",
            persona=analysis.persona if analysis else "none", plan=analysis.plan if analysis else "",
            diff=diff, diff_summary=diff_summary(diff) if diff else "", status=status, search=search,
            failure_reason=refusal.reason, failure_kind=refusal.kind,
            details=analysis.details if analysis else {}, tokens=usage.tokens, usd=usage.usd,
            duration_s=time.monotonic() - started,
        )

    # ------------------------------------------------------------ selection
    def _select(self, state: _State) -> tuple[int | None, str]:
        """Post-hoc selection over all iterations; confirms finalists on held-out seeds."""
        assert state.baseline is not None
        metric = self.objective.metric
        finalists = improved(state.iterations.values(), self.objective)[: self.config.loop.confirm_top]
        if not finalists:
            tried = len(state.iterations)
            return None, (f"no improvement: none of {tried} iteration(s) beat the baseline on the search "
                          "seeds with every guardrail holding")
        confirmed: list[tuple[float, int]] = []
        for record in finalists:
            conf = state.confirmations.get(record.iteration)
            if conf is None:
                conf, state.baseline = self.tiers.confirm(state.baseline, record)
            state.confirmations[record.iteration] = conf
            if conf.confirmed:
                verdict = judge_confirmation(state.baseline.confirm, conf.confirm, self.config)
                confirmed.append((verdict.improvement, record.iteration))
        if not confirmed:
            names = ", ".join(str(r.iteration) for r in finalists)
            return None, (f"no improvement: iteration(s) {names} beat the baseline on the search seeds "
                          "but did not confirm on the held-out seeds")
        improvement, winner = max(confirmed)
        held_out = _seeds(state.confirmations[winner].confirm)
        return winner, (f"iteration {winner} improves {metric} by {improvement:+.1%} on the held-out "
                        f"seeds {held_out}")

    def _confirm_improvement(self, state: _State, winner: int) -> float:
        assert state.baseline is not None
        return judge_confirmation(state.baseline.confirm, state.confirmations[winner].confirm,
                                  self.config).improvement

    def _commit_winner(self, state: _State, winner: int, improvement: float) -> str:
        record = state.iterations[winner]
        message = candidate_message(record.hypothesis, self.objective.metric, improvement,
                                    _seeds(state.confirmations[winner].confirm), self.run_id, winner)
        self.ws.commit_candidate(self.branch, record.diff, message, self.policy)
        self.emit(LoopEvent("committed", f"committed the winner on branch {self.branch}", winner))
        return self.branch


def _seeds(result: EvalResult) -> list[int]:
    return [s.seed for s in result.seeds]


def _describe(record: IterationRecorded, metric: str) -> str:
    if record.status in ("failed", "flagged"):
        return f"{record.status}: {record.failure_reason}"
    assert record.search is not None
    return f"{record.status}: {metric} = {record.search.mean(metric):.4g} ({record.diff_summary})"

