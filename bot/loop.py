"""The inner loop: baseline → N × (analyze → code → apply → verify → journal) → post-hoc selection.

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
from bot.results import AttemptStatus, EvalResult, RunSummary
from bot.selection import improved, incumbent, judge_confirmation, judge_search, stop_reason
from bot.workspace import Workspace, candidate_tag

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
        self.branch = f"{branch_prefix or config.github.branch_prefix}{run_id}"
        self.policy = workspace.policy(config.edit)
        self.objective = config.evaluate.objective
        self.gate = Gate(config, workspace, self.policy, evaluator,
                                 lambda kind, message, n: self.emit(LoopEvent(kind, message, n)))

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
                    hints=self.hints,
                )
            )
        if state.baseline is None:
            state.baseline = self._baseline()
        if not (state.baseline.search.ok and state.baseline.confirm.ok):
            return self._finish(winner=None, reason=_baseline_failure(state.baseline))
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

    # ------------------------------------------------------------- baseline
    def _baseline(self) -> BaselineRecorded:
        seeds = self.config.evaluate.seeds
        self.emit(LoopEvent("baseline", f"evaluating the base commit {self.ws.base[:8]} on seeds "
                            f"{seeds.search} (search) and {seeds.confirm} (held-out)"))
        self.ws.reset()
        self.ws.restore_protected(self.policy.protected)
        tree = self.ws.tree_hash()
        log_dir = self.run_dir / "baseline"
        search = self.evaluator.evaluate(self.ws.project_root, tree, seeds.search, log_dir)
        confirm = self.evaluator.evaluate(self.ws.project_root, tree, seeds.confirm, log_dir)
        record = BaselineRecorded(run_id=self.run_id, search=search, confirm=confirm)
        self.journal.append(record)
        metrics = {"search": search.model_dump(), "confirm": confirm.model_dump()}
        write_json(log_dir / "metrics.json", metrics)
        metric = self.objective.metric
        if search.ok and confirm.ok:
            self.emit(LoopEvent("baseline_done", f"baseline {metric} = {search.mean(metric):.4g} "
                                f"± {search.stdev(metric):.2g} (search seeds)"))
        else:
            self.emit(LoopEvent("baseline_failed", _baseline_failure(record)))
        return record

    # ----------------------------------------------------------- iterations
    def _iterate(self, state: _State) -> str | None:
        """Run the remaining iterations; returns why it stopped early, or None."""
        start = max(state.iterations, default=0) + 1
        for n in range(start, self.iterations + 1):
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
        context = AnalyzerContext(
            files=files,
            objective=self.objective,
            guardrails=list(self.config.evaluate.guardrails),
            attempts=self.journal.attempts(),
            baseline={m: state.baseline.search.mean(m) for m in self.evaluator.required_metrics()},
            iteration=n,
            iterations=self.iterations,
            hints=self.hints,
            readonly=self.ws.readonly_files(self.policy),
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

        diff, refused, usage = self._code(analysis, files, parent, it_dir, usage)
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
        status = "improved" if verdict.ok else "no_gain"
        return IterationRecorded(
            run_id=self.run_id, iteration=n, parent=parent.iteration if parent else None,
            hypothesis=analysis.hypothesis, persona=analysis.persona, plan=analysis.plan,
            diff=diff, diff_summary=diff_summary(diff), status=status, search=search,
            failure_reason=None if verdict.ok else verdict.reason, failure_kind=verdict.kind,
            details=analysis.details,
            tokens=usage.tokens, usd=usage.usd, duration_s=time.monotonic() - started,
        )

    def _code(
        self, analysis: Analysis, files: dict[str, str], parent: IterationRecorded | None,
        it_dir: Path, usage: Usage,
    ) -> tuple[str, Refusal | None, Usage]:
        """Ask the Coder for a diff, repairing up to MAX_REPAIRS times; returns (diff, refusal, usage)."""
        feedback: str | None = None
        previous: str | None = None
        for attempt in range(MAX_REPAIRS + 1):
            request = CoderRequest(analysis=analysis, files=files, feedback=feedback,
                                   previous_diff=previous, attempt=attempt)
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
            conf = state.confirmations.get(record.iteration) or self._confirm(state, record)
            state.confirmations[record.iteration] = conf
            if conf.confirmed:
                verdict = judge_confirmation(state.baseline.confirm, conf.confirm, self.config)
                confirmed.append((verdict.improvement, record.iteration))
        if not confirmed:
            names = ", ".join(str(r.iteration) for r in finalists)
            return None, (f"no improvement: iteration(s) {names} beat the baseline on the search seeds "
                          "but did not confirm on the held-out seeds")
        improvement, winner = max(confirmed)
        return winner, (f"iteration {winner} improves {metric} by {improvement:+.1%} on the held-out "
                        f"seeds {self.config.evaluate.seeds.confirm}")

    def _confirm(self, state: _State, record: IterationRecorded) -> ConfirmationRecorded:
        assert state.baseline is not None
        n = record.iteration
        self.emit(LoopEvent("confirming", f"confirming iteration {n} on held-out seeds "
                            f"{self.config.evaluate.seeds.confirm}", n))
        self.ws.reset()
        self.ws.apply(record.diff, self.policy)
        result, tampering = self.gate.confirm(self.run_dir / str(n))
        verdict = judge_confirmation(state.baseline.confirm, result, self.config)
        confirmed, reason = (False, tampering.reason) if tampering else (verdict.ok, verdict.reason)
        conf = ConfirmationRecorded(run_id=self.run_id, iteration=n, confirm=result,
                                    confirmed=confirmed, reason=reason)
        self.journal.append(conf)
        self.emit(LoopEvent("confirmed" if confirmed else "not_confirmed", reason, n))
        return conf

    def _confirm_improvement(self, state: _State, winner: int) -> float:
        assert state.baseline is not None
        return judge_confirmation(state.baseline.confirm, state.confirmations[winner].confirm,
                                  self.config).improvement

    def _commit_winner(self, state: _State, winner: int, improvement: float) -> str:
        record = state.iterations[winner]
        message = (
            f"growthhacker: {record.hypothesis[:60]}\n\n"
            f"Hypothesis: {record.hypothesis}\n"
            f"{self.objective.metric}: {improvement:+.1%} on held-out seeds "
            f"{self.config.evaluate.seeds.confirm} {candidate_tag(self.run_id, winner)}\n"
        )
        self.ws.commit_candidate(self.branch, record.diff, message, self.policy)
        self.emit(LoopEvent("committed", f"committed the winner on branch {self.branch}", winner))
        return self.branch


def _baseline_failure(baseline: BaselineRecorded) -> str:
    failed = baseline.search.first_failure or baseline.confirm.first_failure
    detail = f"seed {failed.seed}: {failed.failure}: {failed.reason}" if failed else "no seeds"
    return (f"the unmodified repository fails its own evaluation ({detail}); "
            "fix the eval command or the code, then run again")


def _describe(record: IterationRecorded, metric: str) -> str:
    if record.status in ("failed", "flagged"):
        return f"{record.status}: {record.failure_reason}"
    assert record.search is not None
    return f"{record.status}: {metric} = {record.search.mean(metric):.4g} ({record.diff_summary})"

