"""Estimate a continuous-action policy's expected return from logged episodes.

FQE value predictions and kernel-smoothed action similarities are prepared first, then the
estimator turns them into one number.
"""

from __future__ import annotations

from typing import Any

from scope_rl.ope import CreateOPEInput, OffPolicyEvaluation
from scope_rl.ope.continuous import DirectMethod


def estimate_return(logged_dataset: dict[str, Any], policy: Any, seed: int = 0) -> float:
    """Estimated expected return of the deterministic ``policy`` from ``logged_dataset``."""
    prep = CreateOPEInput(env=None)
    inputs = prep.obtain_whole_inputs(
        logged_dataset=logged_dataset,
        evaluation_policies=[policy],
        require_value_prediction=True,
        n_steps=500,
        random_state=seed,
    )
    estimator = DirectMethod()
    ope = OffPolicyEvaluation(logged_dataset=logged_dataset, ope_estimators=[estimator])
    values = ope.estimate_policy_value(inputs)
    return float(values[policy.name][estimator.estimator_name])
