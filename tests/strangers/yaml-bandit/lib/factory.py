from obp.ope import (
    DirectMethod,
    DoublyRobust,
    InverseProbabilityWeighting,
    SelfNormalizedInverseProbabilityWeighting,
    SwitchDoublyRobust,
)
from sklearn.linear_model import LogisticRegression

REGISTRY = {
    "ipw": InverseProbabilityWeighting,
    "snipw": SelfNormalizedInverseProbabilityWeighting,
    "dm": DirectMethod,
    "dr": DoublyRobust,
    "switch-dr": SwitchDoublyRobust,
}


def build_estimators(spec):
    return [REGISTRY[item["name"]](**item.get("params", {})) for item in spec]


def build_reward_classifier():
    return LogisticRegression(max_iter=100)
