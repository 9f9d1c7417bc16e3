"""The simulated marketplace the audit runs on (kept apart from the estimator code)."""
from __future__ import annotations

import numpy as np
from obp.dataset import SyntheticBanditDataset, logistic_sparse_reward_function

N_ACTIONS = 12


def scenario(seed: int, n_rounds: int = 3000):
    env = SyntheticBanditDataset(
        n_actions=N_ACTIONS,
        dim_context=8,
        reward_function=logistic_sparse_reward_function,
        beta=-3.0,
        random_state=seed,
    )
    return env, env.obtain_batch_bandit_feedback(n_rounds=n_rounds)


def candidate_policy(logs, epsilon: float = 0.1) -> np.ndarray:
    """Epsilon-greedy on the true expected reward."""
    n_rounds, n_actions = logs["expected_reward"].shape
    dist = np.full((n_rounds, n_actions), epsilon / n_actions)
    dist[np.arange(n_rounds), logs["expected_reward"].argmax(axis=1)] += 1.0 - epsilon
    return dist[:, :, None]


def ground_truth(env, logs, action_dist) -> float:
    return float(env.calc_ground_truth_policy_value(expected_reward=logs["expected_reward"], action_dist=action_dist))
