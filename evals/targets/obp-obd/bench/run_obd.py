"""Protected harness of the obp-obd target: bootstrap the random logs, call the pipeline, score it.

``python bench/run_obd.py --seed 0 --out metrics.json`` writes, as JSON:
    rel_err       |estimate - ground_truth| / ground_truth   (lower is better)
    estimate      the pipeline's estimate of the bts policy's click rate
    ground_truth  the on-policy mean reward of the bts logs
    pipeline_s    wall time of the pipeline call only
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
from obp.policy import BernoulliTS
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.obd_compat import CompatOpenBanditDataset  # noqa: E402
from obd_ope import estimate_click_rate  # noqa: E402

CAMPAIGN = "all"
#: Monte-Carlo draws for the bts action distribution; fixed seed, so every seed sees the same policy.
N_SIM = 20_000
POLICY_SEED = 12345


def bts_action_dist(n_actions: int, len_list: int, n_rounds: int) -> np.ndarray:
    """The bts policy's (context-free) action distribution, shape (n_rounds, n_actions, len_list)."""
    policy = BernoulliTS(n_actions=n_actions, len_list=len_list, is_zozotown_prior=True, campaign=CAMPAIGN,
                         random_state=POLICY_SEED)
    one_round = policy.compute_batch_action_dist(n_sim=N_SIM, n_rounds=1)
    return np.repeat(one_round, n_rounds, axis=0)


def run(seed: int) -> dict[str, float]:
    """Bootstrap the random logs with ``seed``, run the pipeline, return the metrics."""
    logging.getLogger("obp").setLevel(logging.WARNING)
    truth = float(CompatOpenBanditDataset.calc_on_policy_policy_value_estimate(behavior_policy="bts",
                                                                             campaign=CAMPAIGN))
    dataset = CompatOpenBanditDataset(behavior_policy="random", campaign=CAMPAIGN)
    logged = dataset.sample_bootstrap_bandit_feedback(sample_size=dataset.n_rounds, random_state=seed)
    action_dist = bts_action_dist(dataset.n_actions, dataset.len_list, logged["n_rounds"])
    with threadpool_limits(limits=1):
        started = time.perf_counter()
        estimate = float(estimate_click_rate(logged, action_dist, seed=seed))
        pipeline_s = time.perf_counter() - started
    return {
        "rel_err": abs(estimate - truth) / truth,
        "estimate": estimate,
        "ground_truth": truth,
        "pipeline_s": pipeline_s,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="obp-obd OPE harness")
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
