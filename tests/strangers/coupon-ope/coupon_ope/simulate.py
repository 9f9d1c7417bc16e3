"""Synthetic coupon logs and the policy we want to evaluate (ground truth comes from here)."""
import numpy as np
from obp.dataset import SyntheticBanditDataset, logistic_reward_function

N_COUPONS = 8


def make_logs(seed, n_rounds=3000):
    world = SyntheticBanditDataset(
        n_actions=N_COUPONS,
        dim_context=6,
        reward_function=logistic_reward_function,
        beta=-1.5,  # logging policy is close to uniform
        random_state=seed,
    )
    logs = world.obtain_batch_bandit_feedback(n_rounds=n_rounds)
    return world, logs


def greedy_policy(logs, temperature=0.3):
    """Softmax over the true expected reward: what a well-tuned model would do."""
    logits = logs["expected_reward"] / temperature
    logits = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    return probs[:, :, np.newaxis]


def true_value(world, logs, action_dist):
    return float(world.calc_ground_truth_policy_value(
        expected_reward=logs["expected_reward"], action_dist=action_dist))
