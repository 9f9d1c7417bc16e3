"""Evaluate the coupon OPE on one seed and dump the error against the simulator's truth."""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coupon_ope.estimate import policy_values  # noqa: E402
from coupon_ope.simulate import greedy_policy, make_logs, true_value  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=3000)
    ap.add_argument("--output", default="eval.json", help="where to write the metrics")
    args = ap.parse_args()

    t0 = time.perf_counter()
    world, logs = make_logs(args.seed, args.rounds)
    pi = greedy_policy(logs)
    truth = true_value(world, logs, pi)
    estimate = float(policy_values(logs, pi)["ipw"])
    result = {
        "abs_rel_error": abs(estimate - truth) / abs(truth),
        "estimate": estimate,
        "truth": truth,
        "runtime_s": time.perf_counter() - t0,
    }
    Path(args.output).write_text(json.dumps(result, indent=2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
