"""A tiny OPE-shaped target for sharded runs: the heuristic agent reads a real obp estimator file, but
the evaluation never imports obp, so a seed takes milliseconds (plus an optional sleep).

The metric ``err`` is a fixed function of the estimator file's text (a hash: every distinct candidate
measures differently but reproducibly, a little seed noise on top), and the untouched default
construction ``InverseProbabilityWeighting()`` is penalised, so most edits improve on the baseline
and the search has something to select among.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

PIPELINE = "ope/estimate.py"

SOURCE = """from obp.ope import InverseProbabilityWeighting

ESTIMATOR = InverseProbabilityWeighting()
"""

EVALUATE = """\
import argparse, json, pathlib, random, time, zlib

SLEEP_S = {sleep}

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()
source = (pathlib.Path(__file__).parent / "ope" / "estimate.py").read_text()
quality = zlib.crc32(source.encode()) % 1000 / 1000
err = 0.1 + quality + random.Random(args.seed).uniform(-0.002, 0.002)
if "InverseProbabilityWeighting()" in source:
    err += 1.0
time.sleep(SLEEP_S)
pathlib.Path(args.out).write_text(json.dumps({{"err": err}}))
"""

CONFIG = """\
evaluate:
  command: python evaluate.py --seed {{seed}} --out {{metrics_path}}
  objective: {{metric: err, goal: minimize}}
  seeds: {{search: [0, 1, 2], validate: [], confirm: [100, 101, 102]}}
  timeout_s: 30
edit:
  paths: ["ope/**/*.py"]
  protected: ["evaluate.py"]
loop:
  iterations: {iterations}
  agent: heuristic
  confirm_top: 2
"""


def sketch_files(iterations: int = 6, sleep_s: float = 0.0) -> dict[str, str]:
    """The files of a fresh sketch target (``sleep_s``: seconds every seed's evaluation sleeps)."""
    return {
        "evaluate.py": EVALUATE.format(sleep=sleep_s),
        ".growthhacker.yml": CONFIG.format(iterations=iterations),
        "ope/__init__.py": "",
        PIPELINE: SOURCE,
    }


def candidate_text(repo: Path, diff: str) -> str:
    """The estimator file of ``repo``'s HEAD with ``diff`` (against HEAD) applied, via git."""
    base = subprocess.run(["git", "show", f"HEAD:{PIPELINE}"], cwd=repo, check=True, capture_output=True,
                          text=True).stdout
    scratch = repo.parent / f"{repo.name}-scratch"
    scratch.mkdir(exist_ok=True)
    (scratch / "ope").mkdir(exist_ok=True)
    (scratch / PIPELINE).write_text(base, encoding="utf-8")
    subprocess.run(["git", "apply", "-"], cwd=scratch, input=diff,
                   text=True, check=True, capture_output=True)
    return (scratch / PIPELINE).read_text(encoding="utf-8")
