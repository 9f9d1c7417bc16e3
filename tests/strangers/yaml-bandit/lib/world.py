import numpy as np
from obp.dataset import SyntheticBanditDataset


def simulate(cfg, seed):
    ds = SyntheticBanditDataset(
        n_actions=cfg["n_actions"],
        dim_context=cfg["dim_context"],
        beta=2.0,
        random_state=seed,
    )
    fb = ds.obtain_batch_bandit_feedback(n_rounds=cfg["n_rounds"])
    # evaluation policy: always the action with the lowest expected reward index shift
    pi_e = np.zeros_like(fb["expected_reward"])
    pi_e[np.arange(fb["n_rounds"]), (fb["expected_reward"].argmax(1) + 1) % cfg["n_actions"]] = 0.8
    pi_e += 0.2 / cfg["n_actions"]
    pi_e = pi_e / pi_e.sum(1, keepdims=True)
    truth = ds.calc_ground_truth_policy_value(expected_reward=fb["expected_reward"], action_dist=pi_e[:, :, None])
    return fb, pi_e[:, :, None], truth
