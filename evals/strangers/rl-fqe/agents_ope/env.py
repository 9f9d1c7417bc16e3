from agents_ope import patches  # noqa: F401

import d3rlpy
from basicgym import BasicEnv
from d3rlpy.algos import DoubleDQNConfig
from scope_rl.dataset import SyntheticDataset
from scope_rl.policy import EpsilonGreedyHead

STEPS = 6


def make(seed):
    d3rlpy.seed(seed)
    env = BasicEnv(action_type="discrete", step_per_episode=STEPS, random_state=seed)
    base = DoubleDQNConfig().create(device=None)
    base.build_with_env(env)
    n = env.action_space.n
    behavior = EpsilonGreedyHead(base, n_actions=n, epsilon=0.7, name="behavior", random_state=seed)
    agents = [
        EpsilonGreedyHead(base, n_actions=n, epsilon=eps, name=f"eps_{eps}", random_state=seed + i + 1)
        for i, eps in enumerate((0.1, 0.4))
    ]
    return env, behavior, agents


def collect(env, behavior, seed, n_trajectories=200):
    return SyntheticDataset(env=env, max_episode_steps=STEPS).obtain_episodes(
        behavior_policies=behavior, n_trajectories=n_trajectories, obtain_info=False, random_state=seed
    )
