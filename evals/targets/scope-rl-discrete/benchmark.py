"""Protected harness of the scope-rl-discrete target: simulate, call the pipeline, score it.

scope-rl's BasicEnv with 5 discrete actions and 10 steps per episode. Both policies wrap the same
fixed DoubleDQN network: the behavior policy is epsilon-greedy with epsilon 0.5, the evaluation
policy with epsilon 0.1. Each seed logs 300 behavior episodes; the ground truth is the mean return
of 500 on-policy rollouts of the evaluation policy.

``python benchmark.py --seed 0 --out metrics.json`` writes, as JSON:
    relative_error  |estimate - ground_truth| / |ground_truth|   (lower is better)
    estimate        the pipeline's estimate of the evaluation policy's expected return
    ground_truth    on-policy mean return
    ope_seconds     wall time of the pipeline call only (FQE fitting included)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import rlbench_compat  # noqa: F401  (must come before gym / scope_rl)

import d3rlpy
import torch
from basicgym import BasicEnv
from d3rlpy.algos import DoubleDQNConfig
from scope_rl.dataset import SyntheticDataset
from scope_rl.ope.online import rollout_policy_online
from scope_rl.policy import EpsilonGreedyHead

from rl_ope import estimate_policy_value

N_ACTIONS = 5
STEPS = 10
N_LOGGED_EPISODES = 300
N_TRUTH_ROLLOUTS = 500
ENV_SEED = POLICY_SEED = 12345


def run(seed: int) -> dict[str, float]:
    """Log episodes for ``seed``, run the pipeline on them, return the metrics."""
    torch.set_num_threads(1)
    env = BasicEnv(action_type="discrete", n_actions=N_ACTIONS, step_per_episode=STEPS, random_state=ENV_SEED)
    d3rlpy.seed(POLICY_SEED)
    q_network = DoubleDQNConfig().create(device="cpu:0")
    q_network.build_with_env(env)
    # Exploration is seeded per seed: the dataset's random_state reseeds the environment only.
    behavior = EpsilonGreedyHead(q_network, n_actions=N_ACTIONS, epsilon=0.5, name="behavior",
                                 random_state=seed)
    target = EpsilonGreedyHead(q_network, n_actions=N_ACTIONS, epsilon=0.1, name="target",
                               random_state=seed + 10_000)
    dataset = SyntheticDataset(env=env, max_episode_steps=STEPS)
    logged = dataset.obtain_episodes(behavior_policies=behavior, n_trajectories=N_LOGGED_EPISODES,
                                     random_state=seed)
    returns = rollout_policy_online(env, target, n_trajectories=N_TRUTH_ROLLOUTS, step_per_trajectory=STEPS,
                                    random_state=seed + 20_000)
    truth = float(returns.mean())
    started = time.perf_counter()
    estimate = float(estimate_policy_value(logged, target, seed=seed))
    ope_seconds = time.perf_counter() - started
    return {
        "relative_error": abs(estimate - truth) / abs(truth),
        "estimate": estimate,
        "ground_truth": truth,
        "ope_seconds": ope_seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="scope-rl-discrete OPE harness")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    metrics = run(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    print(" ".join(f"{k}={v:.5g}" for k, v in metrics.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
