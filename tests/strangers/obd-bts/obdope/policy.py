from obp.policy import BernoulliTS


def bts_action_dist(dataset, n_rounds, seed):
    bts = BernoulliTS(
        n_actions=dataset.n_actions,
        len_list=dataset.len_list,
        is_zozotown_prior=True,
        campaign="all",
        random_state=seed,
    )
    return bts.compute_batch_action_dist(n_rounds=n_rounds, n_sim=20000)
