"""Protected harness of the scope-rl-continuous target: simulate, call the pipeline, score it.

scope-rl's BasicEnv with a 3-dimensional continuous action in [-1, 1]^3 and 10 steps per episode.
Both policies wrap the same fixed (untrained, seeded) TD3 actor: the behavior policy adds truncated
Gaussian noise (sigma 0.3), the evaluation policy is the deterministic actor. Each seed logs 200
behavior episodes; the ground truth is the mean return of 200 on-policy rollouts.

Continuous actions make importance weights kernel-smoothed densities, which can be astronomically
large: the metrics are written as they come (NaN/Infinity included) and the bot's ``evaluate.bounds``
turn implausible values into "extreme value" failures.

``python scripts/evaluate_continuous.py --seed 0 --out metrics.json`` writes, as JSON:
    relative_error  |estimate - ground_truth| / |ground_truth|   (lower is better)
    estimate        the pipeline's estimate of the evaluation policy's expected return
    ground_truth    on-policy mean return
    ope_seconds     wall time of the pipeline call only (FQE fitting included)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import scope_compat  # noqa: F401  (must come before gym / scope_rl; this directory is on sys.path)

import d3rlpy
import numpy as np
import torch
from basicgym import BasicEnv
from d3rlpy.algos import TD3Config
from scope_rl.dataset import SyntheticDataset
from scope_rl.ope.online import rollout_policy_online
from scope_rl.policy import ContinuousEvalHead, TruncatedGaussianHead

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contope import estimate_return  # noqa: E402

ACTION_DIM = 3
STEPS = 10
N_LOGGED_EPISODES = 200
N_TRUTH_ROLLOUTS = 200
BEHAVIOR_SIGMA = 0.3
ENV_SEED = POLICY_SEED = 12345


def run(seed: int) -> dict[str, float]:
    """Log episodes for ``seed``, run the pipeline on them, return the metrics."""
    torch.set_num_threads(1)
    env = BasicEnv(action_type="continuous", action_dim=ACTION_DIM, step_per_episode=STEPS,
                   random_state=ENV_SEED)
    d3rlpy.seed(POLICY_SEED)
    actor = TD3Config().create(device="cpu:0")
    actor.build_with_env(env)
    low, high = np.full(ACTION_DIM, -1.0), np.full(ACTION_DIM, 1.0)
    # Exploration is seeded per seed: the dataset's random_state reseeds the environment only.
    behavior = TruncatedGaussianHead(actor, name="behavior", sigma=np.full(ACTION_DIM, BEHAVIOR_SIGMA),
                                     minimum=low, maximum=high, random_state=seed)
    target = ContinuousEvalHead(actor, name="target", random_state=seed + 10_000)
    dataset = SyntheticDataset(env=env, max_episode_steps=STEPS)
    logged = dataset.obtain_episodes(behavior_policies=behavior, n_trajectories=N_LOGGED_EPISODES,
                                     random_state=seed)
    returns = rollout_policy_online(env, target, n_trajectories=N_TRUTH_ROLLOUTS, step_per_trajectory=STEPS,
                                    random_state=seed + 20_000)
    truth = float(returns.mean())
    started = time.perf_counter()
    estimate = float(estimate_return(logged, target, seed=seed))
    ope_seconds = time.perf_counter() - started
    error = abs(estimate - truth) / abs(truth) if math.isfinite(estimate) else math.inf
    return {"relative_error": error, "estimate": estimate, "ground_truth": truth, "ope_seconds": ope_seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description="scope-rl-continuous OPE harness")
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
