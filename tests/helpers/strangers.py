"""The stranger repositories of ``tests/strangers/``: what each one is, and copies as git repositories.

Each stranger is a small, whole OPE repository written as an outside author would (its own layout,
script names, seed handling, metric names and dependency file; see ``tests/strangers/README.md``).
:data:`STRANGERS` records what its author knows about it — how one seed is run, which metric says
how good the estimate is and in which direction, where the OPE estimators are built and which files
are the harness — so tests can check a tool against the author's intent, not against the tool.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tests.helpers.repos import git_repo

CORPUS = Path(__file__).resolve().parents[1] / "strangers"


@dataclass(frozen=True)
class Stranger:
    """One stranger repository, as its author describes it."""

    name: str
    library: Literal["obp", "scope-rl"]
    #: The evaluation script: runs one seed and writes the metrics.
    entry: str
    #: One seed, as the author would configure it by hand ({seed}; {metrics_path} if it takes a path).
    command: str
    #: Where the metrics land: "{metrics_path}" or the fixed repo-relative path the script writes.
    metrics: str
    objective: str
    goal: Literal["minimize", "maximize"]
    #: Files that construct the OPE estimators or reward models (what an optimiser should edit).
    estimator_files: tuple[str, ...]
    #: The entry point and the other repository files it runs that must never be edited.
    harness: tuple[str, ...]
    #: The code reads an estimate back by the estimator's name (``values["ipw"]``, ``estimates["tis"]``).
    reads_by_name: bool
    #: Several metrics could be the objective; only the author can say which (``init --objective``).
    ambiguous: bool = False
    #: Metrics that measure time (guardrails, not objectives).
    time_metrics: tuple[str, ...] = ()


STRANGERS: dict[str, Stranger] = {s.name: s for s in (
    Stranger(
        "coupon-ope", "obp", "harness/run_eval.py",
        "python harness/run_eval.py --seed {seed} --output {metrics_path}", "{metrics_path}",
        "abs_rel_error", "minimize", ("coupon_ope/estimate.py",),
        ("harness/run_eval.py", "coupon_ope/simulate.py"), reads_by_name=True,
        time_metrics=("runtime_s",),
    ),
    Stranger(
        "estimator-shootout", "obp", "benchmark.py",
        "python benchmark.py --seed {seed} --metrics-out {metrics_path}", "{metrics_path}",
        "mean_sq_rel_error", "minimize", ("shootout/estimators.py", "shootout/reward_model.py"),
        ("benchmark.py", "shootout/settings.py"), reads_by_name=True, time_metrics=("seconds",),
    ),
    Stranger(
        "policy-audit", "obp", "scripts/audit.py",
        "python scripts/audit.py --seed {seed} --out {metrics_path}", "{metrics_path}",
        "abs_bias", "minimize", ("src/policy_audit/pipeline.py",),
        ("scripts/audit.py", "src/policy_audit/scenario.py"), reads_by_name=True,
        time_metrics=("fit_time",),
    ),
    Stranger(
        "yaml-bandit", "obp", "run_experiment.py",
        "python run_experiment.py {seed}", "results/metrics.json",
        "value_error", "minimize", ("lib/factory.py",),
        ("run_experiment.py", "lib/world.py"), reads_by_name=True,
    ),
    Stranger(
        "scope-tis", "scope-rl", "tools/eval_rl.py",
        "python tools/eval_rl.py --seed {seed} --json-out {metrics_path}", "{metrics_path}",
        "squared_error", "minimize", ("rl_ope/estimators.py",),
        ("tools/eval_rl.py", "rl_ope/__init__.py", "rl_ope/compat.py", "rl_ope/setup_env.py"),
        reads_by_name=True, time_metrics=("wall_time",),
    ),
    Stranger(
        "obd-bts", "obp", "main.py",
        "python main.py --seed {seed}", "artifacts/metrics.json",
        "squared_error", "minimize", ("obdope/ope.py",),
        ("main.py", "obdope/data.py", "obdope/policy.py"), reads_by_name=True,
    ),
    Stranger(
        "learned-policy", "obp", "experiments/score.py",
        "python experiments/score.py --seed {seed} > {metrics_path}", "{metrics_path}",
        "policy_value", "maximize", ("opl/learner.py",),
        ("experiments/score.py", "opl/world.py"), reads_by_name=False,
        time_metrics=("train_seconds",),
    ),
    Stranger(
        "estimator-duel", "obp", "compare.py",
        "python compare.py --seed {seed} --out {metrics_path}", "{metrics_path}",
        "dr_sq_error", "minimize", ("duel/contenders.py",),
        ("compare.py",), reads_by_name=False, ambiguous=True,
    ),
    Stranger(
        "rl-fqe", "scope-rl", "scripts/evaluate_agents.py",
        "python scripts/evaluate_agents.py --seed {seed} --output {metrics_path}", "{metrics_path}",
        "mean_abs_error", "minimize", ("agents_ope/evaluation.py",),
        ("scripts/evaluate_agents.py", "agents_ope/env.py", "agents_ope/patches.py"),
        reads_by_name=True, time_metrics=("elapsed_s",),
    ),
)}


def stranger_files(name: str) -> dict[str, str]:
    """The files of stranger ``name`` as ``{repo-relative path: text}``. Raises KeyError if unknown."""
    root = CORPUS / STRANGERS[name].name
    return {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def copy_stranger(name: str, dest: Path) -> Path:
    """Copy stranger ``name`` to ``dest/name`` as a git repository with one commit; returns its path."""
    root = dest / name
    if root.exists():
        shutil.rmtree(root)
    return git_repo(root, stranger_files(name), message=f"{name}: initial import")
