"""The benchmark runner: fresh target copies, seeds per run, the CLI command line, and a real smoke run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.journal import (
    BaselineRecorded,
    ConfirmationRecorded,
    IterationRecorded,
    Journal,
    RunFinished,
    RunStarted,
)
from bot.results import EvalResult, SeedResult
from evals.__main__ import main
from evals.audit import audit
from evals.records import RunRecord, RunSpec, read_runs
from evals.runner import Backend, cli_command, read_outcome, share_catalog
from evals.targets import SEED_STRIDE, audit_seeds, list_targets, prepare_repo, run_seeds, target_dir
from tests.helpers.loop import run_loop
from tests.helpers.toy import Step, toy_files

ROOT = Path(__file__).resolve().parents[1]
SMOKE_TARGET = "obp-synthetic"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def test_the_five_targets_are_listed() -> None:
    assert list_targets() == ["obp-coupons", "obp-obd", "obp-synthetic", "scope-rl-continuous",
                              "scope-rl-discrete"]


def test_run_zero_uses_the_configured_seeds() -> None:
    assert run_seeds(target_dir(SMOKE_TARGET), 0) == ([0, 1, 2], [100, 101, 102, 103, 104], [200, 201, 202])


def test_later_runs_shift_every_seed_by_the_stride_and_can_take_fewer() -> None:
    search, confirm, validate = run_seeds(target_dir(SMOKE_TARGET), 2, search=1, confirm=2, validate=1)

    assert (search, confirm) == ([2 * SEED_STRIDE], [2 * SEED_STRIDE + 100, 2 * SEED_STRIDE + 101])
    assert validate == [2 * SEED_STRIDE + 200]


def test_no_validation_seeds_switch_the_tier_off_and_audit_seeds_are_in_no_tier(tmp_path: Path) -> None:
    _, _, validate = run_seeds(target_dir(SMOKE_TARGET), 1, validate=0)
    repo = prepare_repo(target_dir(SMOKE_TARGET), tmp_path / "repo", [1000], [1100], validate)

    config = yaml.safe_load((repo / ".growthhacker.yml").read_text(encoding="utf-8"))
    assert config["evaluate"]["seeds"]["validate"] == []
    assert set(audit_seeds(1, 10)).isdisjoint({1000, 1001, 1002, *range(1100, 1105), 1200, 1201, 1202})


def test_asking_for_more_seeds_than_configured_is_refused() -> None:
    with pytest.raises(Exception, match="configures 3 search seeds"):
        run_seeds(target_dir(SMOKE_TARGET), 0, search=4)


def test_a_run_repo_is_a_clean_one_commit_copy_with_its_seeds(tmp_path: Path) -> None:
    repo = prepare_repo(target_dir(SMOKE_TARGET), tmp_path / "repo", [1000], [1100, 1101])

    config = yaml.safe_load((repo / ".growthhacker.yml").read_text(encoding="utf-8"))
    assert config["evaluate"]["seeds"] == {"search": [1000], "confirm": [1100, 1101]}
    assert _git(repo, "rev-list", "--count", "HEAD").strip() == "1"
    assert _git(repo, "status", "--porcelain") == ""
    assert (repo / "harness" / "evaluate_ope.py").is_file()


def test_a_run_repo_with_the_configured_seeds_keeps_the_config_verbatim(tmp_path: Path) -> None:
    target = target_dir(SMOKE_TARGET)

    repo = prepare_repo(target, tmp_path / "repo", [0, 1, 2], [100, 101, 102, 103, 104])

    assert (repo / ".growthhacker.yml").read_text() == (target / ".growthhacker.yml").read_text()


def test_an_agent_timeout_reaches_the_run_repos_config(tmp_path: Path) -> None:
    repo = prepare_repo(target_dir(SMOKE_TARGET), tmp_path / "repo", [0, 1, 2], [100, 101, 102, 103, 104],
                        agent_timeout_s=3600)

    config = yaml.safe_load((repo / ".growthhacker.yml").read_text(encoding="utf-8"))
    assert config["loop"]["agent_timeout_s"] == 3600
    assert config["evaluate"]["seeds"] == {"search": [0, 1, 2], "confirm": [100, 101, 102, 103, 104]}


def _spec(framework: str) -> RunSpec:
    return RunSpec(target=SMOKE_TARGET, framework=framework, run=0, iterations=2, search_seeds=[0],
                   confirm_seeds=[100])


def test_the_heuristic_runs_without_a_model_backend(tmp_path: Path) -> None:
    command = cli_command(_spec("heuristic"), tmp_path, Backend())

    assert command[1:] == ["run", str(tmp_path), "--iterations", "2", "--agent", "heuristic"]


def test_llm_frameworks_pass_the_framework_and_the_command_backend(tmp_path: Path) -> None:
    command = cli_command(_spec("default"), tmp_path, Backend("command", "my-agent --fast"))

    assert command[-6:] == ["--agent", "command", "--framework", "default",
                            "--agent-command", "my-agent --fast"]


def test_a_run_that_died_before_its_journal_keeps_its_process_facts(tmp_path: Path) -> None:
    crashed = RunRecord(spec=_spec("heuristic"), backend="heuristic", started_at="t", machine="m",
                        process="crashed", exit_code=2, error="config invalid")

    outcome = read_outcome(crashed, tmp_path)

    assert outcome == crashed


def test_llm_frameworks_without_a_model_are_refused_before_anything_runs(tmp_path: Path) -> None:
    env = {k: "" for k in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL")}

    result = CliRunner().invoke(main, ["run", "--frameworks", "two_agent", "--out", str(tmp_path)], env=env)

    assert result.exit_code == 2 and "ANTHROPIC_API_KEY" in result.output
    assert not (tmp_path / "runs.jsonl").exists()


def test_an_unknown_target_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", "--targets", "nope", "--out", str(tmp_path)])

    assert result.exit_code == 2 and "unknown target 'nope'" in result.output


@pytest.mark.slow
def test_smoke_one_heuristic_run_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "results"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")} | {"PYTHONPATH": str(ROOT)}

    # A relative --out from another directory: every path handed to the bot must still resolve.
    proc = subprocess.run(
        [sys.executable, "-m", "evals", "run", "--targets", SMOKE_TARGET, "--frameworks", "heuristic",
         "--iterations", "1", "--search-seeds", "1", "--confirm-seeds", "1", "--out", "results"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )

    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run,) = read_runs(out)
    assert (run.process, run.verdict_recorded, run.baseline_ok) == ("finished", True, True)
    assert run.iterations_run == 1
    assert run.metric == "relative_ee" and run.eval_s > 0 and run.overhead_s_per_iteration is not None
    assert run.seeds_evaluated >= 3 and (run.seed_s_max or 0) > 0
    assert f"| {SMOKE_TARGET} | heuristic | 1 |" in proc.stdout
    assert (out / "report.md").is_file() and (out / "improvements.png").is_file()
    journal = out / "work" / SMOKE_TARGET / "heuristic" / "run-0" / "repo" / ".growthhacker" / "journal.jsonl"
    assert json.loads(journal.read_text().splitlines()[0])["agent"] == "heuristic"


def _result(tree: str, values: list[float | None], failure: str | None = None) -> EvalResult:
    seeds = [SeedResult(seed=i, ok=v is not None, metrics={"err": v} if v is not None else {},
                        failure=None if v is not None else failure, duration_s=2.0)
             for i, v in enumerate(values)]
    return EvalResult(tree=tree, seeds=seeds)


def _journal_with_one_run(repo: Path) -> None:
    journal = Journal(repo / ".growthhacker" / "journal.jsonl")
    rid = "r1"
    base = _result("t0", [1.0, 1.0])
    journal.append(RunStarted(run_id=rid, base_commit="c0", agent="heuristic", iterations=3, metric="err",
                              goal="minimize"))
    journal.append(BaselineRecorded(run_id=rid, search=base, confirm=base, validation=base))
    journal.append(IterationRecorded(run_id=rid, iteration=1, hypothesis="a", persona="estimator",
                                     status="failed", search=_result("t1", [None, 1.0], "extreme_value"),
                                     duration_s=5.0))
    journal.append(IterationRecorded(run_id=rid, iteration=2, hypothesis="b", persona="estimator",
                                     status="improved", search=_result("t2", [0.5, 0.5]),
                                     validation=_result("t2", [0.5, 0.5]), duration_s=10.0, tokens=300,
                                     usd=0.01))
    journal.append(IterationRecorded(run_id=rid, iteration=3, hypothesis="c", persona="estimator",
                                     status="improved", search=_result("t3", [0.4, 0.6]), duration_s=4.0,
                                     tokens=100, usd=0.02))
    journal.append(ConfirmationRecorded(run_id=rid, iteration=2, confirm=_result("t2", [0.5, 0.5]),
                                        confirmed=True, reason="ok"))
    journal.append(ConfirmationRecorded(run_id=rid, iteration=3, confirm=_result("t3", [1.2, 0.3]),
                                        confirmed=False, reason="majority"))
    journal.append(RunFinished(run_id=rid, winner=2, reason="iteration 2 improves err", improvement=0.5))


def test_the_outcome_is_read_from_the_runs_journal(tmp_path: Path) -> None:
    _journal_with_one_run(tmp_path)
    bare = RunRecord(spec=_spec("heuristic"), backend="heuristic", started_at="t", machine="m",
                     process="finished", exit_code=0)

    run = read_outcome(bare, tmp_path)

    assert (run.run_id, run.metric, run.goal, run.winner, run.heldout_improvement) == (
        "r1", "err", "minimize", 2, 0.5)
    assert (run.verdict_recorded, run.baseline_ok, run.evaluated) == (True, True, 2)
    assert run.statuses == {"failed": 1, "improved": 2}
    assert (run.extreme_values, run.heldout_rejections) == (1, 1)
    assert (run.tokens, run.usd) == (400, pytest.approx(0.03))
    # 3 baseline evaluations (every tier) + 3 searches + 1 validation + 2 confirmations, 2 seeds each,
    # 2 s per seed
    assert (run.seeds_evaluated, run.eval_s, run.seed_s_max) == (18, 36.0, 2.0)
    # iteration 2 spent 8 of its 10 s evaluating (search and validation): its overhead is 2 s
    assert run.overhead_s_per_iteration == pytest.approx((1.0 + 2.0 + 0.0) / 3)
    assert run.eval_s_per_iteration == pytest.approx((4.0 + 8.0 + 4.0) / 3)


def test_the_audit_evaluates_the_incumbent_and_the_winner_on_fresh_seeds(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files(scale=1.0))
    run_loop(repo, [Step("scale 0.6", "SCALE = 0.6\n"), Step("overfit", "SCALE = 1.0\nOVERFIT = True\n")])

    facts = audit(repo, "r1", [300, 301, 302])

    assert facts["incumbent"] == 1
    assert isinstance(facts["winner_audit"], float) and facts["winner_audit"] > 0.4  # 0.75 → 0.35
    assert facts["incumbent_audit"] == facts["winner_audit"]
    assert facts["incumbent_audit_failure"] is None and facts["winner_audit_failure"] is None


def test_a_winner_that_crashes_on_the_audit_seeds_is_recorded_with_its_failure(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files(scale=1.0))
    # Better on every seed of the run; it breaks once a file appears that the baseline never reads,
    # standing in for what fresh seeds can expose.
    fragile = ("import pathlib\nSCALE = 0.6\n"
               "CRASH = pathlib.Path(__file__).with_name('fragile.flag').exists()\n")
    run_loop(repo, [Step("scale 0.6, fragile", fragile)])
    (repo / "pipeline" / "fragile.flag").write_text("", encoding="utf-8")
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    for args in (["add", "-A"], [*identity, "commit", "-qm", "flag"]):
        subprocess.run(["git", *args], cwd=repo, check=True)

    facts = audit(repo, "r1", [300, 301, 302])

    assert facts["winner_audit"] is None and facts["incumbent"] == 1
    failure = facts["winner_audit_failure"]
    assert isinstance(failure, str) and failure.startswith("crash on seed 300")
    assert facts["incumbent_audit_failure"] == failure


def test_runs_share_the_catalog_cache_through_the_work_directory(tmp_path: Path) -> None:
    first_run, shared, second_run = tmp_path / "a" / "cache", tmp_path / "shared", tmp_path / "b" / "cache"
    first_run.mkdir(parents=True)
    (first_run / "catalog-0123456789abcdef.json").write_text('{"format": 1}', encoding="utf-8")
    (first_run / "0a1b.json").write_text("{}", encoding="utf-8")  # an evaluation result: not shared

    assert share_catalog(first_run, shared) == ["catalog-0123456789abcdef.json"]
    assert share_catalog(first_run, shared) == [], "already there"
    assert share_catalog(shared, second_run) == ["catalog-0123456789abcdef.json"]
    assert [p.name for p in second_run.iterdir()] == ["catalog-0123456789abcdef.json"]
    assert share_catalog(tmp_path / "missing", second_run) == []
