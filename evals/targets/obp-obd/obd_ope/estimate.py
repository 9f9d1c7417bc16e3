"""Estimate a ranking policy's click rate from logged (context, item, position, click) data.

The estimator and the reward model below are the parts to tune.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from obp.ope import InverseProbabilityWeighting, OffPolicyEvaluation, RegressionModel
from sklearn.linear_model import LogisticRegression


def estimate_click_rate(logged: dict[str, Any], action_dist: np.ndarray, seed: int = 0) -> float:
    """Estimated click rate of ``action_dist`` (n_rounds, n_items, n_positions) on the ``logged`` data."""
    n_positions = action_dist.shape[2]
    # Click model q(x, item, position) for the model-based estimators.
    click_model = RegressionModel(
        n_actions=logged["n_actions"],
        len_list=n_positions,
        base_model=LogisticRegression(C=0.01, max_iter=100),
    )
    predicted_clicks = click_model.fit_predict(
        context=logged["context"],
        action=logged["action"],
        reward=logged["reward"],
        position=logged["position"],
        n_folds=1,
        random_state=seed,
    )
    estimator = InverseProbabilityWeighting()
    ope = OffPolicyEvaluation(bandit_feedback=logged, ope_estimators=[estimator])
    values = ope.estimate_policy_values(action_dist=action_dist, estimated_rewards_by_reg_model=predicted_clicks)
    return float(values[estimator.estimator_name])
