from obp.ope import (
    DirectMethod,
    DoublyRobust,
    InverseProbabilityWeighting,
    OffPolicyEvaluation,
    SelfNormalizedInverseProbabilityWeighting,
)

from . import settings

ESTIMATORS = [
    InverseProbabilityWeighting(),
    SelfNormalizedInverseProbabilityWeighting(),
    DirectMethod(),
    DoublyRobust(),
]


def select(name=None):
    name = name or settings.ESTIMATOR
    for estimator in ESTIMATORS:
        if estimator.estimator_name == name:
            return estimator
    raise KeyError(f"no estimator called {name!r}")


def estimate(feedback, action_dist, predicted_rewards):
    ope = OffPolicyEvaluation(bandit_feedback=feedback, ope_estimators=[select()])
    values = ope.estimate_policy_values(
        action_dist=action_dist, estimated_rewards_by_reg_model=predicted_rewards
    )
    return float(values[settings.ESTIMATOR])
