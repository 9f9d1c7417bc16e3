"""Paired statistics: numbers checked by hand, verdict boundaries, guardrails, missing seeds."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import Guardrail
from bot.results import EvalResult, SeedResult
from bot.stats import Comparison, compare, guardrail_holds, guardrail_regression, t_critical_95


def evaluation(values: dict[int, float], metric: str = "m", failed: tuple[int, ...] = ()) -> EvalResult:
    seeds = [SeedResult(seed=s, ok=True, metrics={metric: v}) for s, v in values.items()]
    seeds += [SeedResult(seed=s, ok=False, failure="crash", reason="exit 1") for s in failed]
    return EvalResult(tree="t", seeds=seeds)


def comparison(goal: str, delta: float, n: int, ci: tuple[float, float]) -> Comparison:
    rel = delta  # base_mean 1.0
    return Comparison(
        metric="m",
        goal="minimize" if goal == "minimize" else "maximize",
        n=n,
        base_mean=1.0,
        cand_mean=1.0 + delta,
        delta=delta,
        relative=rel,
        improvement=-rel if goal == "minimize" else rel,
        wins=0,
        losses=0,
        ci_low=ci[0],
        ci_high=ci[1],
    )


# --- t table ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("df", "expected"), [(1, 12.706), (2, 4.303), (4, 2.776), (30, 2.042)])
def test_t_critical_matches_the_table(df: int, expected: float) -> None:
    assert t_critical_95(df) == expected


def test_t_critical_beyond_30_is_the_normal_quantile() -> None:
    assert t_critical_95(31) == 1.96


def test_t_critical_rejects_zero_degrees_of_freedom() -> None:
    with pytest.raises(ValueError, match="degrees of freedom"):
        t_critical_95(0)


def test_t_critical_decreases_towards_the_normal_quantile() -> None:
    values = [t_critical_95(df) for df in range(1, 40)]

    assert all(a >= b for a, b in itertools.pairwise(values))
    assert min(values) == 1.96


# --- compare: known numbers ------------------------------------------------------------------------


def test_paired_ci_matches_hand_computation() -> None:
    # diffs = [-0.2, -0.1, -0.4]: mean -0.23333, sd 0.152753, se 0.0881917, t(2) = 4.303.
    base = evaluation({0: 1.0, 1: 2.0, 2: 3.0})
    cand = evaluation({0: 0.8, 1: 1.9, 2: 2.6})

    result = compare(base, cand, "m", "minimize")

    assert result.n == 3
    assert result.delta == pytest.approx(-0.233333, abs=1e-6)
    assert result.ci_low == pytest.approx(-0.233333 - 0.379489, abs=1e-5)
    assert result.ci_high == pytest.approx(-0.233333 + 0.379489, abs=1e-5)


def test_means_relative_and_improvement_for_minimize() -> None:
    base = evaluation({0: 1.0, 1: 3.0})
    cand = evaluation({0: 0.5, 1: 2.5})

    result = compare(base, cand, "m", "minimize")

    assert (result.base_mean, result.cand_mean, result.delta) == (2.0, 1.5, -0.5)
    assert result.relative == -0.25
    assert result.improvement == 0.25


def test_improvement_sign_flips_for_maximize() -> None:
    base = evaluation({0: 1.0, 1: 3.0})
    cand = evaluation({0: 0.5, 1: 2.5})

    result = compare(base, cand, "m", "maximize")

    assert result.relative == -0.25
    assert result.improvement == -0.25


def test_relative_is_nan_when_the_base_mean_is_zero() -> None:
    result = compare(evaluation({0: 0.0, 1: 0.0}), evaluation({0: 1.0, 1: 1.0}), "m", "maximize")

    assert math.isnan(result.relative)
    assert math.isnan(result.improvement)


def test_wins_and_losses_count_strict_differences_only() -> None:
    base = evaluation({0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0})
    cand = evaluation({0: 0.5, 1: 0.7, 2: 1.0, 3: 2.0})

    result = compare(base, cand, "m", "minimize")

    assert (result.wins, result.losses) == (2, 1)


def test_wins_follow_the_goal() -> None:
    base = evaluation({0: 1.0, 1: 1.0, 2: 1.0})
    cand = evaluation({0: 0.5, 1: 0.7, 2: 2.0})

    result = compare(base, cand, "m", "maximize")

    assert (result.wins, result.losses) == (1, 2)


def test_ci_is_nan_for_a_single_paired_seed() -> None:
    result = compare(evaluation({0: 1.0}), evaluation({0: 0.5}), "m", "minimize")

    assert result.n == 1
    assert math.isnan(result.ci_low) and math.isnan(result.ci_high)


# --- missing seeds ---------------------------------------------------------------------------------


def test_only_seeds_ok_in_both_are_paired() -> None:
    base = evaluation({0: 1.0, 1: 2.0, 2: 3.0})
    cand = evaluation({0: 0.5, 3: 9.0}, failed=(1,))

    result = compare(base, cand, "m", "minimize")

    assert result.n == 1
    assert (result.base_mean, result.cand_mean) == (1.0, 0.5)


def test_failed_baseline_seed_is_not_paired() -> None:
    base = evaluation({0: 1.0}, failed=(1,))
    cand = evaluation({0: 0.5, 1: 0.1})

    assert compare(base, cand, "m", "minimize").n == 1


def test_missing_metric_gives_nan_and_unchanged() -> None:
    result = compare(evaluation({0: 1.0}), evaluation({0: 1.0}, metric="other"), "m", "minimize")

    assert result.n == 0
    assert math.isnan(result.delta) and math.isnan(result.base_mean)
    assert result.verdict == "unchanged"


# --- verdicts --------------------------------------------------------------------------------------


def test_consistent_decrease_is_improved_when_minimizing() -> None:
    # diffs = [-0.1, -0.2, -0.1, -0.2]: CI = -0.15 ± 3.182 * 0.0288675 = [-0.2419, -0.0581].
    base = evaluation({0: 1.0, 1: 2.0, 2: 3.0, 3: 4.0})
    cand = evaluation({0: 0.9, 1: 1.8, 2: 2.9, 3: 3.8})

    result = compare(base, cand, "m", "minimize")

    assert result.ci_high == pytest.approx(-0.058142, abs=1e-5)
    assert result.verdict == "improved"


def test_consistent_decrease_is_regressed_when_maximizing() -> None:
    base = evaluation({0: 1.0, 1: 2.0, 2: 3.0, 3: 4.0})
    cand = evaluation({0: 0.9, 1: 1.8, 2: 2.9, 3: 3.8})

    assert compare(base, cand, "m", "maximize").verdict == "regressed"


def test_better_mean_with_ci_spanning_zero_is_unchanged() -> None:
    base = evaluation({0: 1.0, 1: 2.0, 2: 3.0})
    cand = evaluation({0: 0.8, 1: 1.9, 2: 2.6})

    result = compare(base, cand, "m", "minimize")

    assert result.improvement > 0
    assert result.verdict == "unchanged"


def test_ci_touching_zero_is_unchanged() -> None:
    assert comparison("minimize", -0.1, n=3, ci=(-0.2, 0.0)).verdict == "unchanged"


def test_ci_just_excluding_zero_on_the_good_side_is_improved() -> None:
    assert comparison("minimize", -0.1, n=3, ci=(-0.2, -1e-9)).verdict == "improved"


def test_ci_excluding_zero_on_the_bad_side_is_regressed_for_maximize() -> None:
    assert comparison("maximize", -0.1, n=3, ci=(-0.2, -1e-9)).verdict == "regressed"


def test_single_seed_verdict_follows_the_sign() -> None:
    assert comparison("maximize", 0.1, n=1, ci=(math.nan, math.nan)).verdict == "improved"
    assert comparison("maximize", -0.1, n=1, ci=(math.nan, math.nan)).verdict == "regressed"


def test_no_change_is_unchanged_even_with_a_zero_width_ci() -> None:
    assert comparison("minimize", 0.0, n=3, ci=(0.0, 0.0)).verdict == "unchanged"


def test_verdict_works_when_base_mean_is_zero() -> None:
    result = compare(evaluation({0: 0.0, 1: 0.0}), evaluation({0: 1.0, 1: 1.0}), "m", "maximize")

    assert result.verdict == "improved"


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(st.lists(st.tuples(finite, finite), min_size=2, max_size=12))
def test_ci_is_centred_on_delta_and_delta_is_the_mean_difference(pairs: list[tuple[float, float]]) -> None:
    base = evaluation({i: b for i, (b, _) in enumerate(pairs)})
    cand = evaluation({i: c for i, (_, c) in enumerate(pairs)})

    result = compare(base, cand, "m", "minimize")

    assert result.ci_low <= result.delta <= result.ci_high
    assert result.delta == pytest.approx(result.cand_mean - result.base_mean, abs=1e-6)
    assert result.ci_high - result.delta == pytest.approx(result.delta - result.ci_low, abs=1e-6)


# --- guardrails ------------------------------------------------------------------------------------


def test_guardrail_regression_is_the_relative_worsening() -> None:
    guard = Guardrail(metric="m", max_regression=0.2)

    assert guardrail_regression(evaluation({0: 10.0}), evaluation({0: 12.5}), guard) == 0.25


def test_guardrail_regression_is_zero_when_the_metric_improves() -> None:
    guard = Guardrail(metric="m", max_regression=0.2)

    assert guardrail_regression(evaluation({0: 10.0}), evaluation({0: 8.0}), guard) == 0.0


def test_guardrail_regression_follows_a_maximize_goal() -> None:
    guard = Guardrail(metric="m", max_regression=0.2, goal="maximize")

    assert guardrail_regression(evaluation({0: 0.8}), evaluation({0: 0.6}), guard) == pytest.approx(0.25)


def test_guardrail_regression_is_nan_when_missing() -> None:
    guard = Guardrail(metric="absent")

    assert math.isnan(guardrail_regression(evaluation({0: 1.0}), evaluation({0: 1.0}), guard))


def test_guardrail_regression_from_zero_is_infinite() -> None:
    guard = Guardrail(metric="m", max_regression=10.0)

    assert guardrail_regression(evaluation({0: 0.0}), evaluation({0: 1.0}), guard) == math.inf


def test_guardrail_holds_at_exactly_the_allowance() -> None:
    ok, reason = guardrail_holds(
        evaluation({0: 10.0}), evaluation({0: 12.0}), Guardrail(metric="m", max_regression=0.2)
    )

    assert ok
    assert "20.0%" in reason


def test_guardrail_fails_beyond_the_allowance_and_says_by_how_much() -> None:
    ok, reason = guardrail_holds(
        evaluation({0: 10.0}), evaluation({0: 12.5}), Guardrail(metric="m", max_regression=0.2)
    )

    assert not ok
    assert reason == "m 10 → 12.5: worse by 25.0%, more than the allowed 20.0%"


def test_guardrail_with_missing_metric_fails_closed() -> None:
    ok, reason = guardrail_holds(
        evaluation({0: 1.0}), evaluation({0: 1.0}, failed=(1,)), Guardrail(metric="rt")
    )

    assert not ok
    assert reason.startswith("rt:")


def test_guardrail_holds_when_it_improves() -> None:
    ok, reason = guardrail_holds(evaluation({0: 10.0}), evaluation({0: 5.0}), Guardrail(metric="m"))

    assert ok
    assert "no regression" in reason
