"""Mean absolute error of DR over the evaluation agents, for one seed."""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents_ope.env import collect, make  # noqa: E402
from agents_ope.evaluation import evaluate  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    start = time.monotonic()
    env, behavior, agents = make(args.seed)
    logged = collect(env, behavior, args.seed)
    results = evaluate(env, logged, agents, args.seed)
    errors = [abs(est - truth) for est, truth in results.values()]
    metrics = {"mean_abs_error": float(sum(errors) / len(errors)), "elapsed_s": time.monotonic() - start}
    metrics.update({f"dr/{name}": float(est) for name, (est, _) in results.items()})
    args.output.write_text(json.dumps(metrics))


if __name__ == "__main__":
    main()
