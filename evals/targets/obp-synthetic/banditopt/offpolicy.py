"""The OPE pipeline: a reward model q(x, a) and the estimator that turns the log into a policy value.

Tune here: the estimator, its hyperparameters, the reward model and how it is fitted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from obp.ope import DirectMethod, OffPolicyEvaluation, RegressionModel
from sklearn.linear_model import LogisticRegression


def make_estimator():
    """The estimator whose value the pipeline reports."""
    return DirectMethod()


def make_reward_model(n_actions: int) -> RegressionModel:
    """An unfitted reward model for ``n_actions`` actions."""
    return RegressionModel(n_actions=n_actions, base_model=LogisticRegression(max_iter=200))


def estimate_value(logged: dict[str, Any], target_probs: np.ndarray, seed: int = 0) -> float:
    """Estimated value of the policy ``target_probs`` (n_rounds, n_actions, 1) from the ``logged`` data."""
    reward_model = make_reward_model(logged["n_actions"])
    predicted = reward_model.fit_predict(
        context=logged["context"],
        action=logged["action"],
        reward=logged["reward"],
        n_folds=1,
        random_state=seed,
    )
    estimator = make_estimator()
    ope = OffPolicyEvaluation(bandit_feedback=logged, ope_estimators=[estimator])
    values = ope.estimate_policy_values(action_dist=target_probs, estimated_rewards_by_reg_model=predicted)
    return float(values[estimator.estimator_name])
