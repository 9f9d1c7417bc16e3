from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from obp.ope import DirectMethod, OffPolicyEvaluation, RegressionModel
from sklearn.ensemble import HistGradientBoostingClassifier


@dataclass
class OffPolicyAudit:
    """Fit a reward model on the logs, then estimate the value of any policy."""

    n_actions: int
    seed: int = 0
    fit_seconds: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self.reward_model = RegressionModel(
            n_actions=self.n_actions,
            base_model=HistGradientBoostingClassifier(max_iter=20, max_depth=2, random_state=self.seed),
        )
        self.estimators = [DirectMethod()]

    def fit(self, logs: dict) -> "OffPolicyAudit":
        started = time.perf_counter()
        self.logs = logs
        self.q_hat = self.reward_model.fit_predict(
            context=logs["context"],
            action=logs["action"],
            reward=logs["reward"],
            random_state=self.seed,
        )
        self.fit_seconds = time.perf_counter() - started
        return self

    def value_of(self, action_dist: np.ndarray) -> float:
        ope = OffPolicyEvaluation(bandit_feedback=self.logs, ope_estimators=self.estimators)
        values = ope.estimate_policy_values(action_dist=action_dist, estimated_rewards_by_reg_model=self.q_hat)
        return float(values["dm"])
