"""The loop's pure choices: which candidate is the incumbent, and when the loop stops early."""

from __future__ import annotations

from typing import Any

from bot.config import Config, parse_config
from bot.journal import IterationRecorded
from bot.results import AttemptStatus, EvalResult, IterationFailure, SeedResult
from bot.selection import (
    improved,
    incumbent,
    judge_confirmation,
    judge_search,
    judge_validation,
    stop_reason,
)


def config(goal: str = "minimize", **loop: Any) -> Config:
    lines = [f"  {key}: {value}" for key, value in loop.items()]
    text = (
        "evaluate:\n  command: python eval.py --seed {seed} --out {metrics_path}\n"
        f"  objective: {{metric: err, goal: {goal}}}\n"
        "edit:\n  paths: ['pipeline/**']\n"
        + ("loop:\n" + "\n".join(lines) + "\n" if lines else "")
    )
    return parse_config(text)


def it(n: int, status: AttemptStatus, err: float | None = None, reason: str | None = None,
       kind: IterationFailure | None = None, persona: str = "p",
       details: dict[str, str] | None = None) -> IterationRecorded:
    search = None
    if err is not None:
        search = EvalResult(tree=f"t{n}", seeds=[SeedResult(seed=0, ok=True, metrics={"err": err})])
    return IterationRecorded(run_id="r", iteration=n, hypothesis=f"h{n}", persona=persona, status=status,
                             search=search, failure_reason=reason, failure_kind=kind, details=details or {})


def test_incumbent_is_the_best_improved_iteration_when_minimising() -> None:
    records = [it(1, "improved", 0.5), it(2, "no_gain", 0.1), it(3, "improved", 0.3), it(4, "failed")]

    best = incumbent(records, config().evaluate.objective)

    assert best is not None and best.iteration == 3


def test_incumbent_follows_the_goal_when_maximising() -> None:
    records = [it(1, "improved", 0.5), it(2, "improved", 0.3)]

    best = incumbent(records, config(goal="maximize").evaluate.objective)

    assert best is not None and best.iteration == 1


def test_ties_go_to_the_earlier_iteration_and_no_improvement_means_no_incumbent() -> None:
    objective = config().evaluate.objective
    ranked = improved([it(2, "improved", 0.3), it(1, "improved", 0.3)], objective)

    assert [r.iteration for r in ranked] == [1, 2]
    assert incumbent([it(1, "no_gain", 0.9), it(2, "failed")], objective) is None


def test_target_reached_stops_the_loop() -> None:
    records = {1: it(1, "improved", 0.04)}

    assert stop_reason(records, config(target=0.05)) == "target 0.05 reached by iteration 1"
    assert stop_reason(records, config(target=0.01)) is None


def test_patience_counts_iterations_since_the_last_new_best() -> None:
    records = {1: it(1, "improved", 0.4), 2: it(2, "no_gain", 0.9), 3: it(3, "no_gain", 0.8)}

    assert stop_reason(records, config(patience=2)) == "no new best for 2 iterations (patience)"
    assert stop_reason(records, config(patience=3)) is None


def test_repeated_failures_of_one_kind_pause_but_mixed_kinds_do_not() -> None:
    same = {n: it(n, "failed", reason=f"evaluation failed ({n})", kind="timeout") for n in (1, 2, 3)}
    mixed = {1: it(1, "failed", reason="evaluation failed", kind="timeout"),
             2: it(2, "failed", reason="evaluation failed", kind="crash"),
             3: it(3, "failed", reason="evaluation failed", kind="timeout")}

    reason = stop_reason(same, config(max_same_failures=3))

    assert reason is not None and reason.startswith("paused: 3 consecutive failures")
    assert "(timeout)" in reason
    assert stop_reason(mixed, config(max_same_failures=3)) is None, "the kind counts, not the wording"


def test_records_without_a_failure_kind_fall_back_to_the_reasons_first_word() -> None:
    same = {n: it(n, "failed", reason="timeout: seed 0: 600 s") for n in (1, 2, 3)}
    mixed = {1: it(1, "failed", reason="timeout: x"), 2: it(2, "failed", reason="crash: y"),
             3: it(3, "failed", reason="timeout: z")}

    reason = stop_reason(same, config(max_same_failures=3))

    assert reason is not None and reason.startswith("paused: 3 consecutive failures")
    assert "(timeout)" in reason
    assert stop_reason(mixed, config(max_same_failures=3)) is None


def results(*values: float) -> EvalResult:
    seeds = [SeedResult(seed=i, ok=True, metrics={"err": v}) for i, v in enumerate(values)]
    return EvalResult(tree="t", seeds=seeds)


def test_a_candidate_counts_on_any_tier_only_when_the_rule_says_better() -> None:
    base = results(1.0, 2.0, 3.0)

    better = judge_search(base, results(0.5, 1.0, 1.5), config())
    leaning = judge_confirmation(base, results(0.5, 1.0, 3.5), config())

    assert better.ok
    assert better.reason == "err −50% on the search seeds: better (won 3/3 seeds), guardrails hold"
    assert not leaning.ok and leaning.kind == "not_better"
    assert "undecided (won 2/3 seeds; needs about" in leaning.reason


def test_only_a_finalist_leaning_better_asks_for_more_seeds() -> None:
    base = results(1.0, 2.0, 3.0)

    assert judge_confirmation(base, results(0.5, 1.0, 3.5), config()).needed is not None
    assert judge_confirmation(base, results(1.5, 3.0, 2.5), config()).needed is None


def test_a_candidate_that_does_not_hold_on_the_validation_seeds_did_not_validate() -> None:
    verdict = judge_validation(results(1.0, 2.0, 3.0), results(1.5, 2.5, 3.5), config())

    assert (verdict.ok, verdict.kind) == (False, "not_validated")
    assert verdict.reason == "did not validate: err +25% on the validation seeds: worse (won 0/3 seeds)"


def test_the_same_failure_in_changing_families_of_change_does_not_pause() -> None:
    """An agent that moves to another family after each crash still has something to try."""
    kinds = ("estimator-swap", "estimator-knob", "reward-swap")
    moving = {n: it(n, "failed", kind="crash", details={"kind": k}) for n, k in enumerate(kinds, 1)}
    stuck = {n: it(n, "failed", kind="crash", details={"kind": "estimator-swap"}) for n in (1, 2, 3)}
    personas = {n: it(n, "failed", kind="crash", persona=p)
                for n, p in enumerate(("estimator", "hyperparameter", "estimator"), 1)}

    reason = stop_reason(stuck, config(max_same_failures=3))

    assert stop_reason(moving, config(max_same_failures=3)) is None
    assert stop_reason(personas, config(max_same_failures=3)) is None, "without a move kind, the persona"
    assert reason is not None and "(crash) in the same family of change (estimator-swap)" in reason
