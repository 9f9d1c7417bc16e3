from obp.ope import (
    DoublyRobust,
    InverseProbabilityWeighting,
    RegressionModel,
    SelfNormalizedInverseProbabilityWeighting,
)
from sklearn.tree import DecisionTreeClassifier

CONTENDERS = {
    "ipw": InverseProbabilityWeighting(),
    "snipw": SelfNormalizedInverseProbabilityWeighting(),
    "dr": DoublyRobust(),
}


def reward_predictions(fb, seed):
    model = RegressionModel(
        n_actions=fb["n_actions"],
        base_model=DecisionTreeClassifier(max_depth=3, random_state=seed),
    )
    return model.fit_predict(context=fb["context"], action=fb["action"], reward=fb["reward"],
                             n_folds=2, random_state=seed)


def estimate_all(fb, action_dist, q_hat):
    out = {}
    for name, est in CONTENDERS.items():
        out[name] = est.estimate_policy_value(
            reward=fb["reward"], action=fb["action"], pscore=fb["pscore"],
            action_dist=action_dist, estimated_rewards_by_reg_model=q_hat,
        )
    return out
