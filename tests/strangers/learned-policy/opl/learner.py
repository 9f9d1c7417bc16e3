from obp.policy import IPWLearner
from sklearn.linear_model import LogisticRegression


def train(logs, n_actions, seed):
    learner = IPWLearner(
        n_actions=n_actions,
        base_classifier=LogisticRegression(C=0.01, max_iter=200, random_state=seed),
    )
    learner.fit(context=logs["context"], action=logs["action"], reward=logs["reward"], pscore=logs["pscore"])
    return learner
