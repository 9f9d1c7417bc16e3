import argparse
import json
import os
import sys
import time

sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import rl_ope  # noqa: E402,F401
from rl_ope.estimators import run_ope  # noqa: E402
from rl_ope.setup_env import logged_data  # noqa: E402

if __name__ == "__main__":
    p = argparse.ArgumentParser("eval_rl")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json-out", required=True)
    a = p.parse_args()
    tic = time.time()
    env, data, target = logged_data(a.seed)
    estimates, on_policy = run_ope(env, data, target, a.seed)
    tis = float(estimates["tis"])
    with open(a.json_out, "w") as fh:
        json.dump({"squared_error": (tis - on_policy) ** 2, "tis": tis, "on_policy": on_policy,
                   "wall_time": time.time() - tic}, fh)
