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
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from bot.agents.base import Agent, Analysis, AnalyzerContext, CoderRequest, Usage
from bot.config import Config
from bot.errors import AgentError, BudgetExceeded, JournalError, PatchError
from bot.evaluate import Evaluator
from bot.gate import Gate, Refusal, write_json
from bot.harness import ReadOnlyExcerpt, read_only_context
from bot.journal import IterationRecorded, Journal, RunFinished, RunStarted
from bot.patch import diff_summary
from bot.results import Attempt, AttemptStatus, EvalResult, RunSummary
from bot.rounds import Proposal, Slots
from bot.runstate import EventSink, LoopEvent, RunState, describe, failed_record, seeds_of
from bot.selection import incumbent, judge_confirmation, judge_search, ranks_above, stop_reason
from bot.tiers import Tiers, baseline_failure, baseline_ok
from bot.workspace import Workspace, candidate_message

__all__ = ["MAX_REPAIRS", "EventSink", "Loop", "LoopEvent"]

#: Bounded repair: a refused diff goes back to the Coder at most this many times.
MAX_REPAIRS = 2


class Loop:
    """One run of the inner loop on a workspace. Construct, then call :meth:`run` (a search shard:
    :meth:`search`; the gather of a sharded run, which needs no ``agent``: :meth:`conclude`, and
    one of its finalists confirmed apart: :meth:`confirm_finalist`)."""

    def __init__(
        self,
        *,
        config: Config,
        workspace: Workspace,
        evaluator: Evaluator,
        journal: Journal,
        agent: Agent | None,
        run_id: str,
        run_dir: Path,
        iterations: int | None = None,
        hints: list[str] | None = None,
        on_event: EventSink | None = None,
        branch_prefix: str | None = None,
        deadline: float | None = None,
        numbers: Sequence[int] | None = None,
        shard: int = 0,
    ) -> None:
        self.config = config
        self.ws = workspace
        self.evaluator = evaluator
        self.journal = journal
        self.agent = agent
        self.run_id = run_id
        self.run_dir = run_dir
        self.iterations = config.loop.iterations if iterations is None else iterations
        #: The iteration numbers this loop runs: all of them, or a search shard's slice of them.
        self.numbers = list(range(1, self.iterations + 1)) if numbers is None else list(numbers)
        #: Which slice of the exploration this loop searches (0 for a run that is not sharded).
        self.shard = shard
        self.hints = hints or []
        self.emit: EventSink = on_event or (lambda event: None)
        #: time.monotonic() after which no iteration starts (None: no limit).
        self.deadline = deadline
        self.branch = f"{branch_prefix or config.github.branch_prefix}{run_id}"
        self.policy = workspace.policy(config.edit)
        self.objective = config.evaluate.objective
        notify = lambda kind, message, n: self.emit(LoopEvent(kind, message, n))  # noqa: E731
        self.gate = Gate(config, workspace, self.policy, evaluator, notify)
        self.read_only: list[ReadOnlyExcerpt] | None = None
        self.slots = Slots(config=config, workspace=workspace, policy=self.policy, evaluator=evaluator,
                           run_id=run_id, notify=notify)
        self.tiers = Tiers(config=config, workspace=workspace, policy=self.policy, gate=self.gate,
                           evaluator=evaluator, journal=journal, run_id=run_id, run_dir=run_dir,
                           notify=notify)

    # ------------------------------------------------------------------ run
    def run(self, resume: bool = False) -> RunSummary:
        """Run (or resume) to the end and return the summary; the journal records every step."""
        state = self._start(resume)
        assert state.baseline is not None
        if not baseline_ok(state.baseline):
            return self._finish(winner=None, reason=baseline_failure(state.baseline))
        return self._conclude(state, self._iterate(state))

    def search(self, resume: bool = False) -> str | None:
        """A search shard's part of a run: the start, the baseline and this loop's iterations, with
        no selection (the gather selects over every shard); returns why it stopped early (or why the
        baseline cannot be compared against), None when it ran all its iterations."""
        state = self._start(resume)
        assert state.baseline is not None
        if not baseline_ok(state.baseline):
            return baseline_failure(state.baseline)
        return self._iterate(state)

    def conclude(self, stopped: str | None = None) -> RunSummary:
        """The gather's part of a sharded run: selection over the iterations merged from its shards,
        held-out confirmation and the winner's branch, as :meth:`run` ends (``stopped``: why shards
        stopped early); a finished run is only summarised again. Raises JournalError: no baseline."""
        records = self.journal.by_run(self.run_id)
        if any(isinstance(r, RunFinished) for r in records):
            return self.journal.summary(self.run_id)
        state = RunState.from_records(records)
        if state.baseline is None:
            raise JournalError(f"run {self.run_id} has no baseline in {self.journal.path}: gather its "
                               "shards first")
        if not baseline_ok(state.baseline):
            return self._finish(winner=None, reason=baseline_failure(state.baseline))
        return self._conclude(state, stopped)

    def confirm_finalist(self, index: int) -> int | None:
        """Confirmation ``index`` of a gathered run (:mod:`bot.finalists`): its ``index``-th distinct
        finalist (0 = best) on the held-out seeds, recorded as the gather records it; returns that
        iteration, or None when the run has no such finalist or its baseline failed.

        Raises:
            JournalError: the run has no baseline in the journal.
        """
        state = RunState.from_records(self.journal.by_run(self.run_id))
        if state.baseline is None:
            raise JournalError(f"run {self.run_id} has no baseline in {self.journal.path}")
        finalists = self.tiers.finalists(state) if baseline_ok(state.baseline) else []
        if index >= len(finalists):
            return None
        if finalists[index].iteration not in state.confirmations:
            self.tiers.confirm(state.baseline, finalists[index])
        return finalists[index].iteration

    def _start(self, resume: bool) -> RunState:
        """The run's state: recorded so far (``resume``), or a new run started and its baseline."""
        state = RunState.from_records(self.journal.by_run(self.run_id)) if resume else RunState()
        assert self.agent is not None, "only a loop that concludes a gathered run has no agent"
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
        return state

    def _conclude(self, state: RunState, stopped: str | None) -> RunSummary:
        winner, reason = self.tiers.select(state)
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
    def _iterate(self, state: RunState) -> str | None:
        """Run the remaining iterations, ``loop.round_size`` at a time; returns why it stopped early."""
        start = max(state.iterations, default=0) + 1
        todo = [n for n in self.numbers if n >= start]
        size = self.config.loop.round_size
        try:
            for at in range(0, len(todo), size):
                if self.deadline is not None and time.monotonic() >= self.deadline:
                    self.emit(LoopEvent("stopped", "time limit reached", todo[at]))
                    return "time limit reached"
                records, exhausted = self._round(state, todo[at : at + size])
                for record in records:
                    state.iterations[record.iteration] = record
                    self.journal.append(record)
                    self.emit(LoopEvent("iteration_done", describe(record, self.objective.metric),
                                        record.iteration))
                last = todo[min(at + size, len(todo)) - 1]
                if exhausted is not None:
                    self.emit(LoopEvent("stopped", f"budget exhausted: {exhausted}", last))
                    return f"budget exhausted: {exhausted}"
                stop = stop_reason(state.iterations, self.config)
                if stop:
                    self.emit(LoopEvent("stopped", stop, last))
                    return stop
        finally:
            self.slots.close()
        return None

    def _parent(self, state: RunState) -> IterationRecorded | None:
        return incumbent(state.iterations.values(), self.objective)

    def _round(self, state: RunState, numbers: list[int]) -> tuple[list[IterationRecorded], str | None]:
        """One round: a proposal per iteration number, all built on the same incumbent, then their
        search evaluations (side by side for more than one: :mod:`bot.rounds`), judged in order;
        returns the records and, if the budget ran out, why (what was proposed is still recorded)."""
        parent = self._parent(state)
        done: dict[int, IterationRecorded] = {}
        pending: list[Proposal] = []
        exhausted: str | None = None
        for n in numbers:
            try:
                outcome = self._propose(state, n, parent, pending)
            except BudgetExceeded as exc:
                exhausted = str(exc)
                break
            if isinstance(outcome, IterationRecorded):
                done[n] = outcome
            else:
                pending.append(outcome)
        if len(pending) == 1:  # the Coder left the candidate applied in the loop's own worktree
            searched = [self.gate.search(pending[0].it_dir, pending[0].n)]
        else:
            searched = self.slots.search(pending)
        for proposal, (search, refusal) in zip(pending, searched, strict=True):
            rival = incumbent([*state.iterations.values(), *done.values()], self.objective)
            done[proposal.n] = self._measure(state, proposal, search, refusal, rival, len(pending) > 1)
        return [done[n] for n in sorted(done)], exhausted

    def _propose(
        self, state: RunState, n: int, parent: IterationRecorded | None, earlier: list[Proposal],
    ) -> Proposal | IterationRecorded:
        """Iteration ``n``'s hypothesis and diff on ``parent``, or its record when it failed before
        any evaluation (the agent, the patch engine, a duplicate)."""
        started = time.monotonic()
        it_dir = self.run_dir / str(n)
        it_dir.mkdir(parents=True, exist_ok=True)
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
            shard=self.shard,
            proposed=[p.analysis.hypothesis for p in earlier],
        )
        usage = Usage()
        assert self.agent is not None
        self.emit(LoopEvent("analyzing", f"iteration {n}/{self.iterations}: asking the analyzer", n))
        try:
            reply = self.agent.analyzer.analyze(context)
        except BudgetExceeded:
            raise
        except AgentError as exc:
            refusal = Refusal("analyzer", f"analyzer: {exc}")
            return failed_record(self.run_id, n, parent, None, refusal, usage, started)
        usage += reply.usage
        analysis = reply.analysis
        (it_dir / "prompt-analyzer.md").write_text(reply.prompt, encoding="utf-8")
        (it_dir / "response-analyzer.md").write_text(reply.response, encoding="utf-8")
        write_json(it_dir / "analysis.json", analysis.model_dump())
        self.emit(LoopEvent("hypothesis", f"[{analysis.persona}] {analysis.hypothesis}", n))

        diff, refused, usage = self._code(analysis, files, parent, incumbent, it_dir, usage)
        if refused is not None:
            return failed_record(self.run_id, n, parent, analysis, refused, usage, started)
        (it_dir / "candidate.diff").write_text(diff, encoding="utf-8")
        duplicate = next((r.iteration for r in state.iterations.values() if r.diff == diff),
                         next((p.n for p in earlier if p.diff == diff), None))
        if duplicate is not None:
            dup = Refusal("duplicate", f"duplicate of iteration {duplicate}")
            return failed_record(self.run_id, n, parent, analysis, dup, usage, started, diff)
        return Proposal(n=n, started=started, it_dir=it_dir, parent=parent, analysis=analysis, diff=diff,
                        usage=usage)

    def _measure(
        self, state: RunState, p: Proposal, search: EvalResult | None, refusal: Refusal | None,
        rival: IterationRecorded | None, elsewhere: bool,
    ) -> IterationRecorded:
        """The record of proposal ``p`` evaluated on the search seeds (``search``, or the gate's
        ``refusal``), validated when it is better and ahead of ``rival`` (the best so far); the
        validation runs in the loop's worktree, where ``elsewhere`` says the candidate is not yet."""
        n, parent, analysis, diff, usage, started = p.n, p.parent, p.analysis, p.diff, p.usage, p.started
        fail = partial(failed_record, self.run_id, n, parent, analysis)
        if refusal is not None:
            status: AttemptStatus = "flagged" if refusal.kind == "integrity" else "failed"
            return fail(refusal, usage, started, diff, search, status)
        assert search is not None and state.baseline is not None
        verdict = judge_search(state.baseline.search, search, self.config)
        validation: EvalResult | None = None
        ahead = ranks_above(search, rival, self.objective)
        if verdict.ok and self.config.evaluate.seeds.validation and ahead:
            if elsewhere:
                self.ws.reset()
                self.ws.apply(diff, self.policy)
            validation, verdict, tampering = self.tiers.validate(state.baseline, n, p.it_dir)
            if tampering is not None:
                return fail(tampering, usage, started, diff, search, "flagged")
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
            assert self.agent is not None
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

    # ------------------------------------------------------------ selection
    def _confirm_improvement(self, state: RunState, winner: int) -> float:
        assert state.baseline is not None
        return judge_confirmation(state.baseline.confirm, state.confirmations[winner].confirm,
                                  self.config).improvement

    def _commit_winner(self, state: RunState, winner: int, improvement: float) -> str:
        record = state.iterations[winner]
        message = candidate_message(record.hypothesis, self.objective.metric, improvement,
                                    seeds_of(state.confirmations[winner].confirm), self.run_id, winner)
        self.ws.commit_candidate(self.branch, record.diff, message, self.policy)
        self.emit(LoopEvent("committed", f"committed the winner on branch {self.branch}", winner))
        return self.branch
