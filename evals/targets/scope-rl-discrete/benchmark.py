"""Protected harness of the scope-rl-discrete target: simulate, call the pipeline, score it.

scope-rl's BasicEnv with 5 discrete actions and 10 steps per episode. Both policies wrap the same
fixed (untrained, seeded) DoubleDQN network: the behavior policy is epsilon-greedy with epsilon 0.5,
the evaluation policy with epsilon 0.1. Each seed logs 300 behavior episodes.

The ground truth is the evaluation policy's expected return. The environment and both policies are
the same for every seed (only the logged episodes change), so it is one number: the mean return of
50,000 on-policy rollouts with scope-rl's ``rollout_policy_online``, computed once and stored in
``ground_truth.json`` together with a fingerprint of the policy network and the environment. Every
evaluation recomputes the fingerprint and refuses to score against a stale truth (another torch,
d3rlpy or scope-rl may build a different network). Regenerate it, after checking why it changed, with

    python benchmark.py --write-truth        # ~4-6 min on one core

``python benchmark.py --seed 0 --out metrics.json`` writes, as JSON:
    relative_error  |estimate - ground_truth| / |ground_truth|   (lower is better)
    estimate        the pipeline's estimate of the evaluation policy's expected return
    ground_truth    the evaluation policy's expected return (``ground_truth.json``)
    ope_seconds     wall time of the pipeline call only (FQE fitting included)
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import rlbench_compat  # noqa: F401  (must come before gym / scope_rl)

import d3rlpy
import numpy as np
import torch
from basicgym import BasicEnv
from d3rlpy.algos import DoubleDQNConfig
from scope_rl.dataset import SyntheticDataset
from scope_rl.policy import EpsilonGreedyHead

from rl_ope import estimate_policy_value

N_ACTIONS = 5
STEPS = 10
N_LOGGED_EPISODES = 300
ENV_SEED = POLICY_SEED = 12345
TRUTH_FILE = Path(__file__).resolve().with_name("ground_truth.json")
TRUTH_ROLLOUTS = 50_000
TRUTH_SEED = 20_000
#: How closely a recomputed fingerprint must match the stored one (float32 networks on other CPUs).
FINGERPRINT_RTOL = 1e-5


class StaleGroundTruth(RuntimeError):
    """``ground_truth.json`` was computed for another policy network or environment."""


def make_policies(seed: int) -> tuple[BasicEnv, EpsilonGreedyHead, EpsilonGreedyHead]:
    """The environment, the behavior and the evaluation policy; their exploration is seeded by ``seed``."""
    torch.set_num_threads(1)
    env = BasicEnv(action_type="discrete", n_actions=N_ACTIONS, step_per_episode=STEPS, random_state=ENV_SEED)
    d3rlpy.seed(POLICY_SEED)
    q_network = DoubleDQNConfig().create(device="cpu:0")
    q_network.build_with_env(env)
    behavior = EpsilonGreedyHead(q_network, n_actions=N_ACTIONS, epsilon=0.5, name="behavior",
                                 random_state=seed)
    target = EpsilonGreedyHead(q_network, n_actions=N_ACTIONS, epsilon=0.1, name="target",
                               random_state=seed + 10_000)
    return env, behavior, target


def collect_episodes(env: BasicEnv, policy: Any, n_episodes: int, seed: int) -> dict[str, Any]:
    """``n_episodes`` episodes of ``policy`` as scope-rl's logged dataset (the layout of
    ``SyntheticDataset.obtain_episodes``: episode-major arrays, ``done``/``terminal`` on each episode's
    last step).

    The episodes run in lockstep on copies of ``env``, so the policy is called once per time step for
    all episodes instead of once per step and episode (3,000 network calls become 10). Episode ``i``
    starts from ``reset(seed=s_i)`` followed by ``reset()``, with ``s_i`` drawn from ``SeedSequence(seed)``
    (the same two resets ``obtain_episodes(n_trajectories=1, random_state=s_i)`` performs). The copies'
    reward-noise RNGs start in the same state, harmless only because this env has ``reward_std=0``.
    """
    meta = SyntheticDataset(env=env, max_episode_steps=STEPS)
    episode_seeds = np.random.SeedSequence(seed).generate_state(n_episodes)
    envs = [copy.deepcopy(env) for _ in range(n_episodes)]
    for episode_env, episode_seed in zip(envs, episode_seeds, strict=True):
        episode_env.reset(seed=int(episode_seed))
    obs = np.stack([episode_env.reset()[0] for episode_env in envs])
    states = np.zeros((n_episodes, STEPS, meta.state_dim))
    actions = np.zeros((n_episodes, STEPS), dtype=int)
    pscores = np.zeros((n_episodes, STEPS))
    rewards = np.zeros((n_episodes, STEPS))
    for t in range(STEPS):
        action, pscore = policy.sample_action_and_output_pscore(obs)
        states[:, t], actions[:, t], pscores[:, t] = obs, action, pscore
        for i, episode_env in enumerate(envs):
            obs[i], rewards[i, t], *_ = episode_env.step(action[i])
    ends = np.zeros((n_episodes, STEPS))
    ends[:, -1] = 1.0
    return {
        "size": n_episodes * STEPS, "n_trajectories": n_episodes, "step_per_trajectory": STEPS,
        "action_type": meta.action_type, "n_actions": meta.n_actions, "action_dim": meta.action_dim,
        "action_meaning": meta.action_meaning, "action_keys": meta.action_keys,
        "state_dim": meta.state_dim, "state_keys": meta.state_keys,
        "state": states.reshape(-1, meta.state_dim), "action": actions.reshape(-1),
        "reward": rewards.reshape(-1), "done": ends.reshape(-1), "terminal": ends.reshape(-1).copy(),
        "info": {}, "pscore": pscores.reshape(-1), "behavior_policy": policy.name, "dataset_id": 0,
    }


def fingerprint(env: BasicEnv, target: EpsilonGreedyHead) -> dict[str, list[float]]:
    """What the ground truth depends on, as numbers: the network's greedy actions and Q-values on fixed
    probe states, and the rewards of a fixed action sequence in the environment."""
    probes = np.random.RandomState(0).normal(size=(64, env.observation_space.shape[0]))
    greedy = target.predict(probes)
    q_values = target.base_policy.predict_value(probes, greedy)  # the head's predict_value breaks on d3rlpy 2
    probe_env = copy.deepcopy(env)
    probe_env.reset(seed=0)
    env_rewards = [float(probe_env.step(t % N_ACTIONS)[1]) for t in range(STEPS)]
    return {"greedy_actions": greedy.astype(float).tolist(), "q_values": np.ravel(q_values).tolist(),
            "env_rewards": env_rewards}


def load_ground_truth(env: BasicEnv, target: EpsilonGreedyHead, path: Path = TRUTH_FILE) -> float:
    """The stored expected return of ``target``.

    Raises:
        StaleGroundTruth: the stored fingerprint does not match this network and environment.
    """
    stored = json.loads(path.read_text(encoding="utf-8"))
    current = fingerprint(env, target)
    for name, values in current.items():
        if not np.allclose(values, stored["fingerprint"][name], rtol=FINGERPRINT_RTOL, atol=1e-8):
            raise StaleGroundTruth(
                f"{path.name} was computed for another {name.replace('_', ' ')} (libraries: "
                f"{stored['versions']}); check why the policy or environment changed, then run "
                "`python benchmark.py --write-truth`")
    return float(stored["value"])


def write_ground_truth(path: Path = TRUTH_FILE, n_rollouts: int = TRUTH_ROLLOUTS) -> dict[str, Any]:
    """Compute the expected return with scope-rl's own on-policy rollouts and store it with the
    fingerprint; returns what was written."""
    from scope_rl.ope.online import rollout_policy_online  # only needed here

    env, _, target = make_policies(TRUTH_SEED)
    probe = fingerprint(env, target)
    returns = rollout_policy_online(copy.deepcopy(env), target, n_trajectories=n_rollouts,
                                    step_per_trajectory=STEPS, random_state=TRUTH_SEED)
    import gym
    import scope_rl

    record = {
        "value": float(returns.mean()),
        "standard_error": float(returns.std(ddof=1) / np.sqrt(n_rollouts)),
        "rollouts": n_rollouts,
        "rollout_seed": TRUTH_SEED,
        "generated_by": "python benchmark.py --write-truth",
        "versions": {"scope_rl": scope_rl.__version__, "d3rlpy": d3rlpy.__version__,
                     "torch": torch.__version__, "numpy": np.__version__, "gym": gym.__version__},
        "fingerprint": probe,
    }
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return record


def run(seed: int) -> dict[str, float]:
    """Log episodes for ``seed``, run the pipeline on them, return the metrics.

    Raises:
        StaleGroundTruth: ``ground_truth.json`` does not belong to this network and environment.
    """
    env, behavior, target = make_policies(seed)
    truth = load_ground_truth(env, target)
    logged = collect_episodes(env, behavior, N_LOGGED_EPISODES, seed)
    # The pipeline's own randomness (FQE initialisation, minibatches) is seeded per seed, independently
    # of what the harness drew before, so a seed always evaluates to the same numbers.
    d3rlpy.seed(seed)
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
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--seed", type=int)
    action.add_argument("--write-truth", action="store_true", help=f"recompute {TRUTH_FILE.name}")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.write_truth:
        record = write_ground_truth()
        print(f"ground truth {record['value']:.5f} ± {record['standard_error']:.5f} written to {TRUTH_FILE}")
        return 0
    if args.out is None:
        parser.error("--seed needs --out")
    try:
        metrics = run(args.seed)
    except StaleGroundTruth as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    print(" ".join(f"{k}={v:.5g}" for k, v in metrics.items()))
    return 0


if __name__ == "__main__":
    exit_code = main()
    # Skip the interpreter's shutdown: tearing down torch, scipy and pandas takes ~1.3 s per evaluation
    # here and does nothing the evaluation needs (the metrics file is closed; the output is flushed).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)
