"""What would a new targeting policy have earned? Estimated from a campaign's log with obp.

``policy_value(log, new_policy)`` returns the estimated redemption rate; ``log`` is obp bandit
feedback (context, action, reward, pscore) and ``new_policy`` the new policy's coupon probabilities,
shape (customers, coupons, 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from obp.ope import DirectMethod, OffPolicyEvaluation, RegressionModel
from sklearn.linear_model import LogisticRegression


def redemption_model(n_coupons: int) -> RegressionModel:
    """P(redeem | customer, coupon), one logistic regression per coupon."""
    return RegressionModel(n_actions=n_coupons, base_model=LogisticRegression(C=0.05, max_iter=500))


def policy_value(log: dict[str, Any], new_policy: np.ndarray, seed: int = 0) -> float:
    """The new policy's estimated redemption rate on the logged customers."""
    model = redemption_model(log["n_actions"])
    predicted = model.fit_predict(context=log["context"], action=log["action"], reward=log["reward"],
                                  n_folds=1, random_state=seed)
    estimator = DirectMethod()
    ope = OffPolicyEvaluation(bandit_feedback=log, ope_estimators=[estimator])
    values = ope.estimate_policy_values(action_dist=new_policy, estimated_rewards_by_reg_model=predicted)
    return float(values[estimator.estimator_name])
