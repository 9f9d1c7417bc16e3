"""Evaluation harness for the OPE pipeline (protected: do not edit to improve the score).

Simulates logged bandit feedback with obp, asks ``ope_pipeline.estimate_policy_value`` to estimate
the value of a fixed evaluation policy from that log, and compares the estimate with the ground truth
the simulator knows. Run ``python evaluate.py --seed 0 --out metrics.json``.

Metrics written to ``--out`` (JSON):
    relative_ee   |estimate - ground_truth| / |ground_truth|   (lower is better)
    estimate      the pipeline's estimate of the policy value
    ground_truth  the true value of the evaluation policy on the logged contexts
    runtime_s     CPU time of the pipeline call only (data simulation and imports excluded)

Non-finite estimates are written as they are (``NaN``/``Infinity``); judging them is the caller's job.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from obp.dataset import SyntheticBanditDataset, logistic_reward_function
from threadpoolctl import threadpool_limits

from ope_pipeline import estimate_policy_value

N_ACTIONS = 10
DIM_CONTEXT = 5
#: Negative inverse temperature: the logging policy prefers low-reward actions, so the actions the
#: (near-greedy) evaluation policy takes are rarely logged and plain importance weights get large.
BEHAVIOR_BETA = -3.0
#: Exploration rate of the fixed epsilon-greedy evaluation policy.
EVAL_EPSILON = 0.1
DEFAULT_N_ROUNDS = 5_000


def epsilon_greedy(expected_reward: np.ndarray, epsilon: float) -> np.ndarray:
    """Return the action distribution, shape (n_rounds, n_actions, 1), of an epsilon-greedy policy.

    The policy takes the best action under ``expected_reward`` with probability ``1 - epsilon`` and a
    uniformly random action otherwise.
    """
    n_rounds, n_actions = expected_reward.shape
    dist = np.full((n_rounds, n_actions), epsilon / n_actions)
    dist[np.arange(n_rounds), expected_reward.argmax(axis=1)] += 1.0 - epsilon
    return dist[:, :, np.newaxis]


def simulate(seed: int, n_rounds: int) -> tuple[dict[str, Any], np.ndarray, float]:
    """Return ``(logged_feedback, action_dist, ground_truth)`` for one seed.

    ``logged_feedback`` is what a production log holds: contexts, actions, rewards and the propensity
    of each logged action. The simulator's expected rewards and the logging policy's full action
    distribution are removed: a pipeline could read (or, via ``log(pi_b) / beta``, reconstruct) the
    answer from them.
    """
    dataset = SyntheticBanditDataset(
        n_actions=N_ACTIONS,
        dim_context=DIM_CONTEXT,
        reward_type="binary",
        reward_function=logistic_reward_function,
        behavior_policy_function=None,  # logits = expected reward, tempered by beta
        beta=BEHAVIOR_BETA,
        random_state=seed,
    )
    feedback = dataset.obtain_batch_bandit_feedback(n_rounds=n_rounds)
    expected_reward = feedback.pop("expected_reward")
    del feedback["pi_b"]
    action_dist = epsilon_greedy(expected_reward, EVAL_EPSILON)
    ground_truth = float(
        dataset.calc_ground_truth_policy_value(expected_reward=expected_reward, action_dist=action_dist)
    )
    return feedback, action_dist, ground_truth


def evaluate(seed: int, n_rounds: int) -> dict[str, float]:
    """Run the pipeline on one simulated log and return the metrics dictionary."""
    random.seed(seed)
    np.random.seed(seed)
    feedback, action_dist, ground_truth = simulate(seed, n_rounds)
    # One BLAS/OpenMP thread and CPU time, not wall time: a pipeline call of a few milliseconds
    # varies several-fold in wall time on a busy machine (the baseline and a candidate are measured
    # minutes apart, under different load), which would make runtime_s too noisy to guard.
    with threadpool_limits(limits=1):
        start = time.process_time()
        estimate = float(estimate_policy_value(feedback, action_dist, random_state=seed))
        runtime_s = time.process_time() - start
    return {
        "relative_ee": abs(estimate - ground_truth) / abs(ground_truth),
        "estimate": estimate,
        "ground_truth": ground_truth,
        "runtime_s": runtime_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True, help="seed of the simulation and the pipeline")
    parser.add_argument("--out", type=Path, required=True, help="where to write the metrics JSON")
    parser.add_argument("--n-rounds", type=int, default=DEFAULT_N_ROUNDS, help="size of the logged data")
    args = parser.parse_args(argv)

    metrics = evaluate(args.seed, args.n_rounds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    note = "" if math.isfinite(metrics["estimate"]) else "  (estimate is not finite)"
    print(
        f"seed={args.seed} n_rounds={args.n_rounds} estimate={metrics['estimate']:.5f} "
        f"ground_truth={metrics['ground_truth']:.5f} relative_ee={metrics['relative_ee']:.4f} "
        f"runtime_s={metrics['runtime_s']:.3f}{note}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
