import d3rlpy
import torch
from basicgym import BasicEnv
from d3rlpy.algos import DoubleDQNConfig
from scope_rl.dataset import SyntheticDataset
from scope_rl.policy import EpsilonGreedyHead

HORIZON = 8


def logged_data(seed, n_trajectories=300):
    torch.set_num_threads(1)
    d3rlpy.seed(seed)
    env = BasicEnv(action_type="discrete", step_per_episode=HORIZON, random_state=seed)
    q = DoubleDQNConfig().create(device=None)
    q.build_with_env(env)
    behavior = EpsilonGreedyHead(q, n_actions=env.action_space.n, epsilon=0.6, name="behavior", random_state=seed)
    target = EpsilonGreedyHead(q, n_actions=env.action_space.n, epsilon=0.15, name="target", random_state=seed + 1)
    data = SyntheticDataset(env=env, max_episode_steps=HORIZON).obtain_episodes(
        behavior_policies=behavior, n_trajectories=n_trajectories, obtain_info=False, random_state=seed
    )
    return env, data, target
