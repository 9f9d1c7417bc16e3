"""Estimate an RL policy's expected return from episodes logged by another policy.

Inputs for the estimators (action probabilities, FQE value predictions) are built first; then the
estimator below turns them into one number. Estimator, FQE settings and OPE options are all fair game.
"""

from __future__ import annotations

from typing import Any

from scope_rl.ope import CreateOPEInput, OffPolicyEvaluation
from scope_rl.ope.discrete import TrajectoryWiseImportanceSampling


def estimate_policy_value(logged_dataset: dict[str, Any], policy: Any, seed: int = 0) -> float:
    """Estimated expected return of ``policy`` (a scope-rl head) from ``logged_dataset``."""
    prep = CreateOPEInput(env=None)
    inputs = prep.obtain_whole_inputs(
        logged_dataset=logged_dataset,
        evaluation_policies=[policy],
        require_value_prediction=True,
        n_steps=500,
        random_state=seed,
    )
    estimator = TrajectoryWiseImportanceSampling()
    ope = OffPolicyEvaluation(logged_dataset=logged_dataset, ope_estimators=[estimator])
    values = ope.estimate_policy_value(inputs)
    return float(values[policy.name][estimator.estimator_name])
