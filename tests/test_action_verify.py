"""Verify: base and head evaluated in the same job — `growthhacker verify` locally, and the action on
pull requests (sticky comment + check run for this repository's PRs, job summary only for forks)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bot.cli import cli
from tests.helpers.action_world import REPOSITORY, action_world
from tests.helpers.repos import git_repo
from tests.helpers.toy import EVALUATE, PARAMS, toy_files

# The toy evaluation, but it refuses to run when it can see a secret: a leak fails the evaluation.
GUARDED = (
    "import os as _os, sys as _sys\n"
    "if any(name in _os.environ for name in ('ANTHROPIC_API_KEY', 'GITHUB_TOKEN')):\n"
    "    _sys.exit('the evaluation can see a secret')\n"
) + EVALUATE
SECRET_ENV = {"ANTHROPIC_API_KEY": "sk-ant-secret-0123456789"}


def guarded_files() -> dict[str, str]:
    return {**toy_files(), "evaluate.py": GUARDED}


def git(cwd: Path, *args: str) -> str:
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    return subprocess.run(["git", *identity, *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def branch_with(repo: Path, branch: str, path: str, text: str) -> None:
    git(repo, "checkout", "-q", "-b", branch)
    (repo / path).write_text(text, encoding="utf-8")
    git(repo, "commit", "-q", "-am", f"edit {path}")
    git(repo, "checkout", "-q", "main")


def fork_payload(number: int, base_sha: str, head_sha: str) -> dict[str, Any]:
    return {
        "action": "opened",
        "number": number,
        "pull_request": {
            "number": number,
            "title": "Tune the scale",
            "user": {"login": "mallory"},
            "head": {"ref": "patch-1", "sha": head_sha, "repo": {"full_name": "mallory/ope-target"}},
            "base": {"ref": "main", "sha": base_sha, "repo": {"full_name": REPOSITORY}},
        },
        "sender": {"login": "mallory"},
    }


def test_local_verify_prints_the_deltas_of_head_against_base(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", toy_files())
    branch_with(repo, "feature", PARAMS, "SCALE = 0.3\n")

    result = CliRunner().invoke(cli, ["verify", str(repo), "--head", "feature"])

    assert result.exit_code == 0, result.output
    assert "| err ↓ |" in result.output and "⚡ better (won 3/3 seeds)" in result.output
    assert "success: err" in result.output


def test_a_changed_harness_is_measured_at_its_base_version(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", toy_files())
    cheat = EVALUATE.replace("err = abs(params.SCALE - 0.3) + 0.05 + noise", "err = 0.0")
    branch_with(repo, "cheat", "evaluate.py", cheat)

    result = CliRunner().invoke(cli, ["verify", str(repo), "--base", "main", "--head", "cheat"])

    assert result.exit_code == 0, result.output
    assert "protected files measured at the base version: evaluate.py" in result.output
    assert "neutral: err +0.0%" in result.output


def test_a_pull_request_gets_the_sticky_comment_and_a_check_run(tmp_path: Path) -> None:
    with action_world(tmp_path, guarded_files()) as world:
        head = world.push_change("tune", {PARAMS: "SCALE = 0.6\n"})
        number = world.open_pull("tune")

        job = world.run("pull_request", world.fake.webhook_payload(number, "opened"), env=SECRET_ENV)

        assert job.result.exit_code == 0, job.result.output
        stickies = world.stickies(number)
        assert len(stickies) == 1 and f"GrowthHacker verification · `{head[:7]}`" in stickies[0]
        assert [(c["head_sha"], c["conclusion"]) for c in world.fake.check_runs] == [(head, "success")]
        assert float(job.outputs["improvement"]) > 0.3 and job.outputs["pr-number"] == str(number)
        assert "| err ↓ |" in job.summary
        assert world.fake.violations == []


def test_verify_builds_no_agent_and_the_evaluation_sees_no_secret(tmp_path: Path) -> None:
    with action_world(tmp_path, guarded_files()) as world:
        world.push_change("tune", {PARAMS: "SCALE = 0.6\n"})
        number = world.open_pull("tune")

        job = world.run("pull_request", world.fake.webhook_payload(number, "opened"), env=SECRET_ENV)

        assert job.result.exit_code == 0, job.result.output
        assert "can see a secret" not in job.summary and "crash" not in job.summary
        assert world.fake.check_runs[0]["conclusion"] == "success"
        assert list(world.agent_dir.glob("prompt-*")) == []  # the agent command was never run


def test_a_fork_pull_request_is_verified_without_writing_back(tmp_path: Path) -> None:
    with action_world(tmp_path, guarded_files()) as world:
        base = world.remote_sha("main")
        head = world.push_change("patch-1", {PARAMS: "SCALE = 0.6\n"}, ref="refs/pull/7/head")

        job = world.run("pull_request", fork_payload(7, base, head), env=SECRET_ENV)

        assert job.result.exit_code == 0, job.result.output
        assert "from a fork" in job.result.output
        assert f"GrowthHacker verification · `{head[:7]}`" in job.summary
        assert [r.method for r in world.fake.requests if r.method != "GET"] == []
        assert world.fake.check_runs == [] and world.fake.statuses == []
