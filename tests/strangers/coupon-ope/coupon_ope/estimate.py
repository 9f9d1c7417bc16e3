"""The off-policy estimate of a coupon policy."""
from obp.ope import InverseProbabilityWeighting, OffPolicyEvaluation


def policy_values(logs, action_dist):
    ope = OffPolicyEvaluation(
        bandit_feedback=logs,
        ope_estimators=[InverseProbabilityWeighting()],
    )
    return ope.estimate_policy_values(action_dist=action_dist)
