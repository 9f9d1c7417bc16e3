"""Protected harness of the obp-obd target: bootstrap the random logs, call the pipeline, score it.

``python bench/run_obd.py --seed 0 --out metrics.json`` writes, as JSON:
    rel_err       |estimate - ground_truth| / ground_truth   (lower is better)
    estimate      the pipeline's estimate of the bts policy's click rate
    ground_truth  the on-policy mean reward of the bts logs
    pipeline_s    wall time of the pipeline call only

The evaluation policy is obp's ``BernoulliTS`` with the ZOZOTOWN prior, turned into an action
distribution by 20,000 Monte-Carlo draws with a fixed seed. Those draws cost ~1.5 s and are the same
for every seed, so their counts are stored in ``bench/bts_policy.json`` (the distribution is the counts
divided by 20,000, bit for bit what obp computes). Regenerate the file with
``python bench/run_obd.py --write-policy``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
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
POLICY_FILE = Path(__file__).resolve().with_name("bts_policy.json")


def bts_action_counts(n_actions: int, len_list: int) -> np.ndarray:
    """How often each (item, position) was chosen in the bts policy's ``N_SIM`` simulated rounds."""
    policy = BernoulliTS(n_actions=n_actions, len_list=len_list, is_zozotown_prior=True, campaign=CAMPAIGN,
                         random_state=POLICY_SEED)
    one_round = policy.compute_batch_action_dist(n_sim=N_SIM, n_rounds=1)
    return np.rint(one_round[0] * N_SIM).astype(int)


def write_bts_policy(path: Path = POLICY_FILE) -> None:
    """Store the bts policy's simulated action counts in ``path``."""
    dataset = CompatOpenBanditDataset(behavior_policy="random", campaign=CAMPAIGN)
    counts = bts_action_counts(dataset.n_actions, dataset.len_list)
    record = {"n_sim": N_SIM, "policy_seed": POLICY_SEED, "campaign": CAMPAIGN,
              "generated_by": "python bench/run_obd.py --write-policy", "action_counts": counts.tolist()}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")


def bts_action_dist(n_rounds: int, path: Path = POLICY_FILE) -> np.ndarray:
    """The bts policy's (context-free) action distribution, shape (n_rounds, n_actions, len_list)."""
    stored = json.loads(path.read_text(encoding="utf-8"))
    one_round = np.asarray(stored["action_counts"], dtype=float) / stored["n_sim"]
    return np.repeat(one_round[np.newaxis], n_rounds, axis=0)


def run(seed: int) -> dict[str, float]:
    """Bootstrap the random logs with ``seed``, run the pipeline, return the metrics."""
    logging.getLogger("obp").setLevel(logging.WARNING)
    truth = float(CompatOpenBanditDataset.calc_on_policy_policy_value_estimate(behavior_policy="bts",
                                                                             campaign=CAMPAIGN))
    dataset = CompatOpenBanditDataset(behavior_policy="random", campaign=CAMPAIGN)
    logged = dataset.sample_bootstrap_bandit_feedback(sample_size=dataset.n_rounds, random_state=seed)
    action_dist = bts_action_dist(logged["n_rounds"])
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
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--seed", type=int)
    action.add_argument("--write-policy", action="store_true", help=f"recompute {POLICY_FILE.name}")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.write_policy:
        write_bts_policy()
        print(f"bts policy counts written to {POLICY_FILE}")
        return 0
    if args.out is None:
        parser.error("--seed needs --out")
    metrics = run(args.seed)
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
