from obp.ope import RegressionModel
from sklearn.linear_model import LogisticRegression

from . import settings


def fit_reward_model(feedback, seed):
    model = RegressionModel(
        n_actions=settings.N_ACTIONS,
        base_model=LogisticRegression(C=0.05, max_iter=300),
    )
    return model.fit_predict(
        context=feedback["context"],
        action=feedback["action"],
        reward=feedback["reward"],
        n_folds=settings.REWARD_MODEL_FOLDS,
        random_state=seed,
    )
