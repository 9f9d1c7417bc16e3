"""Paired arithmetic over seeds: means, per-seed gains, and the exact p-values the decision rule uses.

Everything here is pure. Seeds are paired by seed number: a candidate and the baseline evaluated on the
same seed see the same simulated data, so the per-seed comparison removes most of the between-seed
noise. *Whether* a change is better is decided in one place, :mod:`bot.decision`, from these numbers.

Per-seed OPE errors are heavy-tailed: one hard seed can have ten times the error of the others, for
the baseline and the candidate alike. For a metric that is positive on every seed the per-seed gain
is therefore the log-ratio of baseline to candidate (a 90% cut counts the same on an easy and a hard
seed); a metric that can be zero or negative (an estimated value, a reward) uses the difference,
scaled by the baseline's mean magnitude.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from bot.results import EvalResult

Goal = Literal["minimize", "maximize"]
#: How per-seed gains were computed: log-ratios (metric positive everywhere) or scaled differences.
Scale = Literal["log-ratio", "difference"]
#: A per-seed gain this close to 0 is a tie: the seed favours neither side.
TIE = 1e-9
#: Up to this many paired seeds the sign-flip p-value is exact (2**n assignments enumerated).
_EXACT_SEEDS = 16
_MONTE_CARLO_DRAWS = 20_000


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
    #: Paired seeds where the candidate is strictly better / strictly worse (ties excluded).
    wins: int
    losses: int
    #: Per-seed gains, positive = better for the goal, in seed order (see ``scale``).
    gains: tuple[float, ...] = ()
    scale: Scale = "difference"

    @property
    def gain(self) -> float:
        """``delta`` signed so that positive is better for the goal (defined even when base_mean is 0)."""
        return self.delta if self.goal == "maximize" else -self.delta


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
        return Comparison(metric, goal, 0, nan, nan, nan, nan, nan, 0, 0)
    base_vals = np.array([base_by_seed[s] for s in seeds], dtype=float)
    cand_vals = np.array([cand_by_seed[s] for s in seeds], dtype=float)
    diffs = cand_vals - base_vals
    base_mean = float(base_vals.mean())
    cand_mean = float(cand_vals.mean())
    delta = float(diffs.mean())
    relative = delta / abs(base_mean) if base_mean != 0 else math.nan
    improvement = relative if goal == "maximize" else -relative
    gains, scale = paired_gains(base_vals, cand_vals, goal)
    return Comparison(
        metric=metric,
        goal=goal,
        n=n,
        base_mean=base_mean,
        cand_mean=cand_mean,
        delta=delta,
        relative=relative,
        improvement=improvement,
        wins=int((gains > TIE).sum()),
        losses=int((gains < -TIE).sum()),
        gains=tuple(float(g) for g in gains),
        scale=scale,
    )


def paired_gains(base: np.ndarray, cand: np.ndarray, goal: Goal) -> tuple[np.ndarray, Scale]:
    """Per-seed gains of ``cand`` over ``base`` (positive = better for ``goal``) and their scale.

    Log-ratios when every value on both sides is positive (and finite); otherwise differences divided by the
    baseline's mean magnitude (1 when that is 0), so ties and wins mean the same on either scale.
    Raises nothing.
    """
    sign = 1.0 if goal == "maximize" else -1.0
    if base.size and bool((base > 0).all() and (cand > 0).all()):
        with np.errstate(over="ignore", divide="ignore"):
            logs = sign * (np.log(cand) - np.log(base))
        if bool(np.isfinite(logs).all()):
            return logs, "log-ratio"
    magnitude = float(np.abs(base).mean()) if base.size else 0.0
    return sign * (cand - base) / (magnitude or 1.0), "difference"


def sign_flip_p(gains: tuple[float, ...] | list[float]) -> float:
    """One-sided p-value of the paired sign-flip (randomisation) test that the gains are centred on 0
    against the alternative that they are positive.

    Returns the share of the 2**n sign assignments whose sum is at least the observed sum: exact up to
    16 seeds, a seeded Monte-Carlo estimate beyond. With every gain positive it is 2**-n whatever the
    magnitudes (a heavy-tailed seed cannot weaken a unanimous result), and when one seed's gain
    outweighs all the others together it is at least 1/2 (one lucky seed cannot carry it). Returns 1
    for no gains. Raises nothing.
    """
    values = np.asarray(gains, dtype=float)
    n = values.size
    if n == 0:
        return 1.0
    observed = float(values.sum())
    magnitudes = np.abs(values)
    slack = 1e-12 * max(1.0, float(magnitudes.sum()))
    if n <= _EXACT_SEEDS:
        codes = np.arange(1 << n, dtype=np.int64)[:, None] >> np.arange(n)
        signs = 1.0 - 2.0 * (codes & 1)
        sums = signs @ magnitudes
        return int(np.count_nonzero(sums >= observed - slack)) / (1 << n)
    rng = np.random.default_rng(0)
    signs = rng.choice((-1.0, 1.0), size=(_MONTE_CARLO_DRAWS, n))
    hits = int(np.count_nonzero(signs @ magnitudes >= observed - slack))
    return (hits + 1) / (_MONTE_CARLO_DRAWS + 1)


def binomial_tail(k: int, n: int) -> float:
    """P(X ≥ k) for X ~ Binomial(n, 1/2): the one-sided sign-test p-value of k wins in n. Raises nothing."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return sum(math.comb(n, i) for i in range(k, n + 1)) / (1 << n)


def seeds_needed(wins: int, losses: int, level: float, cap: int = 100) -> int | None:
    """About how many non-tied paired seeds a sign test needs to reach ``level`` if further seeds split
    like these (``wins`` of ``wins + losses``), or None if it never would within ``cap`` seeds.

    A rough guide: the sign test ignores magnitudes, so this is too many when the wins are large and
    the losses small, and too few when a loss outweighs the wins. Raises nothing.
    """
    total = wins + losses
    if total == 0 or wins <= losses:
        return None
    share = wins / total
    for n in range(max(total, 1), cap + 1):
        if binomial_tail(math.ceil(share * n - 1e-9), n) <= level:
            return n
    return None


def guardrail_regression(base: EvalResult, cand: EvalResult, metric: str, goal: Goal) -> float:
    """How much a guardrail ``metric`` got worse, relative to the baseline mean (0.25 = 25% worse).

    Returns 0 if it stayed equal or improved, ``inf`` if it got worse from a baseline mean of exactly
    0 (any relative allowance is exceeded), and NaN if no seed has the metric in both results.
    Raises nothing.
    """
    comparison = compare(base, cand, metric, goal)
    if comparison.n == 0:
        return math.nan
    if comparison.gain >= 0:
        return 0.0
    if comparison.base_mean == 0:
        return math.inf
    return -comparison.improvement
