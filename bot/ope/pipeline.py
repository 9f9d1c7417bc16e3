"""scope-rl's pipeline knobs as plain data: which calls take them and what each one changes.

Besides the estimator classes, a scope-rl pipeline has settings on the calls around them that move
the estimate as much as the estimator choice does (measured on scope-rl 0.2.1, BasicEnv):

- ``n_steps`` / ``k_fold`` of ``CreateOPEInput.obtain_whole_inputs`` (and ``build_and_fit_FQE``):
  how long FQE trains and whether it is cross-fitted. The Direct Method's estimate *is* the FQE
  value; DR-family estimators use it as a control variate. FQE costs ~2 ms per step per policy.
- ``bandwidth`` of ``OffPolicyEvaluation`` / ``CumulativeDistributionOPE``: the Gaussian kernel that
  turns a deterministic continuous action into an importance weight. The OPE object passes it to
  every continuous estimator's ``estimate_policy_value``; all but the Direct Method use it. (The
  ``bandwidth`` of ``CreateOPEInput`` only feeds the marginal weight/value learners, not FQE.)
- ``disable_reward_after_done`` of the same two calls (default True): zeroes every reward from the
  step whose ``done`` flag is set, and scope-rl's synthetic datasets set it on the last step of every
  episode, so each IS/DR estimate loses the final reward that the true return counts.

``bot.ope.catalog`` replaces the parameter lists and defaults with the installed version's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.ope.specs import Scalar

KnobKey = Literal["fqe-steps", "fqe-folds", "bandwidth", "reward-after-done"]
#: Module the pipeline classes are imported from.
PIPELINE_MODULE = "scope_rl.ope"
#: The class whose methods fit FQE.
INPUT_CLASS = "CreateOPEInput"


@dataclass(frozen=True)
class PipelineCall:
    """A scope-rl constructor or ``CreateOPEInput`` method that takes pipeline knobs."""

    name: str
    #: The class this is a method of; None for a constructor.
    owner: str | None
    #: Parameters in order (without ``self``), as the installed version (or scope-rl 0.2.1) has them.
    params: tuple[str, ...]
    defaults: tuple[tuple[str, Scalar], ...] = ()
    #: FQE is fitted only when this keyword is passed truthy (None: the call always fits it).
    fits_when: str | None = None
    #: "installed <version>" or "static".
    source: str = "static"

    def default(self, name: str) -> Scalar:
        """The library default of parameter ``name`` (None if unknown)."""
        return dict(self.defaults).get(name)


@dataclass(frozen=True)
class PipelineKnob:
    """A keyword argument of pipeline calls that the heuristic tunes."""

    key: KnobKey
    keyword: str
    #: Names of the calls (``PipelineCall.name``) where the knob may be set.
    calls: tuple[str, ...]
    help: str
    #: Words that, found in a human hint, boost this knob's moves.
    keywords: tuple[str, ...]


_OPE_PARAMS = ("logged_dataset", "ope_estimators", "n_step_pdis", "bandwidth", "action_scaler",
               "disable_reward_after_done")
_OPE_DEFAULTS: tuple[tuple[str, Scalar], ...] = (
    ("n_step_pdis", 0), ("bandwidth", 1.0), ("action_scaler", None), ("disable_reward_after_done", True),
)
_WHOLE_INPUTS = (
    "logged_dataset", "evaluation_policies", "behavior_policy_name", "dataset_id", "require_value_prediction",
    "require_weight_prediction", "resample_initial_state", "q_function_method", "v_function_method",
    "w_function_method", "k_fold", "n_steps", "n_trajectories_on_policy_evaluation",
    "use_stationary_distribution_on_policy_evaluation", "minimum_rollout_length", "maximum_rollout_length",
    "random_state", "path", "save_relative_path",
)

PIPELINE_CALLS: tuple[PipelineCall, ...] = (
    PipelineCall("OffPolicyEvaluation", None, _OPE_PARAMS, _OPE_DEFAULTS),
    PipelineCall(
        "CumulativeDistributionOPE", None,
        ("logged_dataset", "ope_estimators", "use_custom_reward_scale", "scale_min", "scale_max",
         "n_partition", "bandwidth", "action_scaler", "disable_reward_after_done"),
        _OPE_DEFAULTS[1:],
    ),
    PipelineCall("obtain_whole_inputs", INPUT_CLASS, _WHOLE_INPUTS,
                 (("require_value_prediction", False), ("k_fold", 1), ("n_steps", 10000)),
                 fits_when="require_value_prediction"),
    PipelineCall("build_and_fit_FQE", INPUT_CLASS, ("evaluation_policy", "k_fold", "n_steps"),
                 (("k_fold", 1), ("n_steps", 10000))),
)

_OPE_CALLS = ("OffPolicyEvaluation", "CumulativeDistributionOPE")

PIPELINE_KNOBS: tuple[PipelineKnob, ...] = (
    PipelineKnob(
        "fqe-steps", "n_steps", ("obtain_whole_inputs", "build_and_fit_FQE"),
        "FQE gradient steps: an undertrained Q-function biases the Direct Method, whose estimate is the "
        "FQE value, and weakens DR's control variate; cost grows about linearly",
        ("fqe", "value model", "q function", "training steps", "n steps", "steps"),
    ),
    # Only where one call fits and predicts: a separate predict call must get the same k_fold.
    PipelineKnob(
        "fqe-folds", "k_fold", ("obtain_whole_inputs",),
        "cross-fitted FQE: each trajectory's value comes from a model not trained on it (less "
        "overfitting bias for DR), at one FQE fit per fold",
        ("cross fitting", "crossfitting", "folds", "fold", "k fold"),
    ),
    PipelineKnob(
        "bandwidth", "bandwidth", _OPE_CALLS,
        "Gaussian-kernel bandwidth of continuous-action importance weights: the weights multiply over the "
        "horizon, so a wider kernel shrinks their spread (less variance, more bias); DM ignores it",
        ("bandwidth", "kernel", "smoothing"),
    ),
    PipelineKnob(
        "reward-after-done", "disable_reward_after_done", _OPE_CALLS,
        "scope-rl zeroes rewards from the step flagged done, and its datasets flag the last step of every "
        "episode: IS/DR estimates lose the final reward the true return counts (DM is unaffected)",
        ("done", "reward after done", "final reward", "last reward", "terminal reward"),
    ),
)

#: Every call name the scanner looks for.
PIPELINE_NAMES = frozenset(c.name for c in PIPELINE_CALLS)
#: Method names unique to scope-rl's ``CreateOPEInput`` (recognised on any receiver).
METHOD_NAMES = frozenset(c.name for c in PIPELINE_CALLS if c.owner is not None)
