"""The benchmark's target repositories: valid configs, protected harnesses, moves for the heuristic."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.agents.base import AnalyzerContext, CoderRequest
from bot.agents.heuristic import make_heuristic_agent
from bot.config import load_config
from bot.patch import PathPolicy
from evals.targets import list_targets, prepare_repo, target_dir

#: target → (harness entry point, editable pipeline module)
LAYOUT = {
    "obp-obd": ("bench/run_obd.py", "obd_ope/estimate.py"),
    "obp-synthetic": ("harness/evaluate_ope.py", "banditopt/offpolicy.py"),
    "scope-rl-continuous": ("scripts/evaluate_continuous.py", "contope/pipeline.py"),
    "scope-rl-discrete": ("benchmark.py", "rl_ope/estimate.py"),
}
COMPAT = {"obp-obd": "bench/obd_compat.py", "scope-rl-continuous": "scripts/scope_compat.py",
          "scope-rl-discrete": "rlbench_compat.py"}


def _policy(target: str) -> PathPolicy:
    return PathPolicy.from_config(load_config(target_dir(target)).edit)


def test_every_target_has_a_layout_entry() -> None:
    assert sorted(LAYOUT) == list_targets()


@pytest.mark.parametrize("target", sorted(LAYOUT))
def test_the_harness_is_run_by_the_eval_command_and_protected(target: str) -> None:
    harness, _ = LAYOUT[target]

    config = load_config(target_dir(target))

    assert harness in config.evaluate.command and not _policy(target).allows(harness)


@pytest.mark.parametrize("target", sorted(COMPAT))
def test_compatibility_modules_are_protected(target: str) -> None:
    assert not _policy(target).allows(COMPAT[target])


@pytest.mark.parametrize("target", sorted(LAYOUT))
def test_the_pipeline_is_editable(target: str) -> None:
    _, pipeline = LAYOUT[target]

    assert (target_dir(target) / pipeline).is_file() and _policy(target).allows(pipeline)


def test_targets_use_different_layouts_and_objective_names() -> None:
    configs = [load_config(target_dir(t)) for t in list_targets()]

    assert len({tuple(c.edit.paths) for c in configs}) == len(configs)
    assert len({c.evaluate.objective.metric for c in configs}) >= 3


def test_the_continuous_target_bounds_the_error_and_the_estimate() -> None:
    bounds = load_config(target_dir("scope-rl-continuous")).evaluate.bounds

    assert set(bounds) == {"relative_error", "estimate"} and bounds["relative_error"][1] <= 10


@pytest.mark.parametrize("target", sorted(LAYOUT))
def test_a_target_copy_commits_no_generated_files(tmp_path: Path, target: str) -> None:
    repo = prepare_repo(target_dir(target), tmp_path / "repo", [7], [107])

    tracked = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True).stdout

    assert "__pycache__" not in tracked and "d3rlpy_logs" not in tracked and ".growthhacker.yml" in tracked


@pytest.mark.slow
@pytest.mark.parametrize("target", sorted(LAYOUT))
def test_the_heuristic_finds_a_move_in_the_pipeline(target: str) -> None:
    config = load_config(target_dir(target))
    policy = _policy(target)
    root = target_dir(target)
    files = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in root.rglob("*.py")
             if policy.allows(p.relative_to(root).as_posix())}
    agent = make_heuristic_agent()
    context = AnalyzerContext(files=files, objective=config.evaluate.objective,
                              guardrails=list(config.evaluate.guardrails), attempts=[], baseline={},
                              iteration=1, iterations=1)

    analysis = agent.analyzer.analyze(context).analysis
    diff = agent.coder.write_diff(CoderRequest(analysis=analysis, files=files)).diff

    assert f"+++ b/{LAYOUT[target][1]}" in diff
