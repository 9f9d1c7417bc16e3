"""Compare IPW, SNIPW and DR on one seed."""
import argparse
import json

import numpy as np
from obp.dataset import SyntheticBanditDataset, logistic_reward_function

from duel.contenders import estimate_all, reward_predictions

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--out", default="errors.json")
parser.add_argument("--n", type=int, default=2000)
args = parser.parse_args()

ds = SyntheticBanditDataset(n_actions=4, dim_context=3, reward_function=logistic_reward_function,
                            beta=3.0, random_state=args.seed)
fb = ds.obtain_batch_bandit_feedback(n_rounds=args.n)
# evaluate the uniform random policy from logs of a near-greedy one
pi = np.full((args.n, 4, 1), 0.25)
truth = ds.calc_ground_truth_policy_value(expected_reward=fb["expected_reward"], action_dist=pi)
estimates = estimate_all(fb, pi, reward_predictions(fb, args.seed))
errors = {f"{name}_sq_error": float((value - truth) ** 2) for name, value in estimates.items()}
with open(args.out, "w") as f:
    json.dump(errors, f, indent=2)
print(errors)
