"""Cache a logged dataset under data/ (handy for notebooks)."""
import argparse
import pickle
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents_ope.env import collect, make  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--trajectories", type=int, default=1000)
args = parser.parse_args()

env, behavior, _ = make(args.seed)
(ROOT / "data").mkdir(exist_ok=True)
with open(ROOT / "data" / f"logged_{args.seed}.pkl", "wb") as fh:
    pickle.dump(collect(env, behavior, args.seed, args.trajectories), fh)
