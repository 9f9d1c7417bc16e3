from obp.ope import InverseProbabilityWeighting, OffPolicyEvaluation


def estimate_ctr(feedback, action_dist):
    # The click rate is ~0.4%: too few clicks per position for a reward model on the sample data.
    ope = OffPolicyEvaluation(bandit_feedback=feedback, ope_estimators=[InverseProbabilityWeighting()])
    return ope.estimate_policy_values(action_dist=action_dist)
