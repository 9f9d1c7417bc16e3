"""The inner loop: baseline → N × (analyze → code → apply → verify → journal) → post-hoc selection.

It knows nothing of GitHub or terminals: it takes its collaborators as arguments and reports
progress as :class:`LoopEvent` values to a callback the caller renders.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.agents.base import Agent, Analysis, AnalyzerContext, CoderRequest, Usage
from bot.config import Config
from bot.errors import AgentError, BudgetExceeded, PatchError
from bot.evaluate import Evaluator, compile_gate
from bot.integrity import check_diff, checkout_fingerprint
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
from bot.selection import Verdict, judge_confirmation, judge_search
from bot.workspace import Workspace

#: Bounded repair: a refused diff goes back to the Coder at most this many times.
MAX_REPAIRS = 2
#: Failure reasons with this prefix mark a candidate as "flagged" (metric gaming): never selected.
INTEGRITY = "integrity: "


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
        _write_json(log_dir / "metrics.json", metrics)
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
            stop = self._should_stop(state)
            if stop:
                self.emit(LoopEvent("stopped", stop, n))
                return stop
        return None

    def _parent(self, state: _State) -> IterationRecorded | None:
        """The incumbent the next candidate builds on: the best improved iteration so far."""
        improved = [r for r in state.iterations.values() if r.status == "improved" and r.search]
        if not improved:
            return None
        sign = 1 if self.objective.goal == "minimize" else -1
        return min(improved, key=lambda r: (sign * r.search.mean(self.objective.metric), r.iteration)
                   if r.search else (0.0, r.iteration))

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
        )
        usage = Usage()
        self.emit(LoopEvent("analyzing", f"iteration {n}/{self.iterations}: asking the analyzer", n))
        try:
            reply = self.agent.analyzer.analyze(context)
        except BudgetExceeded:
            raise
        except AgentError as exc:
            return self._failed(n, parent, None, f"analyzer: {exc}", usage, started)
        usage += reply.usage
        analysis = reply.analysis
        (it_dir / "prompt-analyzer.md").write_text(reply.prompt, encoding="utf-8")
        (it_dir / "response-analyzer.md").write_text(reply.response, encoding="utf-8")
        _write_json(it_dir / "analysis.json", analysis.model_dump())
        self.emit(LoopEvent("hypothesis", f"[{analysis.persona}] {analysis.hypothesis}", n))

        diff, failure, usage = self._code(analysis, files, parent, it_dir, usage)
        if failure is not None:
            return self._failed(n, parent, analysis, failure, usage, started)
        (it_dir / "candidate.diff").write_text(diff, encoding="utf-8")
        duplicate = next((r.iteration for r in state.iterations.values() if r.diff == diff), None)
        if duplicate is not None:
            return self._failed(n, parent, analysis, f"duplicate of iteration {duplicate}", usage,
                                started, diff)
        search, failure = self._verify(it_dir, n)
        if failure is not None:
            status: AttemptStatus = "flagged" if failure.startswith(INTEGRITY) else "failed"
            return self._failed(n, parent, analysis, failure, usage, started, diff, search, status)
        assert search is not None
        verdict = judge_search(state.baseline.search, search, self.config)
        status = "improved" if verdict.ok else "no_gain"
        return IterationRecorded(
            run_id=self.run_id, iteration=n, parent=parent.iteration if parent else None,
            hypothesis=analysis.hypothesis, persona=analysis.persona, plan=analysis.plan,
            diff=diff, diff_summary=diff_summary(diff), status=status, search=search,
            failure_reason=None if verdict.ok else verdict.reason,
            tokens=usage.tokens, usd=usage.usd, duration_s=time.monotonic() - started,
        )

    def _code(
        self, analysis: Analysis, files: dict[str, str], parent: IterationRecorded | None,
        it_dir: Path, usage: Usage,
    ) -> tuple[str, str | None, Usage]:
        """Ask the Coder for a diff, repairing up to MAX_REPAIRS times; returns (diff, failure, usage)."""
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
                return "", f"coder: {exc}", usage
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
        return "", f"patch: {feedback} (after {MAX_REPAIRS} repairs)", usage

    def _verify(self, it_dir: Path, n: int) -> tuple[EvalResult | None, str | None]:
        """Evaluate the worktree as it stands on the search seeds; (result, failure reason)."""
        restored = self.ws.restore_protected(self.policy.protected)
        if restored:
            self.emit(LoopEvent("protected_restored", f"restored protected files {restored}", n))
        files = self.ws.editable_files(self.policy)
        findings = check_diff(self.ws.diff_from_base(), self.policy.protected, self.config.evaluate.metrics,
                              files=files)
        if findings:
            shown = "; ".join(str(f) for f in findings[:5])
            more = f" (+{len(findings) - 5} more)" if len(findings) > 5 else ""
            self.emit(LoopEvent("flagged", f"iteration {n} flagged by the integrity check: {shown}", n))
            return None, f"{INTEGRITY}{shown}{more}"
        changed = [p for p in files if p.endswith(".py")]
        problem = compile_gate(self.ws.root, changed)
        if problem:
            return None, f"compile_error: {problem}"
        if self.config.evaluate.checks:
            problem = self.evaluator.run_checks(self.ws.project_root, it_dir / "logs")
            if problem:
                return None, f"check_failed: {problem}"
        tree = self.ws.tree_hash()
        self.emit(LoopEvent("evaluating", f"iteration {n}: evaluating on seeds "
                            f"{self.config.evaluate.seeds.search}", n))
        checkout = checkout_fingerprint(self.ws.repo)
        search = self.evaluator.evaluate(self.ws.project_root, tree, self.config.evaluate.seeds.search,
                                         it_dir / "logs")
        _write_json(it_dir / "metrics.json", search.model_dump())
        tampering = self._tampering(checkout)
        if tampering:
            self.emit(LoopEvent("flagged", f"iteration {n} flagged: {tampering}", n))
            return search, f"{INTEGRITY}{tampering}"
        if not search.ok:
            bad = search.first_failure
            assert bad is not None
            return search, f"{bad.failure}: seed {bad.seed}: {bad.reason}"
        return search, None

    def _tampering(self, checkout: str) -> str | None:
        """Why the evaluation that just ran counts as tampering (None if it does not).

        It changed protected files in the worktree (the harness, while it ran: the later seeds of
        the same evaluation would have used the changed harness), or wrote into the user's checkout.
        """
        restored = self.ws.restore_protected(self.policy.protected)
        if restored:
            return f"the candidate changed protected files while it ran: {', '.join(restored)}"
        if checkout_fingerprint(self.ws.repo) != checkout:
            return "the candidate wrote into the user's checkout while it ran (outside its worktree)"
        return None

    def _failed(
        self, n: int, parent: IterationRecorded | None, analysis: Analysis | None, reason: str,
        usage: Usage, started: float, diff: str = "", search: EvalResult | None = None,
        status: AttemptStatus = "failed",
    ) -> IterationRecorded:
        return IterationRecorded(
            run_id=self.run_id, iteration=n, parent=parent.iteration if parent else None,
            hypothesis=analysis.hypothesis if analysis else "(no hypothesis)",
            persona=analysis.persona if analysis else "none", plan=analysis.plan if analysis else "",
            diff=diff, diff_summary=diff_summary(diff) if diff else "", status=status, search=search,
            failure_reason=reason, tokens=usage.tokens, usd=usage.usd,
            duration_s=time.monotonic() - started,
        )

    def _should_stop(self, state: _State) -> str | None:
        loop = self.config.loop
        done = [state.iterations[k] for k in sorted(state.iterations)]
        best = self._parent(state)
        if loop.target is not None and best is not None and best.search is not None:
            value = best.search.mean(self.objective.metric)
            reached = value <= loop.target if self.objective.goal == "minimize" else value >= loop.target
            if reached:
                return f"target {loop.target} reached by iteration {best.iteration}"
        if loop.patience is not None and len(done) >= loop.patience:
            last_best = best.iteration if best else 0
            if done[-1].iteration - last_best >= loop.patience:
                return f"no new best for {loop.patience} iterations (patience)"
        tail = done[-loop.max_same_failures:]
        if len(tail) == loop.max_same_failures and all(r.status == "failed" for r in tail):
            kinds = {(r.failure_reason or "").split(":")[0] for r in tail}
            if len(kinds) == 1:
                return (f"paused: {loop.max_same_failures} consecutive failures for the same reason "
                        f"({kinds.pop()}); see the iteration logs")
        return None

    # ------------------------------------------------------------ selection
    def _select(self, state: _State) -> tuple[int | None, str]:
        """Post-hoc selection over all iterations; confirms finalists on held-out seeds."""
        assert state.baseline is not None
        metric, sign = self.objective.metric, (1 if self.objective.goal == "minimize" else -1)
        finalists = sorted(
            (r for r in state.iterations.values() if r.status == "improved" and r.search),
            key=lambda r: (sign * r.search.mean(metric) if r.search else 0.0, r.iteration),
        )[: self.config.loop.confirm_top]
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
        self.ws.restore_protected(self.policy.protected)
        tree = self.ws.tree_hash()
        checkout = checkout_fingerprint(self.ws.repo)
        result = self.evaluator.evaluate(self.ws.project_root, tree, self.config.evaluate.seeds.confirm,
                                         self.run_dir / str(n) / "logs")
        _write_json(self.run_dir / str(n) / "confirm.json", result.model_dump())
        verdict: Verdict = judge_confirmation(state.baseline.confirm, result, self.config)
        tampering = self._tampering(checkout)
        if tampering:
            verdict = Verdict(False, verdict.improvement, f"{INTEGRITY}{tampering}")
        conf = ConfirmationRecorded(run_id=self.run_id, iteration=n, confirm=result,
                                    confirmed=verdict.ok, reason=verdict.reason)
        self.journal.append(conf)
        self.emit(LoopEvent("confirmed" if verdict.ok else "not_confirmed", verdict.reason, n))
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
            f"{self.config.evaluate.seeds.confirm} (run {self.run_id}, iteration {winner})\n"
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


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
