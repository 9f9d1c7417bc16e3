"""Which OPE estimator we use and how the reward model is built.

This is the file to tune: swap the estimator class, change its hyperparameters, or give the reward
(regression) model a different scikit-learn base model. The pipeline always hands the estimator the
reward model's predictions, so model-based estimators (DM, DR and friends) work without other changes.
"""

from __future__ import annotations

from obp.ope import DirectMethod, RegressionModel
from obp.ope.estimators import BaseOffPolicyEstimator
from obp.ope.estimators_tuning import BaseOffPolicyEstimatorTuning
from sklearn.linear_model import LogisticRegression


def build_estimator() -> BaseOffPolicyEstimator | BaseOffPolicyEstimatorTuning:
    """Return the OPE estimator whose policy-value estimate the pipeline reports."""
    return DirectMethod()


def build_reward_model(n_actions: int, len_list: int) -> RegressionModel:
    """Return an unfitted reward model q(x, a) for ``n_actions`` actions and ``len_list`` positions."""
    return RegressionModel(
        n_actions=n_actions,
        len_list=len_list,
        base_model=LogisticRegression(C=0.01, max_iter=100),
    )
