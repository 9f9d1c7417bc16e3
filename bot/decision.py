"""The one rule that says whether a candidate is better than the baseline, on paired seeds.

Search acceptance, validation, held-out confirmation, the report's table, the sticky comment, the check
run and ``growthhacker verify`` all ask :func:`assess` (or :func:`judge`, its objective part), so they
cannot disagree about the same numbers. The arithmetic is in :mod:`bot.stats`.

The objective (README, "What counts as an improvement"): per seed, the gain is the log-ratio of
baseline to candidate (a difference scaled by the baseline's magnitude when the metric can be 0 or
negative). The candidate is **better** when a one-sided paired sign-flip test on those gains gives
p ≤ ``loop.level`` (1/8 by default), it wins more seeds than it loses, and its mean improves by more
than ``loop.min_improvement``; **worse** is the mirror image. Every gain positive gives p = 2**-n
whatever their sizes, so a heavy-tailed seed cannot weaken a unanimous result; a seed whose gain
outweighs all the others together gives p ≥ 1/2, so one lucky seed cannot carry the mean. When the
direction is consistent but the seeds are too few to reach the level, the answer is **undecided**
with about how many seeds would decide; otherwise **within noise**.

Guardrails are allowances on the mean: a guardrail holds while its mean is worse by at most
``max_regression`` (relative), and fails closed when it was not measured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from bot.config import Config, Goal, LoopConfig
from bot.results import EvalResult, RunSummary, SeedResult
from bot.stats import Comparison, compare, guardrail_regression, seeds_needed, sign_flip_p

Outcome = Literal["better", "worse", "within noise", "undecided"]
Conclusion = Literal["success", "neutral", "failure"]
#: The configured default of ``loop.level``: the smallest level three unanimous seeds reach (2**-3).
DEFAULT_LEVEL: float = LoopConfig.model_fields["level"].default
#: Float slack when comparing a p-value or a regression with its threshold (1/8 is exact, sums are not).
_SLACK = 1e-12


def pct(fraction: float) -> str:
    """``fraction`` as a signed percentage: "+48%", "+2.5%", "−91%" (one decimal below 10%, three
    significant digits from a million percent on); "—" for NaN."""
    if math.isnan(fraction):
        return "—"
    if math.isinf(fraction):
        return "+∞%" if fraction > 0 else "−∞%"
    if abs(fraction) >= 1e4:
        return f"{fraction * 100:+.3g}%".replace("-", "−")
    digits = 0 if abs(fraction) >= 0.1 else 1
    return f"{fraction * 100:+.{digits}f}%".replace("-", "−")


@dataclass(frozen=True)
class Decision:
    """What the rule decided about one metric, and why."""

    comparison: Comparison
    outcome: Outcome
    #: One-sided sign-flip p-value in the direction the seeds lean (NaN when they lean nowhere).
    p_value: float
    level: float
    #: About how many paired seeds would decide (only when ``outcome`` is "undecided").
    needed: int | None = None
    reason: str = ""

    @property
    def metric(self) -> str:
        """The metric decided on."""
        return self.comparison.metric

    @property
    def improvement(self) -> float:
        """Relative change of the mean, positive = better (NaN when the baseline mean is 0)."""
        return self.comparison.improvement

    @property
    def seeds(self) -> str:
        """The seeds the candidate won, e.g. "won 5/5 seeds"."""
        return f"won {self.comparison.wins}/{self.comparison.n} seeds"

    @property
    def label(self) -> str:
        """The verdict as the report and the check show it: "better (won 5/5 seeds)", "undecided (won
        2/3 seeds; needs about 18)", "within noise (won 1/3 seeds)"."""
        if self.comparison.n == 0:
            return f"{self.outcome} (no paired seeds)"
        needs = f"; needs about {self.needed}" if self.needed is not None else ""
        return f"{self.outcome} ({self.seeds}{needs})"


def judge(base: EvalResult, cand: EvalResult, metric: str, goal: Goal, *, min_improvement: float = 0.0,
          level: float = DEFAULT_LEVEL) -> Decision:
    """The paired verdict on ``metric`` of ``cand`` against ``base``: the bot's one rule (module doc).

    Only seeds that both evaluated successfully are paired. Returns the :class:`Decision`. Raises nothing.
    """
    return decide(compare(base, cand, metric, goal), min_improvement=min_improvement, level=level)


def decide(comparison: Comparison, *, min_improvement: float = 0.0, level: float = DEFAULT_LEVEL) -> Decision:
    """The rule applied to an already computed :class:`Comparison` (see :func:`judge`). Raises nothing."""
    c = comparison
    if c.n == 0:
        return Decision(c, "undecided", math.nan, level, None, f"no seed has {c.metric} in both results")
    if c.wins == 0 and c.losses == 0:
        return Decision(c, "within noise", math.nan, level, None, f"equal on all {c.n} seeds")
    change = _mean_change(c)
    direction: Outcome
    if c.wins > c.losses and c.gain > 0:
        direction, gains = "better", c.gains
    elif c.losses > c.wins and c.gain < 0:
        direction, gains = "worse", tuple(-g for g in c.gains)
    else:
        return Decision(c, "within noise", math.nan, level, None,
                        f"better on {c.wins}, worse on {c.losses} of {c.n} seeds, {change}: "
                        "no consistent direction")
    size = abs(c.improvement) if math.isfinite(c.improvement) else math.inf
    if size <= min_improvement:
        return Decision(c, "within noise", math.nan, level, None,
                        f"{change}, within loop.min_improvement ({min_improvement:.1%})")
    p = sign_flip_p(gains)
    if p <= level + _SLACK:
        return Decision(c, direction, p, level, None,
                        f"{direction} on {max(c.wins, c.losses)} of {c.n} seeds, {change}, "
                        f"p = {p:.3g} ≤ {level:.3g}")
    ties = c.n - c.wins - c.losses
    needed = seeds_needed(max(c.wins, c.losses), min(c.wins, c.losses), level)
    if needed is None:
        return Decision(c, "within noise", p, level, None,
                        f"leans {direction} ({change}) but p = {p:.3g} would need over 100 seeds")
    needed = max(needed + ties, c.n + 1)
    return Decision(c, "undecided", p, level, needed,
                    f"leans {direction} on {max(c.wins, c.losses)} of {c.n} seeds ({change}) but "
                    f"p = {p:.3g} > {level:.3g}: needs about {needed} seeds")


def _mean_change(c: Comparison) -> str:
    if not math.isfinite(c.improvement):
        return f"the mean changes by {c.delta:+.4g} (from 0)"
    if c.improvement == 0:
        return "the mean is unchanged"
    word = "improves" if c.improvement > 0 else "worsens"
    return f"the mean {word} by {pct(abs(c.improvement))[1:]}"


@dataclass(frozen=True)
class Allowance:
    """A guardrail as a verdict needs it; ``max_regression`` is None for runs that did not record it."""

    metric: str
    goal: Goal
    max_regression: float | None


@dataclass(frozen=True)
class GuardrailCheck:
    """Whether a guardrail metric stayed within its allowance."""

    allowance: Allowance
    #: Relative change of the mean (+0.48 = 48% higher; NaN when not measured or the base mean is 0).
    change: float
    #: How much worse, relative (0 when equal or better, inf from a base of 0, NaN when not measured).
    regression: float
    #: The measured means (NaN when not measured): "+492%" alone does not say whether 2 s became 12 s.
    base_mean: float = math.nan
    cand_mean: float = math.nan

    @property
    def holds(self) -> bool:
        """True while the regression is within the allowance (an unknown allowance always holds)."""
        if math.isnan(self.regression):
            return False
        limit = self.allowance.max_regression
        return limit is None or self.regression <= limit + _SLACK

    @property
    def allowed(self) -> str:
        """The allowance as a signed change of the metric: "+200%" (minimize) or "−20%" (maximize)."""
        limit = self.allowance.max_regression
        if limit is None:
            return "?"
        return pct(limit if self.allowance.goal == "minimize" else -limit)

    @property
    def label(self) -> str:
        """"within allowance (+48% of +200%)" or "breaks allowance (+250% of +200%)"."""
        if math.isnan(self.regression):
            return "breaks allowance (not measured)"
        change = "from 0" if math.isinf(self.regression) else pct(self.change)
        if self.allowance.max_regression is None:
            return f"{change} (allowance not recorded)"
        word = "within allowance" if self.holds else "breaks allowance"
        return f"{word} ({change} of {self.allowed})"

    @property
    def reason(self) -> str:
        """One sentence naming the metric, its measured means, the change and the allowance."""
        if math.isfinite(self.base_mean) and math.isfinite(self.cand_mean):
            return f"{self.allowance.metric} {self.base_mean:.4g} → {self.cand_mean:.4g}: {self.label}"
        return f"{self.allowance.metric}: {self.label}"


@dataclass(frozen=True)
class Criteria:
    """Everything a verdict depends on: the objective, the guardrails, the minimum effect, the level."""

    metric: str
    goal: Goal
    guardrails: tuple[Allowance, ...] = ()
    min_improvement: float = 0.0
    level: float = DEFAULT_LEVEL

    @classmethod
    def of(cls, config: Config) -> Criteria:
        """The criteria of a configuration."""
        evaluate = config.evaluate
        return cls(
            metric=evaluate.objective.metric,
            goal=evaluate.objective.goal,
            guardrails=tuple(Allowance(g.metric, g.goal, g.max_regression) for g in evaluate.guardrails),
            min_improvement=config.loop.min_improvement,
            level=config.loop.level,
        )

    @classmethod
    def of_run(cls, run: RunSummary) -> Criteria:
        """The criteria a recorded run was judged by (runs from before they were recorded: the defaults)."""
        goals = run.goals
        return cls(
            metric=run.metric,
            goal=run.goal,
            guardrails=tuple(Allowance(name, goals[name], run.allowances.get(name))
                             for name in run.guardrails),
            min_improvement=run.min_improvement,
            level=run.level if run.level is not None else DEFAULT_LEVEL,
        )

    @property
    def goals(self) -> dict[str, Goal]:
        """Objective and guardrail metrics (objective first) mapped to their direction."""
        goals: dict[str, Goal] = {self.metric: self.goal}
        for allowance in self.guardrails:
            goals.setdefault(allowance.metric, allowance.goal)
        return goals


@dataclass(frozen=True)
class Assessment:
    """The whole verdict on a candidate: its objective, its guardrails, and whether it ran at all."""

    objective: Decision
    guardrails: tuple[GuardrailCheck, ...]
    #: The candidate's first failed seed, if any.
    failure: SeedResult | None

    @property
    def broken(self) -> tuple[GuardrailCheck, ...]:
        """The guardrails that do not hold."""
        return tuple(check for check in self.guardrails if not check.holds)

    @property
    def ok(self) -> bool:
        """True when the candidate counts: evaluated on every seed, better, every guardrail holding."""
        return self.failure is None and self.objective.outcome == "better" and not self.broken

    @property
    def conclusion(self) -> Conclusion:
        """The check run's conclusion: success when ``ok``; failure when a seed failed, a guardrail broke
        or the objective is worse; neutral otherwise (within noise, undecided)."""
        if self.ok:
            return "success"
        if self.failure is not None or self.broken or self.objective.outcome == "worse":
            return "failure"
        return "neutral"


def assess(base: EvalResult, cand: EvalResult, criteria: Criteria) -> Assessment:
    """Judge ``cand`` against ``base`` on every criterion. Returns the :class:`Assessment`. Raises nothing."""
    objective = judge(base, cand, criteria.metric, criteria.goal,
                      min_improvement=criteria.min_improvement, level=criteria.level)
    checks = []
    for allowance in criteria.guardrails:
        comparison = compare(base, cand, allowance.metric, allowance.goal)
        regression = guardrail_regression(base, cand, allowance.metric, allowance.goal)
        checks.append(GuardrailCheck(allowance, comparison.relative, regression,
                                     comparison.base_mean, comparison.cand_mean))
    return Assessment(objective, tuple(checks), cand.first_failure)

