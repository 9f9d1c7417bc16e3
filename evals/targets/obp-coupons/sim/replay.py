"""Replay one past coupon campaign and score the offline estimate of the new targeting policy.

``python sim/replay.py --seed 3 --out metrics.json`` simulates campaign ``seed`` (a region: its
customers, what each coupon is worth to them, the targeting rule that ran there and the log it left),
asks ``couponeval.policy_value`` what the new policy would have earned, and writes, as JSON:

    value_error   |estimate - truth| / truth                  (lower is better)
    estimate      the pipeline's estimate of the new policy's redemption rate
    truth         the exact redemption rate of the new policy on the campaign's customers
    fit_cpu_s     CPU seconds of the pipeline call only

The log is what the campaign system stored, including its flaws: in some regions the store managers
overrode the targeting rule for part of the customers (a coupon they thought best), and the logger
kept recording the rule's propensity, not the coupon's real chance of being sent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from couponeval import policy_value  # noqa: E402

CUSTOMERS = 2_000
COUPONS = 8
FEATURES = 5
#: Share of regions whose managers overrode the rule, and the share of customers they overrode.
OVERRIDE_REGIONS = 0.35
OVERRIDDEN = 0.5


def softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    weights = np.exp(scores)
    return weights / weights.sum(axis=1, keepdims=True)


def campaign(seed: int) -> tuple[dict[str, object], np.ndarray, float]:
    """The stored log of campaign ``seed``, the new policy's coupon probabilities and the truth."""
    rng = np.random.default_rng(seed)
    customers = rng.normal(size=(CUSTOMERS, FEATURES))
    taste = rng.normal(scale=0.7, size=(COUPONS, FEATURES))
    twist = rng.normal(size=(COUPONS, FEATURES))
    appeal = rng.normal(-2.0, 0.5, size=COUPONS)
    # Redemption is not linear in the features: a coupon also appeals to customers at either end of
    # one segment axis of its own ((x . u)^2 / 5 is about 1 on average).
    segment = (customers @ twist.T) ** 2 / FEATURES - 1.0
    redeem = 1.0 / (1.0 + np.exp(-(appeal + customers @ taste.T + 1.5 * segment)))
    sharpness = float(np.exp(rng.normal(np.log(1.5), 0.8)))  # how strictly the region followed its rule
    rule = softmax(sharpness * (customers @ rng.normal(size=(COUPONS, FEATURES)).T))
    new_policy = softmax(3.0 * redeem)
    draws = rng.random((CUSTOMERS, 1))
    sent = np.minimum((rule.cumsum(axis=1) < draws).sum(axis=1), COUPONS - 1)
    if rng.random() < OVERRIDE_REGIONS:
        # The manager's pick: the coupon each overridden customer is most likely to redeem.
        overridden = rng.random(CUSTOMERS) < OVERRIDDEN
        sent[overridden] = redeem[overridden].argmax(axis=1)
    rows = np.arange(CUSTOMERS)
    log = {
        "n_rounds": CUSTOMERS,
        "n_actions": COUPONS,
        "context": customers,
        "action": sent,
        "reward": rng.binomial(1, redeem[rows, sent]),
        "pscore": rule[rows, sent],  # what the logger stored: the rule's probability
        "position": None,
    }
    truth = float((new_policy * redeem).sum(axis=1).mean())
    return log, new_policy[:, :, np.newaxis], truth


def run(seed: int) -> dict[str, float]:
    """Simulate campaign ``seed``, run the pipeline on its log, return the metrics."""
    log, new_policy, truth = campaign(seed)
    np.random.seed(seed)
    with threadpool_limits(limits=1):
        started = time.process_time()
        estimate = float(policy_value(log, new_policy, seed=seed))
        fit_cpu_s = time.process_time() - started
    return {"value_error": abs(estimate - truth) / truth, "estimate": estimate, "truth": truth,
            "fit_cpu_s": fit_cpu_s}


def main() -> int:
    parser = argparse.ArgumentParser(description="replay one coupon campaign and score the estimate")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    metrics = run(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    print(" ".join(f"{name}={value:.5g}" for name, value in metrics.items()))
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # obp pulls in torch: skip its slow interpreter teardown
