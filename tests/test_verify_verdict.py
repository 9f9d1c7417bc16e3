"""`growthhacker verify` says what was decided: the issue's two reports reproduced through the CLI.

1. A head better on all three search seeds by about 90% (mse 0.0107 → 0.0010) used to read
   "✅ unchanged" and end "neutral": per-seed errors differ tenfold between seeds, and a t-interval
   on raw differences never excluded 0. It reads "better (won 3/3 seeds)" and ends "success".
2. Guardrails within their allowance (fit_seconds +48% of +200%, wall_s +8% of +200%) used to read
   "❌ regressed" next to the winning objective.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli
from tests.helpers.repos import git_repo

# Seed 1 is the hard one: every number on it is ten times the others', as with OPE errors.
EVALUATE = """\
import argparse, json, pathlib, sys
sys.path.insert(0, str(pathlib.Path(__file__).parent))
import model

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()
hardness = {0: 1.0, 1: 10.0, 2: 0.6}[args.seed]
metrics = {"mse": model.ERROR * hardness, "fit_seconds": model.FIT_SECONDS, "wall_s": model.WALL_S}
pathlib.Path(args.out).write_text(json.dumps(metrics))
"""
CONFIG = """\
evaluate:
  command: python evaluate.py --seed {seed} --out {metrics_path}
  objective: {metric: mse, goal: minimize}
  guardrails:
    - {metric: fit_seconds, max_regression: 2.0}
    - {metric: wall_s, max_regression: 2.0}
  seeds: {search: [0, 1, 2], confirm: [100]}
edit:
  paths: ["model.py"]
  protected: ["evaluate.py"]
"""
BASE = "ERROR = 0.0107\nFIT_SECONDS = 10.0\nWALL_S = 2.0\n"
HEAD = "ERROR = 0.0010\nFIT_SECONDS = 14.8\nWALL_S = 2.16\n"


def repository(tmp_path: Path, head: str) -> Path:
    files = {"evaluate.py": EVALUATE, ".growthhacker.yml": CONFIG, "model.py": BASE}
    repo = git_repo(tmp_path / "repo", files)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "checkout", "-q", "-b", "head"], cwd=repo, check=True)
    (repo / "model.py").write_text(head, encoding="utf-8")
    subprocess.run([*git, "commit", "-q", "-am", "better model"], cwd=repo, check=True)
    subprocess.run([*git, "checkout", "-q", "main"], cwd=repo, check=True)
    return repo


def row(output: str, metric: str) -> list[str]:
    line = next(line for line in output.splitlines() if line.startswith(f"| {metric} "))
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def test_a_head_better_on_every_seed_by_ninety_percent_is_better_and_succeeds(tmp_path: Path) -> None:
    repo = repository(tmp_path, HEAD)

    result = CliRunner().invoke(cli, ["verify", str(repo), "--base", "main", "--head", "head"])

    assert result.exit_code == 0, result.output
    assert row(result.output, "mse ↓")[4:] == ["-90.7%", "⚡ better (won 3/3 seeds)"]
    assert "success: mse -90.7% (0.04137 → 0.003867): better (won 3/3 seeds)" in result.output


def test_guardrails_within_their_allowance_say_how_much_of_it_they_used(tmp_path: Path) -> None:
    repo = repository(tmp_path, HEAD)

    result = CliRunner().invoke(cli, ["verify", str(repo), "--base", "main", "--head", "head"])

    assert result.exit_code == 0, result.output
    assert row(result.output, "fit_seconds ↓")[-1] == "✅ within allowance (+48% of +200%)"
    assert row(result.output, "wall_s ↓")[-1] == "✅ within allowance (+8.0% of +200%)"
    assert "regressed" not in result.output and "unchanged" not in result.output


def test_a_guardrail_beyond_its_allowance_breaks_it_and_fails_the_check(tmp_path: Path) -> None:
    repo = repository(tmp_path, HEAD.replace("FIT_SECONDS = 14.8", "FIT_SECONDS = 35.0"))

    result = CliRunner().invoke(cli, ["verify", str(repo), "--base", "main", "--head", "head"])

    assert result.exit_code == 0, result.output
    assert row(result.output, "fit_seconds ↓")[-1] == "❌ breaks allowance (+250% of +200%)"
    assert "failure: mse -90.7%" in result.output
