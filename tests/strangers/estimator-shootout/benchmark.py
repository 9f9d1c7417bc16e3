#!/usr/bin/env python
"""Benchmark the configured estimator on one seed over several evaluation policies."""
import argparse
import json
import time

import numpy as np
from obp.dataset import SyntheticBanditDataset, logistic_polynomial_reward_function
from obp.utils import softmax

from shootout import settings
from shootout.estimators import estimate
from shootout.reward_model import fit_reward_model


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("-s", "--seed", type=int, required=True)
    parser.add_argument("--metrics-out", type=str, default=None)
    parser.add_argument("--verbose", action="store_true")
    return parser.parse_args()


def run(seed):
    dataset = SyntheticBanditDataset(
        n_actions=settings.N_ACTIONS,
        dim_context=4,
        reward_function=logistic_polynomial_reward_function,
        beta=1.0,
        random_state=seed,
    )
    feedback = dataset.obtain_batch_bandit_feedback(n_rounds=settings.N_ROUNDS)
    predicted = fit_reward_model(feedback, seed)
    sq_rel_errors = []
    for temperature in settings.TEMPERATURES:
        action_dist = softmax(-feedback["expected_reward"] / temperature)[:, :, np.newaxis]
        truth = dataset.calc_ground_truth_policy_value(
            expected_reward=feedback["expected_reward"], action_dist=action_dist
        )
        value = estimate(feedback, action_dist, predicted)
        sq_rel_errors.append(((value - truth) / truth) ** 2)
    return float(np.mean(sq_rel_errors))


if __name__ == "__main__":
    args = parse_args()
    started = time.time()
    score = run(args.seed)
    metrics = {"mean_sq_rel_error": score, "seconds": time.time() - started}
    if args.verbose or args.metrics_out is None:
        print(metrics)
    if args.metrics_out:
        with open(args.metrics_out, "w") as fh:
            json.dump(metrics, fh)
