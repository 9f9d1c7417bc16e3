"""Every weight the heuristic agent scores moves with, in one table (``WEIGHTS``), each with its reason.

A move's score is its prior (what OPE knowledge expects of it on the files as they are: the class
priors below, the knob priors, the pipeline-knob relevance) plus the journal's and the hints'
adjustments (``bot.agents.heuristic.scoring``). Scores only order moves: what matters is which side of
another move a value puts a move on, so each comment says which moves a value is meant to beat or
to fall behind. ``tests/golden/heuristic/`` holds the full ranking of every fixture pipeline: a change
here shows in review as a diff there (regenerate with ``GROWTHHACKER_UPDATE_GOLDEN=1``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


def _estimator_priors() -> dict[str, dict[str, int]]:
    """Priors of estimators as swap targets, by library then class (higher is tried earlier)."""
    return {
        "obp": {
            # Self-normalised DR first: DR's reward-model baseline plus bounded weights is the safest
            # gain over the usual IPW baseline.
            "SelfNormalizedDoublyRobust": 85,
            # Self-normalised IPW next: needs no reward model, so it works where DR cannot.
            "SelfNormalizedInverseProbabilityWeighting": 80,
            # Plain DR: unbiased with less variance than IPW, but its weights are unbounded.
            "DoublyRobust": 78,
            # Shrinkage / switch DR: a little bias for less variance; set with a default threshold.
            "DoublyRobustWithShrinkage": 72,
            "SwitchDoublyRobust": 70,
            # The tuning variants pick their threshold on the logged data: good but slower and
            # noisier on small logs, so each goes just below its fixed-threshold sibling.
            "DoublyRobustWithShrinkageTuning": 68,
            "SwitchDoublyRobustTuning": 66,
            "DoublyRobustTuning": 62,
            # Sub-Gaussian corrections help with heavy-tailed weights only: after the DR family.
            "SubGaussianDoublyRobust": 60,
            "SubGaussianInverseProbabilityWeighting": 55,
            "SubGaussianDoublyRobustTuning": 52,
            "InverseProbabilityWeightingTuning": 50,
            "SubGaussianInverseProbabilityWeightingTuning": 45,
            # The Direct Method is as wrong as the reward model: tried late.
            "DirectMethod": 35,
            # Plain IPW is the usual baseline: swapping back to it rarely helps.
            "InverseProbabilityWeighting": 30,
        },
        "scope-rl": {
            # The same order as obp's: self-normalised DR, then self-normalised per-decision IS.
            "SelfNormalizedDR": 85,
            "SelfNormalizedPDIS": 80,
            "DoublyRobust": 78,
            # Per-decision IS weights each reward only up to its own step: much less variance than TIS.
            "PerDecisionImportanceSampling": 75,
            "SelfNormalizedTIS": 60,
            # DM is the FQE value: as good as FQE's training.
            "DirectMethod": 35,
            # Trajectory-wise IS: its variance explodes with the horizon.
            "TrajectoryWiseImportanceSampling": 30,
        },
    }


def _reward_model_priors() -> dict[str, int]:
    """Priors of scikit-learn reward models as swap targets."""
    return {
        # Histogram boosting: usually the most accurate on tabular contexts, and fast.
        "HistGradientBoostingClassifier": 60,
        "HistGradientBoostingRegressor": 60,
        # Random forests: non-linear with robust defaults.
        "RandomForestClassifier": 50,
        "RandomForestRegressor": 50,
        # Classic boosting: as accurate as the histogram version, much slower.
        "GradientBoostingClassifier": 40,
        # The linear models are the usual starting point: a swap to them rarely helps.
        "LogisticRegression": 30,
        "Ridge": 30,
        "LinearRegression": 20,
    }


def _relevance() -> dict[str, dict[str, float]]:
    """How much each scope-rl pipeline knob matters, by the estimators the files construct.

    Situations (``bot.ope.knobs.relevance`` picks one): ``unknown`` (no scope-rl estimator in the
    editable files: a middling value), then from the most to the least affected.
    """
    return {
        "fqe-steps": {
            # DM alone: the estimate *is* the FQE value; its training length is the first lever.
            "dm-only": 70.0, "dm": 50.0,
            # DR uses FQE as a control variate only; IS estimators never read it.
            "dr": 35.0, "none": 5.0, "unknown": 25.0,
        },
        "fqe-folds": {
            # Cross-fitting removes DR's overfitting bias most; DM gains less; IS nothing.
            "dr": 30.0, "dm": 25.0, "none": 3.0, "unknown": 10.0,
        },
        "bandwidth": {
            # Continuous-action weights multiply over the horizon: an unbounded estimator suffers most,
            # a self-normalised one less; a continuous DM and discrete actions not at all.
            "kernel-unbounded": 50.0, "kernel-self-normalized": 20.0, "continuous-dm": 3.0, "discrete": 0.0,
            "unknown": 15.0,
        },
        "reward-after-done": {
            # Every IS/DR estimate loses the final reward of each episode; DM does not read rewards.
            "weighting": 55.0, "dm-only": 3.0, "unknown": 20.0,
        },
    }


def _exploit() -> dict[str, float]:
    """Boost of a move that builds on the best improvement, by move kind (faded by patience)."""
    return {
        # Knob + 60 = 100 > the best swap prior (85): a fresh improvement is tuned before exploring.
        "estimator-knob": 60.0, "estimator-swap": 60.0,
        # A reward model matters through the estimator only: a little below the estimator's own knobs.
        "reward-knob": 50.0, "reward-swap": 50.0,
        # FQE training and the final reward move scope-rl estimates as much as a reward model does.
        "value-model": 50.0, "data-handling": 50.0,
        # A kernel change on top helps less often than FQE training (it trades variance for bias).
        "kernel": 40.0,
        # Fold counts move the estimate least: exploited after the rest.
        "folds": 25.0,
        # A swap with the model it needs, re-proposed on top of an improvement: as a swap.
        "add-model": 60.0,
    }


@dataclass(frozen=True)
class Weights:
    """The heuristic's scoring weights (score points unless stated)."""

    # --- class priors (bot.ope.specs) ------------------------------------------------------------
    estimator_priors: Mapping[str, Mapping[str, int]] = field(default_factory=_estimator_priors)
    reward_model_priors: Mapping[str, int] = field(default_factory=_reward_model_priors)

    # --- swaps (bot.ope.moves) -------------------------------------------------------------------
    #: Swap to an estimator that needs reward predictions where nothing computes them: it would most
    #: likely crash, so it goes below every estimator that can run (85 - 60 < 30).
    needs_missing_rewards: float = 60.0
    #: The same swap together with the model it needs (``bot.ope.structure``): a larger change that
    #: adds a fit, so a little below the class's own prior: SNDR + reward model (85 - 10 = 75) goes
    #: after SNIPW (80), which needs nothing new, and before plain DR (78 - 10).
    adds_model: float = 10.0
    #: Expected runtime factors of those moves: one ridge fit per fold (obp) is cheap next to
    #: importing obp; FQE (scope-rl) dominates a pipeline that fitted none.
    reward_model_cost: float = 1.5
    value_model_cost: float = 8.0
    #: A move on an estimator whose estimate nothing reads by name while another's is read: it most
    #: likely does not reach the objective. Every such swap (up to 85) goes below the knobs (40) of
    #: the estimator that is read.
    unread_estimator: float = 50.0
    #: DR/DM to an IPW-family estimator: giving up a reward model that is already there rarely helps,
    #: so SNIPW (80) falls to 55, behind the DR-family alternatives.
    drops_reward_model: float = 25.0
    #: Continuous-action estimator weighting by kernel-smoothed densities: the weights multiply over the
    #: horizon (1e13-1e66 measured on scope-rl's BasicEnv). Unbounded (plain IS/DR) ones go below every
    #: self-normalised alternative; self-normalised ones a little below their discrete rank.
    kernel_unbounded: float = 40.0
    kernel_self_normalized: float = 10.0
    #: A swap re-proposed with one knob of its target set (exploiting a swap that improved): level with
    #: a knob of the class in place.
    swap_variant: float = 40.0
    #: Reward-model swap while an estimator uses the reward model: base + prior / divisor, so the best
    #: (60) scores 50, in the range of the estimator swaps after the DR family.
    reward_swap: float = 20.0
    reward_swap_prior_divisor: float = 2.0
    #: ... and while no estimator uses it: prior / divisor (at most 12), below every estimator move.
    reward_swap_idle_divisor: float = 5.0

    # --- knobs of estimators, reward models and folds (bot.ope.moves) -----------------------------
    #: A knob of the estimator in place: below the DR/SN swaps (60-85), above DM and plain IPW.
    estimator_knob: float = 40.0
    #: obp's RegressionModel fitting method aims the fit at the evaluation policy: a little above a
    #: knob of the base model, which only changes how closely it fits.
    reward_wrapper_knob: float = 42.0
    reward_model_knob: float = 38.0
    #: A reward-model knob while no estimator uses the reward model: it cannot change the estimate.
    reward_knob_idle: float = 8.0
    #: Cross-fitting folds of obp's fit_predict while an estimator uses the reward model (below its
    #: knobs: the fold count moves the estimate less than the model does), and while none does (then
    #: they change nothing).
    folds: float = 30.0
    folds_idle: float = 5.0
    #: Preference between candidates of one kind in trying order, per rank (a knob's values, a swap's
    #: variants, combinations on top of an improvement): small, so the order within a kind rarely
    #: overtakes a move of another prior.
    value_order: float = 0.5
    #: ... for knobs that cannot change the estimate yet (idle reward model): smaller still.
    value_order_idle: float = 0.1
    #: ... for obp's fold counts, which are listed most promising first (3, 5, 2, 10).
    fold_order: float = 1.0

    # --- scope-rl pipeline knobs (bot.ope.knobs) -------------------------------------------------
    relevance: Mapping[str, Mapping[str, float]] = field(default_factory=_relevance)
    #: FQE steps: gain per doubling of the steps up to ``fqe_steps_saturation`` times the current value
    #: (more helps an undertrained FQE most up to ~4x; beyond, cost grows faster than the gain) ...
    fqe_steps_gain: float = 4.0
    fqe_steps_saturation: float = 4.0
    #: ... and a penalty past it.
    fqe_steps_beyond: float = 3.0
    #: FQE steps at a quarter of the library default or less: an undertrained value model, where more
    #: steps are the surest gain.
    fqe_undertrained: float = 15.0
    #: FQE cross-fitting folds, per rank (2, 3, 5): fewer folds first, each fold is one FQE fit.
    fqe_fold_order: float = 1.0
    #: Share of a runtime guardrail's allowance a move's expected cost may use: runtimes measured on a
    #: shared machine move by ±30% between the baseline and a candidate.
    budget_share: float = 0.6

    # --- the journal and hints (bot.agents.heuristic.scoring) ------------------------------------
    exploit: Mapping[str, float] = field(default_factory=_exploit)
    #: Non-improving attempts after the best one until exploiting it is no longer preferred (the boost
    #: fades linearly to zero).
    patience: int = 5
    #: Prior of "best improvement plus one more change" before the exploitation boost: with the boost
    #: of an estimator, reward-model or FQE change (+50..60) above every untried swap (up to 85).
    combined_prior: float = 45.0
    #: A pipeline knob that matters less than this for the estimators in use is not worth an iteration
    #: on top of an improvement.
    relevant: float = 20.0
    #: A hint names the move's class, family or knob: a hinted move of prior above 45 goes ahead of
    #: every unhinted swap (priors up to 85).
    hint_boost: float = 40.0
    #: Swap target tried before: failed or evaluated (improved, and stacked already): SNDR (85 → 35)
    #: goes behind every untried swap but DM and plain IPW ...
    spent_class: float = 50.0
    #: ... tried without gain: SNDR (85 → 55) goes behind the untried DR and self-normalised classes ...
    same_class: float = 30.0
    #: ... of a family tried without gain: SNDR without gain puts DR (78 - 12) below SNIPW (80).
    same_family: float = 12.0
    #: A tree-ensemble reward model broke a guardrail (most likely runtime): the other heavy ones.
    heavy_refused: float = 30.0
    #: A move expected to cost more runtime than a runtime guardrail allows: more than any prior (up to
    #: 93), so it ranks below every move within budget that nothing else demoted.
    over_budget: float = 100.0
    #: A move of a family of change (move kind) that broke the evaluation (a crash, a timeout, unusable
    #: metrics): more than any prior plus every boost (up to ~190 with an exploitation boost and a
    #: hint), so every untried move of another family goes first; the family comes back only when
    #: nothing else is left, and the loop pauses if it keeps breaking.
    broken_family: float = 200.0


#: The weights the heuristic uses.
WEIGHTS = Weights()
