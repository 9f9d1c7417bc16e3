"""The benchmark's target repositories: valid configs, protected harnesses, moves for the heuristic."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.agents.base import AnalyzerContext, CoderRequest
from bot.agents.heuristic import make_heuristic_agent
from bot.config import load_config
from bot.patch import PathPolicy
from evals.targets import list_targets, prepare_repo, target_dir
from tests.helpers.evals import run_probes

#: target → (harness entry point, editable pipeline module)
LAYOUT = {
    "obp-coupons": ("sim/replay.py", "couponeval/value.py"),
    "obp-obd": ("bench/run_obd.py", "obd_ope/estimate.py"),
    "obp-synthetic": ("harness/evaluate_ope.py", "banditopt/offpolicy.py"),
    "scope-rl-continuous": ("scripts/evaluate_continuous.py", "contope/pipeline.py"),
    "scope-rl-discrete": ("benchmark.py", "rl_ope/estimate.py"),
}
COMPAT = {"obp-obd": "bench/obd_compat.py", "scope-rl-continuous": "scripts/scope_compat.py",
          "scope-rl-discrete": "rlbench_compat.py"}
#: target → data its harness computed once and stores (see the harness docstrings).
STORED = {"obp-obd": "bench/bts_policy.json", "scope-rl-continuous": "scripts/ground_truth.json",
          "scope-rl-discrete": "ground_truth.json"}
#: scope-rl target → (harness directory, harness module).
SCOPE_HARNESS = {"scope-rl-continuous": ("scripts", "evaluate_continuous"),
                 "scope-rl-discrete": (".", "benchmark")}


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


@pytest.mark.parametrize("target", sorted(STORED))
def test_stored_harness_data_is_protected(target: str) -> None:
    assert (target_dir(target) / STORED[target]).is_file() and not _policy(target).allows(STORED[target])


@pytest.mark.parametrize("target", sorted(SCOPE_HARNESS))
def test_the_stored_ground_truth_is_far_more_precise_than_the_errors_it_scores(target: str) -> None:
    truth = json.loads((target_dir(target) / STORED[target]).read_text(encoding="utf-8"))

    # 0.5% of the value: a tenth of the smallest errors the targets' estimators reach (~5%).
    assert truth["rollouts"] >= 10_000 and truth["standard_error"] < 0.005 * abs(truth["value"])


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


HARNESS_PROBE = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
harness = __import__(sys.argv[2])
import numpy as np
from scope_rl.dataset import SyntheticDataset

env, behavior, _ = harness.make_policies(7)
ours = harness.collect_episodes(env, behavior, 1, 3)
env, behavior, _ = harness.make_policies(7)
np.random.seed(3)  # the continuous behavior head draws its noise from numpy's global RNG
episode_seed = int(np.random.SeedSequence(3).generate_state(1)[0])
theirs = SyntheticDataset(env=env, max_episode_steps=harness.STEPS).obtain_episodes(
    behavior_policies=behavior, n_trajectories=1, random_state=episode_seed)
differ = sorted(set(ours) ^ set(theirs)) + [
    k for k in theirs if not (np.array_equal(ours[k], theirs[k]) and ours[k].dtype == theirs[k].dtype
                              if isinstance(theirs[k], np.ndarray) else ours[k] == theirs[k])]

stored = json.loads(harness.TRUTH_FILE.read_text())
stored["fingerprint"]["env_rewards"][0] += 1e-3
Path("other_truth.json").write_text(json.dumps(stored))
env, _, target = harness.make_policies(0)
try:
    harness.load_ground_truth(env, target, Path("other_truth.json"))
    refused = None
except harness.StaleGroundTruth as exc:
    refused = str(exc)

print(json.dumps({"differ": differ, "refused": refused, "runs": [harness.run(1), harness.run(1)]}))
"""


@pytest.fixture(scope="module")
def harness_probes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each scope-rl harness probed in its own fresh interpreter, both at once (~15 s on 2 idle cores):
    their scope-rl imports and numpy shims must not leak into the test process."""
    commands = {target: [sys.executable, "-B", "-W", "ignore", "-c", HARNESS_PROBE,
                         str(target_dir(target) / directory), module]
                for target, (directory, module) in SCOPE_HARNESS.items()}
    return run_probes(commands, tmp_path_factory)


@pytest.mark.slow
@pytest.mark.parametrize("target", sorted(SCOPE_HARNESS))
def test_a_lockstep_episode_is_what_scope_rl_logs(harness_probes: dict[str, dict[str, Any]],
                                                  target: str) -> None:
    assert harness_probes[target]["differ"] == []


@pytest.mark.slow
@pytest.mark.parametrize("target", sorted(SCOPE_HARNESS))
def test_a_ground_truth_of_another_environment_is_refused(harness_probes: dict[str, dict[str, Any]],
                                                          target: str) -> None:
    refused = harness_probes[target]["refused"]

    assert isinstance(refused, str) and "--write-truth" in refused


@pytest.mark.slow
@pytest.mark.parametrize("target", sorted(SCOPE_HARNESS))
def test_a_seed_evaluates_to_the_same_metrics_twice(harness_probes: dict[str, dict[str, Any]],
                                                    target: str) -> None:
    first, second = harness_probes[target]["runs"]

    assert {k: v for k, v in first.items() if k != "ope_seconds"} == {
        k: v for k, v in second.items() if k != "ope_seconds"}


@pytest.mark.slow
def test_the_stored_bts_policy_is_obp_s_monte_carlo_distribution() -> None:
    from obp.policy import BernoulliTS

    stored = json.loads((target_dir("obp-obd") / STORED["obp-obd"]).read_text(encoding="utf-8"))
    counts = np.asarray(stored["action_counts"], dtype=float)

    policy = BernoulliTS(n_actions=counts.shape[0], len_list=counts.shape[1], is_zozotown_prior=True,
                         campaign=stored["campaign"], random_state=stored["policy_seed"])
    expected = policy.compute_batch_action_dist(n_sim=stored["n_sim"], n_rounds=1)[0]
    assert np.array_equal(counts / stored["n_sim"], expected)
