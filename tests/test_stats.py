"""Paired arithmetic: numbers checked by hand, per-seed gains, exact p-values, guardrails, missing seeds."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.results import EvalResult, SeedResult
from bot.stats import binomial_tail, compare, guardrail_regression, seeds_needed, sign_flip_p


def evaluation(values: dict[int, float], metric: str = "m", failed: tuple[int, ...] = ()) -> EvalResult:
    seeds = [SeedResult(seed=s, ok=True, metrics={metric: v}) for s, v in values.items()]
    seeds += [SeedResult(seed=s, ok=False, failure="crash", reason="exit 1") for s in failed]
    return EvalResult(tree="t", seeds=seeds)


# --- compare: known numbers ------------------------------------------------------------------------


def test_gains_are_log_ratios_for_a_positive_metric() -> None:
    base = evaluation({0: 1.0, 1: 10.0})
    cand = evaluation({0: 0.5, 1: 5.0})

    result = compare(base, cand, "m", "minimize")

    assert result.scale == "log-ratio"
    assert result.gains == pytest.approx((math.log(2), math.log(2)))


def test_gains_are_scaled_differences_when_the_metric_can_be_negative() -> None:
    base = evaluation({0: -1.0, 1: 3.0})  # mean magnitude 2
    cand = evaluation({0: 0.0, 1: 2.0})

    result = compare(base, cand, "m", "maximize")

    assert result.scale == "difference"
    assert result.gains == pytest.approx((0.5, -0.5))


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


def test_missing_metric_gives_nan() -> None:
    result = compare(evaluation({0: 1.0}), evaluation({0: 1.0}, metric="other"), "m", "minimize")

    assert result.n == 0
    assert math.isnan(result.delta) and math.isnan(result.base_mean)


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=12))
def test_delta_is_the_mean_difference_and_wins_and_losses_follow_the_gains(
    pairs: list[tuple[float, float]],
) -> None:
    base = evaluation({i: b for i, (b, _) in enumerate(pairs)})
    cand = evaluation({i: c for i, (_, c) in enumerate(pairs)})

    result = compare(base, cand, "m", "minimize")

    assert result.delta == pytest.approx(result.cand_mean - result.base_mean, abs=1e-6)
    assert result.wins + result.losses <= result.n == len(result.gains)
    for (b, c), gain in zip(pairs, result.gains, strict=True):
        assert gain == 0 or (gain > 0) == (c < b), "a positive gain means lower (better) when minimising"


# --- exact p-values --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3, 5, 8])
def test_unanimous_gains_give_two_to_the_minus_n_whatever_their_sizes(n: int) -> None:
    gains = [10.0 ** k for k in range(n)]  # one seed dwarfs the rest

    assert sign_flip_p(gains) == 2.0**-n


def test_one_gain_outweighing_all_others_gives_at_least_a_half() -> None:
    assert sign_flip_p([5.0, -0.1, -0.2, -0.1, -0.3]) >= 0.5


def test_sign_flip_p_counts_the_assignments_at_least_as_extreme() -> None:
    # |g| = 3, 2, 1; observed sum 4 (+3 +2 -1). Sums >= 4: (+3 +2 +1) = 6 and (+3 +2 -1) = 4.
    assert sign_flip_p([3.0, 2.0, -1.0]) == 2 / 8


def test_sign_flip_p_is_one_without_gains_and_a_half_for_a_single_win() -> None:
    assert sign_flip_p([]) == 1.0
    assert sign_flip_p([0.7]) == 0.5


def test_many_seeds_use_a_reproducible_monte_carlo_estimate() -> None:
    gains = [1.0] * 15 + [-1.0] * 5

    p = sign_flip_p(gains)

    assert p == sign_flip_p(gains)
    assert p == pytest.approx(binomial_tail(15, 20), abs=0.01)


def test_binomial_tail_matches_hand_computation() -> None:
    assert binomial_tail(3, 3) == 1 / 8
    assert binomial_tail(4, 5) == 6 / 32
    assert binomial_tail(0, 4) == 1.0
    assert binomial_tail(5, 4) == 0.0


def test_seeds_needed_for_unanimous_wins_is_the_first_power_of_two_below_the_level() -> None:
    assert seeds_needed(2, 0, 0.125) == 3
    assert seeds_needed(3, 0, 0.05) == 5


def test_seeds_needed_grows_as_the_wins_thin_out_and_is_none_without_a_majority() -> None:
    three_quarters = seeds_needed(3, 1, 0.125)
    two_thirds = seeds_needed(2, 1, 0.125)

    assert three_quarters is not None and two_thirds is not None and three_quarters < two_thirds
    assert binomial_tail(math.ceil(2 / 3 * two_thirds), two_thirds) <= 0.125
    assert seeds_needed(1, 1, 0.125) is None
    assert seeds_needed(0, 0, 0.125) is None


# --- guardrails ------------------------------------------------------------------------------------


def test_guardrail_regression_is_the_relative_worsening() -> None:
    assert guardrail_regression(evaluation({0: 10.0}), evaluation({0: 12.5}), "m", "minimize") == 0.25


def test_guardrail_regression_is_zero_when_the_metric_improves() -> None:
    assert guardrail_regression(evaluation({0: 10.0}), evaluation({0: 8.0}), "m", "minimize") == 0.0


def test_guardrail_regression_follows_a_maximize_goal() -> None:
    regression = guardrail_regression(evaluation({0: 0.8}), evaluation({0: 0.6}), "m", "maximize")

    assert regression == pytest.approx(0.25)


def test_guardrail_regression_is_nan_when_missing() -> None:
    assert math.isnan(guardrail_regression(evaluation({0: 1.0}), evaluation({0: 1.0}), "absent", "minimize"))


def test_guardrail_regression_from_zero_is_infinite() -> None:
    assert guardrail_regression(evaluation({0: 0.0}), evaluation({0: 1.0}), "m", "minimize") == math.inf
