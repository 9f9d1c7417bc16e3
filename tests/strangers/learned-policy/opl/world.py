from obp.dataset import SyntheticBanditDataset, logistic_reward_function


class World:
    def __init__(self, seed, n_actions=10):
        self.ds = SyntheticBanditDataset(
            n_actions=n_actions, dim_context=5, reward_function=logistic_reward_function,
            beta=-0.5, random_state=seed,
        )

    def logs(self, n):
        return self.ds.obtain_batch_bandit_feedback(n_rounds=n)

    def value(self, test, action_dist):
        return self.ds.calc_ground_truth_policy_value(expected_reward=test["expected_reward"], action_dist=action_dist)
