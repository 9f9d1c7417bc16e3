"""Paired statistics over seeds: is a candidate better than the baseline, and do guardrails hold?

Everything here is pure. Seeds are paired by seed number: a candidate and the baseline evaluated on the
same seed see the same simulated data, so the per-seed difference removes most of the between-seed
noise (with 5 seeds, sd ≈ mean is common for relative errors; comparing means alone hides real effects).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from bot.config import Guardrail
from bot.results import EvalResult

Goal = Literal["minimize", "maximize"]
ComparisonVerdict = Literal["improved", "regressed", "unchanged"]

# Two-sided 95% critical values of Student's t (the 97.5% quantile) for df = 1..30.
_T_975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_critical_95(df: int) -> float:
    """The two-sided 95% critical value of Student's t with ``df`` degrees of freedom.

    Returns the tabulated 97.5% quantile for df 1..30 and the normal value 1.96 beyond.

    Raises:
        ValueError: ``df`` is below 1 (a CI needs at least two paired seeds).
    """
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    return _T_975[df - 1] if df <= len(_T_975) else 1.96


@dataclass(frozen=True)
class Comparison:
    """A paired comparison of one metric between a baseline and a candidate."""

    metric: str
    goal: Goal
    #: Paired seeds: present, ok and carrying the metric in both results.
    n: int
    base_mean: float
    cand_mean: float
    #: cand_mean - base_mean (equals the mean paired difference).
    delta: float
    #: delta / |base_mean|; NaN if base_mean is 0 or there are no paired seeds.
    relative: float
    #: ``relative`` signed so that positive is better for the goal.
    improvement: float
    #: Paired seeds where the candidate is strictly better / strictly worse.
    wins: int
    losses: int
    #: 95% t-interval of the mean paired difference (cand - base); NaN when n < 2.
    ci_low: float
    ci_high: float

    @property
    def gain(self) -> float:
        """``delta`` signed so that positive is better for the goal (defined even when base_mean is 0)."""
        return self.delta if self.goal == "maximize" else -self.delta

    @property
    def verdict(self) -> ComparisonVerdict:
        """``improved`` / ``regressed`` when the change is on that side and the CI excludes 0 there.

        With a single paired seed there is no CI, so the sign of the change decides; with none, or
        when the CI contains 0, the answer is ``unchanged`` (within noise).
        """
        if self.n == 0 or not math.isfinite(self.gain) or self.gain == 0:
            return "unchanged"
        if self.n < 2:
            return "improved" if self.gain > 0 else "regressed"
        # Map the CI of (cand - base) onto the "better" axis: for minimize, lower differences are better.
        if self.goal == "maximize":
            good_low, good_high = self.ci_low, self.ci_high
        else:
            good_low, good_high = -self.ci_high, -self.ci_low
        if self.gain > 0 and good_low > 0:
            return "improved"
        if self.gain < 0 and good_high < 0:
            return "regressed"
        return "unchanged"


def compare(base: EvalResult, cand: EvalResult, metric: str, goal: Goal) -> Comparison:
    """Compare ``metric`` of ``cand`` against ``base`` over the seeds both evaluated successfully.

    Returns a :class:`Comparison`; means are taken over the paired seeds only, so ``delta`` is the
    mean paired difference. With no paired seed every number is NaN and ``n`` is 0. Raises nothing.
    """
    base_by_seed = base.by_seed(metric)
    cand_by_seed = cand.by_seed(metric)
    seeds = [seed for seed in base_by_seed if seed in cand_by_seed]
    n = len(seeds)
    if n == 0:
        nan = math.nan
        return Comparison(metric, goal, 0, nan, nan, nan, nan, nan, 0, 0, nan, nan)
    base_vals = np.array([base_by_seed[s] for s in seeds], dtype=float)
    cand_vals = np.array([cand_by_seed[s] for s in seeds], dtype=float)
    diffs = cand_vals - base_vals
    base_mean = float(base_vals.mean())
    cand_mean = float(cand_vals.mean())
    delta = float(diffs.mean())
    relative = delta / abs(base_mean) if base_mean != 0 else math.nan
    improvement = relative if goal == "maximize" else -relative
    better = diffs > 0 if goal == "maximize" else diffs < 0
    worse = diffs < 0 if goal == "maximize" else diffs > 0
    ci_low = ci_high = math.nan
    if n >= 2:
        half = t_critical_95(n - 1) * float(diffs.std(ddof=1)) / math.sqrt(n)
        ci_low, ci_high = delta - half, delta + half
    return Comparison(
        metric=metric,
        goal=goal,
        n=n,
        base_mean=base_mean,
        cand_mean=cand_mean,
        delta=delta,
        relative=relative,
        improvement=improvement,
        wins=int(better.sum()),
        losses=int(worse.sum()),
        ci_low=ci_low,
        ci_high=ci_high,
    )


def guardrail_regression(base: EvalResult, cand: EvalResult, guardrail: Guardrail) -> float:
    """How much the guardrail metric got worse, relative to the baseline mean (0.25 = 25% worse).

    Returns 0 if it stayed equal or improved, ``inf`` if it got worse from a baseline mean of exactly
    0 (any relative allowance is exceeded), and NaN if no seed has the metric in both results.
    Raises nothing.
    """
    comparison = compare(base, cand, guardrail.metric, guardrail.goal)
    if comparison.n == 0:
        return math.nan
    if comparison.gain >= 0:
        return 0.0
    if comparison.base_mean == 0:
        return math.inf
    return -comparison.improvement


def guardrail_holds(base: EvalResult, cand: EvalResult, guardrail: Guardrail) -> tuple[bool, str]:
    """Whether ``cand`` keeps ``guardrail`` relative to ``base``.

    Returns ``(ok, reason)``: the reason is one sentence naming the metric, the regression and the
    allowance. A metric missing from either result does not hold (fail closed). Raises nothing.
    """
    regression = guardrail_regression(base, cand, guardrail)
    name = guardrail.metric
    allowed = f"{guardrail.max_regression:.1%}"
    if math.isnan(regression):
        return False, f"{name}: no seed has this metric in both baseline and candidate"
    if regression == 0:
        return True, f"{name}: no regression (allowed {allowed})"
    worse = "from a baseline of 0" if math.isinf(regression) else f"by {regression:.1%}"
    # The measured means too: "+492%" alone does not say whether 2 s became 12 s or 0.1 s 0.6 s.
    comparison = compare(base, cand, name, guardrail.goal)
    values = f"{name} {comparison.base_mean:.4g} → {comparison.cand_mean:.4g}"
    # A tiny tolerance so that a regression of exactly the allowance is not lost to float rounding.
    if regression <= guardrail.max_regression + 1e-12:
        return True, f"{values}: worse {worse}, within the allowed {allowed}"
    return False, f"{values}: worse {worse}, more than the allowed {allowed}"
