"""Static OPE domain knowledge: estimators, reward models and their knobs, as plain data.

This is the fallback the catalog uses when a library is not installed, and the source of everything
a signature cannot tell (family, priors, candidate values, when an estimator helps). Parameter lists
are those of obp 0.5.7, scope-rl 0.2.1 and scikit-learn 1.x; ``bot.ope.catalog`` replaces them with
what the installed library accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.ope.weights import WEIGHTS

Library = Literal["obp", "scope-rl", "sklearn"]
Role = Literal["estimator", "reward-model", "reward-wrapper"]
#: Estimators: what the estimate is built from. Reward models: the kind of sklearn model.
Family = Literal["ipw", "dm", "dr", "classifier", "regressor", "wrapper"]
ActionType = Literal["discrete", "continuous"]
#: A Python literal a signature default can hold.
Scalar = bool | int | float | str | None

#: Root import name of each library.
ROOTS: dict[Library, str] = {"obp": "obp", "scope-rl": "scope_rl", "sklearn": "sklearn"}
#: Distribution name for importlib.metadata.version.
DISTRIBUTIONS: dict[Library, str] = {"obp": "obp", "scope-rl": "scope-rl", "sklearn": "scikit-learn"}
#: Cross-fitting fold counts worth trying (the keyword is ``n_folds`` in obp's ``fit_predict``).
FOLD_VALUES = ("3", "5", "2", "10")
FOLDS_KEYWORD = "n_folds"
#: Keyword arguments a reward-model swap carries over (everything else is model-specific).
REWARD_CARRY = ("random_state",)
#: Fixed seed given to a new reward model that takes ``random_state`` when the old one had none.
DEFAULT_RANDOM_STATE = "12345"


@dataclass(frozen=True)
class Knob:
    """A tunable keyword argument with candidate values (Python source literals, in trying order)."""

    #: What the knob does; two knobs carry a value across a swap only if their keys are equal.
    key: str
    #: Keyword names across library versions, preferred first (obp 0.4.1 ``tau`` = 0.5 ``lambda_``).
    aliases: tuple[str, ...]
    values: tuple[str, ...]
    help: str
    #: Only propose this knob if a call named ``requires[0]`` passes keyword ``requires[1]`` (an
    #: input the new value needs), e.g. obp's MRDR fitting needs ``fit_predict(action_dist=…)``.
    requires: tuple[str, str] | None = None
    #: The keyword as the installed (or assumed) library spells it; set by the catalog.
    name: str = ""
    default: Scalar = None


@dataclass(frozen=True)
class Spec:
    """One estimator or reward-model class."""

    library: Library
    name: str
    #: Canonical import module (``from <module> import <name>``).
    module: str
    role: Role
    family: Family
    description: str
    #: Exploration prior as a swap target: higher is tried earlier (``bot.ope.weights``).
    prior: int = 50
    action_type: ActionType = "discrete"
    needs_reward_model: bool = False
    self_normalized: bool = False
    #: Constructor parameters in order (static: the known version's; set from the installed signature).
    params: tuple[str, ...] = ()
    #: Parameters without a default.
    required: tuple[str, ...] = ()
    knobs: tuple[Knob, ...] = ()
    #: Knob values set when swapping to this class (by knob key), so it differs from a cheaper sibling.
    swap_values: tuple[tuple[str, str], ...] = ()
    #: Words that, found in a human hint, boost moves towards this class.
    keywords: tuple[str, ...] = ()
    #: Older name of the same class (scope-rl < 0.2 prefixed ``Discrete``/``Continuous``).
    legacy_name: str | None = None
    legacy_module: str | None = None
    #: Much slower to fit than a linear model (tree ensembles): a runtime guardrail may object.
    heavy: bool = False
    #: Estimators: the key their estimate is returned under (``estimator_name``'s default; obp's and
    #: scope-rl's ``OffPolicyEvaluation`` key their results by it). Settable where ``params`` has
    #: ``estimator_name``; a class attribute otherwise.
    result_key: str = ""
    #: False when the installed library lacks the class (e.g. obp 0.4.1 has no tuning variants).
    available: bool = True
    #: "installed <version>" or "static".
    source: str = "static"

    def knob(self, key: str) -> Knob | None:
        """The knob with this key, or None."""
        return next((k for k in self.knobs if k.key == key), None)

    def knob_named(self, name: str) -> Knob | None:
        """The knob whose resolved keyword is ``name``, or None."""
        return next((k for k in self.knobs if k.name == name), None)


def _knob(
    key: str, aliases: tuple[str, ...], values: tuple[str, ...], help: str, default: Scalar = None,
    requires: tuple[str, str] | None = None,
) -> Knob:
    return Knob(key=key, aliases=aliases, values=values, help=help, name=aliases[0], default=default,
                requires=requires)


_CLIP = _knob(
    "clip", ("lambda_",), ("100", "50", "500", "10", "1000", "5"),
    "clip importance weights at this value (default inf = no clipping): less variance, some bias",
    default=float("inf"),
)
_SWITCH = _knob(
    "switch", ("lambda_", "tau"), ("50", "100", "10", "500", "5", "1000"),
    "use DM instead of DR where the importance weight exceeds this threshold", default=float("inf"),
)
_SHRINK = _knob(
    "shrink", ("lambda_",), ("100", "10", "1000", "50", "500", "1"),
    "shrink weights w to lambda*w/(w^2+lambda): small → DM, large → DR", default=0.0,
)
_SG = _knob(
    "subgaussian", ("lambda_",), ("0.1", "0.05", "0.2", "0.01", "0.5"),
    "power-mean correction in [0, 1] for heavy-tailed weights (0 = plain weights)", default=0.0,
)
_TUNE_METHOD = _knob(
    "tuning-method", ("tuning_method",), ('"mse"', '"slope"'),
    "how the built-in tuning picks lambda_: SLOPE (default) or estimated MSE", default="slope",
)
_CLIP_GRID = "[1.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1000.0, 5000.0]"
_SG_GRID = "[0.0, 0.01, 0.05, 0.1, 0.2, 0.5, 1.0]"
_SHRINK_GRID = "[1.0, 10.0, 100.0, 1000.0, 10000.0]"


def _lambdas(grid: str) -> Knob:
    return _knob("lambdas", ("lambdas",), (grid,), "candidate lambda_ values for the built-in tuning")


_EST_PARAMS = ("lambda_", "use_estimated_pscore", "estimator_name")
_SG_PARAMS = ("lambda_", "use_estimated_pscore", "estimator_name")
_TUNE_PARAMS = ("lambdas", "tuning_method", "use_bias_upper_bound", "delta", "use_estimated_pscore")


def _obp(
    name: str, family: Family, description: str, *, params: tuple[str, ...],
    knobs: tuple[Knob, ...] = (), keywords: tuple[str, ...] = (), needs_reward_model: bool = False,
    self_normalized: bool = False, required: tuple[str, ...] = (),
    swap_values: tuple[tuple[str, str], ...] = (),
) -> Spec:
    return Spec(library="obp", name=name, module="obp.ope", role="estimator", family=family,
                description=description, prior=WEIGHTS.estimator_priors["obp"][name], params=params,
                knobs=knobs, keywords=keywords, needs_reward_model=needs_reward_model,
                self_normalized=self_normalized, required=required, swap_values=swap_values,
                result_key=_OBP_KEYS[name])


#: obp 0.5.7's ``estimator_name`` defaults (the ``*Tuning`` variants without the field as a class
#: attribute: ``InverseProbabilityWeightingTuning`` and ``SubGaussianInverseProbabilityWeightingTuning``).
_OBP_KEYS = {
    "InverseProbabilityWeighting": "ipw", "SelfNormalizedInverseProbabilityWeighting": "snipw",
    "DirectMethod": "dm", "DoublyRobust": "dr", "SelfNormalizedDoublyRobust": "sndr",
    "SwitchDoublyRobust": "switch-dr", "DoublyRobustWithShrinkage": "dr-os",
    "SubGaussianInverseProbabilityWeighting": "sg-ipw", "SubGaussianDoublyRobust": "sg-dr",
    "InverseProbabilityWeightingTuning": "ipw", "DoublyRobustTuning": "dr",
    "SwitchDoublyRobustTuning": "switch-dr", "DoublyRobustWithShrinkageTuning": "dr-os",
    "SubGaussianInverseProbabilityWeightingTuning": "sg-ipw", "SubGaussianDoublyRobustTuning": "sg-dr",
}
#: scope-rl 0.2.1's estimator names (the same for both action types).
_SCOPE_KEYS = {
    "DirectMethod": "dm", "TrajectoryWiseImportanceSampling": "tis", "PerDecisionImportanceSampling": "pdis",
    "DoublyRobust": "dr", "SelfNormalizedTIS": "sntis", "SelfNormalizedPDIS": "snpdis",
    "SelfNormalizedDR": "sndr",
}


# obp 0.5.7's self-normalised estimators accept ``lambda_`` but never read it: no knob for them.
OBP_ESTIMATORS: tuple[Spec, ...] = (
    _obp("InverseProbabilityWeighting", "ipw",
         "Unbiased with true propensities; variance grows with large importance weights.",
         params=_EST_PARAMS, knobs=(_CLIP,), keywords=("ipw", "ips", "inverse probability", "importance")),
    _obp("SelfNormalizedInverseProbabilityWeighting", "ipw",
         "Divides by the mean weight: small bias, much lower variance when weights are large.",
         self_normalized=True, params=_EST_PARAMS,
         keywords=("snipw", "snips", "self normalized", "self normalised", "normalized", "normalised")),
    _obp("DirectMethod", "dm",
         "Reward model only: lowest variance, biased as much as the reward model is wrong.",
         needs_reward_model=True, params=("estimator_name",), keywords=("dm", "direct method")),
    _obp("DoublyRobust", "dr",
         "IPW on reward-model residuals: unbiased with true propensities, less variance than IPW.",
         needs_reward_model=True, params=_EST_PARAMS, knobs=(_CLIP,),
         keywords=("dr", "doubly robust")),
    _obp("SelfNormalizedDoublyRobust", "dr",
         "DR with self-normalised weights: DR's robustness plus SNIPW's variance reduction.",
         needs_reward_model=True, self_normalized=True, params=_EST_PARAMS,
         keywords=("sndr", "doubly robust", "self normalized", "self normalised", "normalized")),
    _obp("SwitchDoublyRobust", "dr",
         "DR where the weight is small, DM where it is large: a little bias for much less variance.",
         needs_reward_model=True, params=_EST_PARAMS, knobs=(_SWITCH,), swap_values=(("switch", "50"),),
         keywords=("switch", "switch dr", "doubly robust")),
    _obp("DoublyRobustWithShrinkage", "dr",
         "Shrinks large weights towards the reward model; tuned, often the lowest MSE of the DR family.",
         needs_reward_model=True, params=_EST_PARAMS, knobs=(_SHRINK,), swap_values=(("shrink", "100"),),
         keywords=("dros", "dr os", "shrinkage", "optimistic shrinkage", "doubly robust")),
    _obp("SubGaussianInverseProbabilityWeighting", "ipw",
         "Sub-Gaussian IPW: weights w/(1-λ+λw) tame heavy-tailed weights with a little bias.",
         params=_SG_PARAMS, knobs=(_SG,), swap_values=(("subgaussian", "0.1"),),
         keywords=("sg ipw", "sub gaussian", "subgaussian", "heavy tail")),
    _obp("SubGaussianDoublyRobust", "dr",
         "Sub-Gaussian DR: the same weight correction on DR's residual term.",
         needs_reward_model=True, params=_SG_PARAMS, knobs=(_SG,), swap_values=(("subgaussian", "0.1"),),
         keywords=("sg dr", "sub gaussian", "subgaussian", "doubly robust")),
    _obp("InverseProbabilityWeightingTuning", "ipw",
         "IPW that picks its clipping lambda_ from a list on the logged data (SLOPE/MSE).",
         params=_TUNE_PARAMS, required=("lambdas",), knobs=(_lambdas(_CLIP_GRID), _TUNE_METHOD),
         swap_values=(("lambdas", _CLIP_GRID),), keywords=("tuning", "slope", "clipping", "ipw")),
    _obp("DoublyRobustTuning", "dr",
         "DR that picks its clipping lambda_ from a list on the logged data (SLOPE/MSE).",
         needs_reward_model=True, params=(*_TUNE_PARAMS, "estimator_name"), required=("lambdas",),
         knobs=(_lambdas(_CLIP_GRID), _TUNE_METHOD), swap_values=(("lambdas", _CLIP_GRID),),
         keywords=("tuning", "slope", "doubly robust")),
    _obp("SwitchDoublyRobustTuning", "dr",
         "Switch-DR that picks its threshold from a list on the logged data (SLOPE/MSE).",
         needs_reward_model=True, params=(*_TUNE_PARAMS, "estimator_name"), required=("lambdas",),
         knobs=(_lambdas(_CLIP_GRID), _TUNE_METHOD), swap_values=(("lambdas", _CLIP_GRID),),
         keywords=("tuning", "slope", "switch")),
    _obp("DoublyRobustWithShrinkageTuning", "dr",
         "DRos that picks its shrinkage lambda_ from a list on the logged data (SLOPE/MSE).",
         needs_reward_model=True, params=(*_TUNE_PARAMS, "estimator_name"), required=("lambdas",),
         knobs=(_lambdas(_SHRINK_GRID), _TUNE_METHOD), swap_values=(("lambdas", _SHRINK_GRID),),
         keywords=("tuning", "slope", "shrinkage", "dros")),
    _obp("SubGaussianInverseProbabilityWeightingTuning", "ipw",
         "SG-IPW that picks its lambda_ in [0, 1] on the logged data (SLOPE/MSE).",
         params=_TUNE_PARAMS, required=("lambdas",), knobs=(_lambdas(_SG_GRID), _TUNE_METHOD),
         swap_values=(("lambdas", _SG_GRID),), keywords=("tuning", "slope", "sub gaussian")),
    _obp("SubGaussianDoublyRobustTuning", "dr",
         "SG-DR that picks its lambda_ in [0, 1] on the logged data (SLOPE/MSE).",
         needs_reward_model=True, params=(*_TUNE_PARAMS, "estimator_name"), required=("lambdas",),
         knobs=(_lambdas(_SG_GRID), _TUNE_METHOD), swap_values=(("lambdas", _SG_GRID),),
         keywords=("tuning", "slope", "sub gaussian")),
)

_SCOPE: tuple[tuple[str, Family, bool, bool, str, tuple[str, ...]], ...] = (
    ("DirectMethod", "dm", False, False,
     "FQE value prediction at the initial state: low variance, biased by the value model.",
     ("dm", "direct method", "fqe")),
    ("TrajectoryWiseImportanceSampling", "ipw", False, False,
     "Trajectory-wise IS: unbiased, but variance explodes with the horizon.", ("tis", "trajectory")),
    ("PerDecisionImportanceSampling", "ipw", False, False,
     "Per-decision IS: each reward weighted up to its own step; unbiased with less variance than TIS.",
     ("pdis", "per decision")),
    ("DoublyRobust", "dr", True, False,
     "Per-decision DR with the FQE baseline: less variance than PDIS when the value model is good.",
     ("dr", "doubly robust")),
    ("SelfNormalizedTIS", "ipw", False, True,
     "Self-normalised TIS: bounded estimates, lower variance than TIS at a small bias.",
     ("sntis", "self normalized", "self normalised", "normalized")),
    ("SelfNormalizedPDIS", "ipw", False, True,
     "Self-normalised PDIS: usually the most stable pure-IS estimator.",
     ("snpdis", "self normalized", "self normalised", "normalized", "per decision")),
    ("SelfNormalizedDR", "dr", True, True,
     "Self-normalised DR: DR's value baseline plus self-normalised weights.",
     ("sndr", "self normalized", "self normalised", "normalized", "doubly robust")),
)


#: scope-rl 0.2.1 takes ``estimator_name`` only on these classes (the others take no argument).
_SCOPE_NAMED = {
    ("discrete", "DirectMethod"),
    *(("continuous", n) for n in ("TrajectoryWiseImportanceSampling", "PerDecisionImportanceSampling",
                                  "SelfNormalizedTIS", "SelfNormalizedPDIS")),
}


def _scope_specs(action_type: ActionType) -> tuple[Spec, ...]:
    prefix = "Discrete" if action_type == "discrete" else "Continuous"
    return tuple(
        Spec(library="scope-rl", name=name, module=f"scope_rl.ope.{action_type}", role="estimator",
             family=family, description=description, prior=WEIGHTS.estimator_priors["scope-rl"][name],
             action_type=action_type,
             needs_reward_model=needs, self_normalized=sn, keywords=words,
             params=("estimator_name",) if (action_type, name) in _SCOPE_NAMED else (),
             legacy_name=prefix + name, legacy_module="scope_rl.ope", result_key=_SCOPE_KEYS[name])
        for name, family, needs, sn, description, words in _SCOPE
    )


SCOPE_RL_ESTIMATORS: tuple[Spec, ...] = _scope_specs("discrete") + _scope_specs("continuous")

_C = _knob("C", ("C",), ("10.0", "0.1", "100.0", "0.01", "1.0"),
           "inverse L2 strength: larger fits the reward more closely", default=1.0)
_ALPHA = _knob("alpha", ("alpha",), ("0.1", "10.0", "100.0", "1.0"), "L2 strength", default=1.0)
_N_TREES = _knob("n_estimators", ("n_estimators",), ("200", "50"), "number of trees", default=100)
_DEPTH = _knob("max_depth", ("max_depth",), ("10", "5", "20"), "tree depth limit")
_LEAF = _knob("min_samples_leaf", ("min_samples_leaf",), ("20", "1", "50"),
              "larger leaves smooth the predicted rewards", default=1)
_LR = _knob("learning_rate", ("learning_rate",), ("0.03", "0.1", "0.2"), "boosting step size", default=0.1)
_ITERS = _knob("max_iter", ("max_iter",), ("300", "100"), "boosting rounds", default=100)
_LEAVES = _knob("max_leaf_nodes", ("max_leaf_nodes",), ("15", "63"), "tree size", default=31)
_GB_DEPTH = _knob("max_depth", ("max_depth",), ("2", "5"), "tree depth", default=3)


def _sk(name: str, module: str, family: Family, description: str, knobs: tuple[Knob, ...],
        swap: tuple[tuple[str, str], ...], params: tuple[str, ...], words: tuple[str, ...]) -> Spec:
    return Spec(library="sklearn", name=name, module=module, role="reward-model", family=family,
                description=description, prior=WEIGHTS.reward_model_priors[name], knobs=knobs,
                swap_values=swap, params=params, keywords=words, heavy=module == "sklearn.ensemble")


_RF_SWAP = (("n_estimators", "100"), ("min_samples_leaf", "5"))
_HGB_SWAP = (("max_iter", "200"), ("learning_rate", "0.05"))
_GB_SWAP = (("n_estimators", "100"), ("max_depth", "3"))
_RF_PARAMS = ("n_estimators", "max_depth", "min_samples_leaf", "n_jobs", "random_state")
_HGB_PARAMS = ("learning_rate", "max_iter", "max_leaf_nodes", "max_depth", "random_state")
_GB_PARAMS = ("learning_rate", "n_estimators", "max_depth", "random_state")
_FOREST = ("random forest", "forest", "trees", "nonlinear", "non linear")
_BOOST = ("gradient boosting", "boosting", "hist", "nonlinear", "non linear", "gbm")

REWARD_MODELS: tuple[Spec, ...] = (
    _sk("LogisticRegression", "sklearn.linear_model", "classifier",
        "Linear reward model: stable, underfits non-linear rewards.", (_C,), (("C", "1.0"),),
        ("C", "max_iter", "random_state"), ("logistic", "linear")),
    _sk("RandomForestClassifier", "sklearn.ensemble", "classifier",
        "Non-linear, robust defaults; smoother probabilities with larger leaves.",
        (_N_TREES, _DEPTH, _LEAF), _RF_SWAP, _RF_PARAMS, _FOREST),
    _sk("HistGradientBoostingClassifier", "sklearn.ensemble", "classifier",
        "Fast boosted trees: usually the most accurate reward model on tabular contexts.",
        (_LR, _ITERS, _LEAVES), _HGB_SWAP, _HGB_PARAMS, _BOOST),
    _sk("GradientBoostingClassifier", "sklearn.ensemble", "classifier",
        "Classic boosted trees: accurate, slower than the histogram version.",
        (_LR, _N_TREES, _GB_DEPTH), _GB_SWAP, _GB_PARAMS, _BOOST),
    _sk("Ridge", "sklearn.linear_model", "regressor",
        "Linear reward model with L2: stable, underfits non-linear rewards.", (_ALPHA,), (("alpha", "1.0"),),
        ("alpha", "random_state"), ("ridge", "linear")),
    _sk("LinearRegression", "sklearn.linear_model", "regressor",
        "Unregularised linear reward model.", (), (), (), ("linear",)),
    _sk("RandomForestRegressor", "sklearn.ensemble", "regressor",
        "Non-linear, robust defaults; smoother predictions with larger leaves.",
        (_N_TREES, _DEPTH, _LEAF), _RF_SWAP, _RF_PARAMS, _FOREST),
    _sk("HistGradientBoostingRegressor", "sklearn.ensemble", "regressor",
        "Fast boosted trees: usually the most accurate reward model on tabular contexts.",
        (_LR, _ITERS, _LEAVES), _HGB_SWAP, _HGB_PARAMS, _BOOST),
)

#: obp's wrapper that fits the reward model (cross-fitted through ``fit_predict(n_folds=…)``).
OBP_REGRESSION_MODEL = Spec(
    library="obp", name="RegressionModel", module="obp.ope", role="reward-wrapper", family="wrapper",
    description="Fits q(x, a) for DM/DR; fitting_method 'iw'/'mrdr' aim the fit at the evaluation policy.",
    params=("base_model", "n_actions", "len_list", "action_context", "fitting_method"),
    required=("base_model", "n_actions"),
    knobs=(_knob("fitting-method", ("fitting_method",), ('"mrdr"', '"iw"', '"normal"'),
                  "importance-weighted (iw) or MRDR fitting targets the evaluation policy's error",
                  default="normal", requires=("fit_predict", "action_dist")),),
    keywords=("regression model", "reward model", "mrdr", "fitting method"),
)


def static_specs(library: Library) -> tuple[Spec, ...]:
    """The hand-written specs of ``library`` (the fallback when it is not importable)."""
    if library == "obp":
        return (*OBP_ESTIMATORS, OBP_REGRESSION_MODEL)
    if library == "scope-rl":
        return SCOPE_RL_ESTIMATORS
    return REWARD_MODELS
