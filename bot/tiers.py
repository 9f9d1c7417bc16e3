"""The seed tiers after the search: the base commit on every tier, a would-be incumbent on the
validation seeds, a finalist once on the held-out seeds (extended while its verdict is undecided).

The loop evaluates every candidate on the search seeds itself; this module owns the other two tiers
and the baseline records that go with them. One rule judges every tier (:mod:`bot.selection`, which
asks :mod:`bot.decision`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.config import Config
from bot.evaluate import Evaluator
from bot.gate import Gate, Refusal, write_json
from bot.journal import BaselineRecorded, ConfirmationRecorded, IterationRecorded, Journal
from bot.patch import PathPolicy
from bot.results import EvalResult
from bot.runstate import RunState, seeds_of
from bot.selection import Verdict, distinct_finalists, judge_confirmation, judge_validation
from bot.workspace import Workspace

#: ``(kind, message, iteration or None)`` — the loop turns these into its progress events.
Notify = Callable[[str, str, int | None], None]


class Tiers:
    """Evaluations on the validation and held-out tiers, for one run on one workspace."""

    def __init__(self, *, config: Config, workspace: Workspace, policy: PathPolicy, gate: Gate,
                 evaluator: Evaluator, journal: Journal, run_id: str, run_dir: Path,
                 notify: Notify) -> None:
        self.config = config
        self.seeds = config.evaluate.seeds
        self.ws = workspace
        self.policy = policy
        self.gate = gate
        self.evaluator = evaluator
        self.journal = journal
        self.run_id = run_id
        self.run_dir = run_dir
        self.notify = notify

    # ------------------------------------------------------------- baseline
    def baseline(self) -> BaselineRecorded:
        """The base commit evaluated on the search, validation and held-out seeds, recorded."""
        seeds = self.seeds
        validation = f", {seeds.validation} (validation)" if seeds.validation else ""
        self.notify("baseline", f"evaluating the base commit {self.ws.base[:8]} on seeds "
                    f"{seeds.search} (search){validation} and {seeds.confirm} (held-out)", None)
        search = self.evaluate_base(seeds.search)
        validate = self.evaluate_base(seeds.validation) if seeds.validation else None
        confirm = self.evaluate_base(seeds.confirm)
        record = self._record(search, confirm, validate)
        metric = self.config.evaluate.objective.metric
        if baseline_ok(record):
            self.notify("baseline_done", f"baseline {metric} = {search.mean(metric):.4g} "
                        f"± {search.stdev(metric):.2g} (search seeds)", None)
        else:
            self.notify("baseline_failed", baseline_failure(record), None)
        return record

    def with_validation(self, baseline: BaselineRecorded) -> BaselineRecorded:
        """``baseline`` (of a run begun without a validation tier) evaluated on the validation seeds too."""
        validate = self.evaluate_base(self.seeds.validation)
        return self._record(baseline.search, baseline.confirm, validate)

    def evaluate_base(self, seeds: list[int]) -> EvalResult:
        """The base commit evaluated on ``seeds`` (cached by tree: repeating a seed costs nothing).
        Leaves the worktree at the base commit."""
        self.ws.reset()
        self.ws.restore_protected(self.policy.protected)
        return self.evaluator.evaluate(self.ws.project_root, self.ws.tree_hash(), seeds,
                                       self.run_dir / "baseline")

    def _record(self, search: EvalResult, confirm: EvalResult,
                validate: EvalResult | None) -> BaselineRecorded:
        record = BaselineRecorded(run_id=self.run_id, search=search, confirm=confirm, validation=validate)
        self.journal.append(record)
        metrics = {"search": search.model_dump(), "confirm": confirm.model_dump(),
                   "validation": validate.model_dump() if validate else None}
        write_json(self.run_dir / "baseline" / "metrics.json", metrics)
        return record

    # ----------------------------------------------------------- validation
    def validate(self, baseline: BaselineRecorded, n: int,
                 it_dir: Path) -> tuple[EvalResult, Verdict, Refusal | None]:
        """The candidate in the worktree (better on the search seeds, ahead of the incumbent) on the
        validation seeds; returns (result, verdict, tampering refusal or None)."""
        assert baseline.validation is not None
        self.notify("validating", f"iteration {n}: better on the search seeds; validating on seeds "
                    f"{self.seeds.validation}", n)
        result, tampering = self.gate.held(self.seeds.validation, it_dir, "validation")
        verdict = judge_validation(baseline.validation, result, self.config)
        if tampering is None:
            self.notify("validated" if verdict.ok else "not_validated", verdict.reason, n)
        return result, verdict, tampering

    def finalists(self, state: RunState) -> list[IterationRecorded]:
        """The iterations of ``state`` confirmed on the held-out seeds, best first: the
        ``loop.confirm_top`` best distinct ones that improved on the search seeds."""
        return distinct_finalists(state.iterations.values(), self.config.evaluate.objective,
                                  self.config.loop.confirm_top)

    def select(self, state: RunState) -> tuple[int | None, str]:
        """Post-hoc selection over all iterations of ``state``: the best distinct finalists confirmed
        on the held-out seeds (recorded in ``state``); returns the winner (or None) and why."""
        assert state.baseline is not None
        objective = self.config.evaluate.objective
        finalists = self.finalists(state)
        if not finalists:
            tried = len(state.iterations)
            return None, (f"no improvement: none of {tried} iteration(s) beat the baseline on the search "
                          "seeds with every guardrail holding")
        confirmed: list[tuple[float, int]] = []
        for record in finalists:
            conf = state.confirmations.get(record.iteration)
            if conf is None:
                conf, state.baseline = self.confirm(state.baseline, record)
            state.confirmations[record.iteration] = conf
            if conf.confirmed:
                verdict = judge_confirmation(state.baseline.confirm, conf.confirm, self.config)
                confirmed.append((verdict.improvement, record.iteration))
        if not confirmed:
            names = ", ".join(str(r.iteration) for r in finalists)
            return None, (f"no improvement: iteration(s) {names} beat the baseline on the search seeds "
                          "but did not confirm on the held-out seeds")
        improvement, winner = max(confirmed)
        held_out = seeds_of(state.confirmations[winner].confirm)
        return winner, (f"iteration {winner} improves {objective.metric} by {improvement:+.1%} on the "
                        f"held-out seeds {held_out}")


    # -------------------------------------------------------------- held-out
    def confirm(self, baseline: BaselineRecorded,
                record: IterationRecorded) -> tuple[ConfirmationRecorded, BaselineRecorded]:
        """Finalist ``record`` on the held-out seeds, with up to ``evaluate.seeds.extend`` more while
        its verdict is undecided; returns its recorded confirmation and the baseline (superseded by a
        new record when seeds were added)."""
        n = record.iteration
        self.notify("confirming", f"confirming iteration {n} on held-out seeds {self.seeds.confirm}", n)
        it_dir = self.run_dir / str(n)
        self.ws.reset()
        self.ws.apply(record.diff, self.policy)
        result, tampering = self.gate.held(self.seeds.confirm, it_dir, "confirm")
        verdict = judge_confirmation(baseline.confirm, result, self.config)
        extra = self.seeds.extension(self.seeds.extend)
        while tampering is None and verdict.needed is not None:
            have = {s.seed for s in result.seeds}
            room = [seed for seed in extra if seed not in have]
            if not room:
                break
            more = room[: max(1, verdict.needed - len(result.seeds))]
            self.notify("extending", f"iteration {n}: {verdict.reason}; adding held-out seeds {more}", n)
            # The baseline's extra seeds are cached by tree, so the next finalist gets them for free.
            baseline = self._record(baseline.search, baseline.confirm.extended(self.evaluate_base(more)),
                                    baseline.validation)
            self.ws.apply(record.diff, self.policy)
            added, tampering = self.gate.held(more, it_dir, "confirm-extension")
            result = result.extended(added)
            verdict = judge_confirmation(baseline.confirm, result, self.config)
        write_json(it_dir / "confirm.json", result.model_dump())
        confirmed, reason = (False, tampering.reason) if tampering else (verdict.ok, verdict.reason)
        conf = ConfirmationRecorded(run_id=self.run_id, iteration=n, confirm=result,
                                    confirmed=confirmed, reason=reason)
        self.journal.append(conf)
        self.notify("confirmed" if confirmed else "not_confirmed", reason, n)
        return conf, baseline


def baseline_ok(baseline: BaselineRecorded) -> bool:
    """Whether the unmodified repository evaluated cleanly on every tier it was evaluated on."""
    validation = baseline.validation
    return baseline.search.ok and baseline.confirm.ok and (validation is None or validation.ok)


def baseline_failure(baseline: BaselineRecorded) -> str:
    """Why the baseline cannot be compared against, for the run's verdict."""
    validation = baseline.validation.first_failure if baseline.validation else None
    failed = baseline.search.first_failure or validation or baseline.confirm.first_failure
    detail = f"seed {failed.seed}: {failed.failure}: {failed.reason}" if failed else "no seeds"
    return (f"the unmodified repository fails its own evaluation ({detail}); "
            "fix the eval command or the code, then run again")
