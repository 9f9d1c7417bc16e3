"""The evaluation runs in the target's environment, never in the bot's.

The bot is installed apart (its own venv, run by its absolute path, as action.yml does on GitHub);
the target's dependencies live in another environment that is first on PATH (setup-python's, after
the workflow's install step). The evaluation must see the target's interpreter and the target's
pinned package, and none of the bot's packages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from tests.helpers.repos import git_repo

BOT = Path(sys.executable).parent / "growthhacker"

EVALUATE = """\
import argparse, importlib.util, json, pathlib, sys
import ghpin  # only the target's environment has it

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()
seen = {{"executable": sys.executable, "prefix": sys.prefix, "ghpin": ghpin.__version__,
         "bot_packages": [name for name in ("unidiff", "pydantic", "anthropic", "github")
                          if importlib.util.find_spec(name) is not None]}}
with open({seen!r}, "a", encoding="utf-8") as f:
    f.write(json.dumps(seen) + "\\n")
pathlib.Path(args.out).write_text(json.dumps({{"err": 0.5 + args.seed / 100}}))
"""

CONFIG = """\
evaluate:
  command: python evaluate.py --seed {seed} --out {metrics_path}
  objective: {metric: err, goal: minimize}
  seeds: {search: [0, 1], confirm: [100]}
  timeout_s: 60
edit:
  paths: ["pipeline/**/*.py"]
"""


def target_venv(root: Path) -> Path:
    """A venv of the target's own (no pip, no bot) holding the package ``ghpin`` 7.3; returns it."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    python = root / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    package = Path(purelib) / "ghpin"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('__version__ = "7.3"\n', encoding="utf-8")
    return root


def test_the_evaluation_sees_the_targets_environment_not_the_bots(tmp_path: Path) -> None:
    venv = target_venv(tmp_path / "target-venv")
    seen = tmp_path / "seen.jsonl"
    repo = git_repo(tmp_path / "repo", {
        "evaluate.py": EVALUATE.format(seen=str(seen)), ".growthhacker.yml": CONFIG,
        "pipeline/__init__.py": "", "pipeline/estimator.py": "SCALE = 1.0\n",
    })
    # The target's environment first on PATH, as setup-python and the install step leave it; the bot
    # is started by its absolute path and is on no PATH at all.
    env = {"PATH": os.pathsep.join([str(venv / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]),
           "HOME": str(tmp_path), "NO_COLOR": "1"}

    proc = subprocess.run([str(BOT), "verify", str(repo), "--base", "HEAD"], env=env, capture_output=True,
                          text=True, timeout=300, check=False)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    records = [json.loads(line) for line in seen.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 2  # base and head are one commit: seeds 0 and 1, evaluated once each
    bot_prefix = sysconfig.get_path("data")
    for record in records:
        assert record["ghpin"] == "7.3"
        assert Path(record["prefix"]) == venv.resolve() or Path(record["prefix"]) == venv
        assert not record["executable"].startswith(str(Path(bot_prefix)))
        assert record["bot_packages"] == []
