"""Estimate the value of an evaluation policy from logged bandit feedback."""

from __future__ import annotations

from typing import Any

import numpy as np
from obp.ope import OffPolicyEvaluation

from ope_pipeline.estimators import build_estimator, build_reward_model


def estimate_policy_value(
    bandit_feedback: dict[str, Any], action_dist: np.ndarray, random_state: int = 0
) -> float:
    """Return the estimated policy value of ``action_dist`` on the logged ``bandit_feedback``.

    ``bandit_feedback`` is obp's logged-data dictionary (context, action, reward, pscore, position,
    n_actions, ...); ``action_dist`` has shape (n_rounds, n_actions, len_list).

    Raises:
        ValueError: the inputs do not have the shapes obp expects.
    """
    len_list = action_dist.shape[2]
    reward_model = build_reward_model(n_actions=bandit_feedback["n_actions"], len_list=len_list)
    # Cross-fitting: each half of the log is predicted by a model fitted on the other half, so the
    # DR-family estimators do not reuse the data their reward model was trained on.
    estimated_rewards = reward_model.fit_predict(
        context=bandit_feedback["context"],
        action=bandit_feedback["action"],
        reward=bandit_feedback["reward"],
        position=bandit_feedback["position"],
        n_folds=2,
        random_state=random_state,
    )
    estimator = build_estimator()
    ope = OffPolicyEvaluation(bandit_feedback=bandit_feedback, ope_estimators=[estimator])
    values = ope.estimate_policy_values(
        action_dist=action_dist, estimated_rewards_by_reg_model=estimated_rewards
    )
    return float(values[estimator.estimator_name])
