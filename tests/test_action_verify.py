"""Verify: base and head evaluated in the same job — `growthhacker verify` locally, and the action on
pull requests (sticky comment + check run for this repository's PRs, job summary only for forks)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bot.cli import cli
from tests.helpers.action_world import REPOSITORY, action_world
from tests.helpers.repos import git_repo
from tests.helpers.toy import EVALUATE, PARAMS, toy_files
from tests.helpers.workflow_runner import JobRun

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

        world.runner.runner_env.update(SECRET_ENV)

        run = world.pull_request(number)

        assert run.ok, run.output
        stickies = world.verify_comments(number)
        assert len(stickies) == 1 and f"GrowthHacker verification · `{head[:7]}`" in stickies[0]
        assert [(c["name"], c["head_sha"], c["conclusion"]) for c in world.fake.check_runs] == [
            ("GrowthHacker verify", head, "success")]
        assert float(run.outputs["improvement"]) > 0.3 and run.outputs["pr-number"] == str(number)
        assert "| err ↓ |" in run.summary
        assert world.fake.violations == []


def test_verify_builds_no_agent_and_the_evaluation_sees_no_secret(tmp_path: Path) -> None:
    with action_world(tmp_path, guarded_files()) as world:
        world.push_change("tune", {PARAMS: "SCALE = 0.6\n"})
        number = world.open_pull("tune")

        world.runner.runner_env.update(SECRET_ENV)

        run = world.pull_request(number)

        assert run.ok, run.output
        assert "can see a secret" not in run.summary and "crash" not in run.summary
        assert world.fake.check_runs[0]["conclusion"] == "success"
        assert list(world.agent_dir.glob("prompt-*")) == []  # the agent command was never run


def test_a_fork_pull_request_is_verified_without_writing_back(tmp_path: Path) -> None:
    with action_world(tmp_path, guarded_files()) as world:
        base = world.remote_sha("main")
        head = world.push_change("patch-1", {PARAMS: "SCALE = 0.6\n"}, ref="refs/pull/7/head")

        world.runner.runner_env.update(SECRET_ENV)

        run = world.trigger("pull_request", fork_payload(7, base, head))

        assert run.ok, run.output
        assert "from a fork" in run.output
        assert f"GrowthHacker verification · `{head[:7]}`" in run.summary
        assert [r.method for r in world.fake.requests if r.method != "GET"] == []
        assert world.fake.check_runs == [] and world.fake.statuses == []


def test_a_pr_that_flips_the_goal_and_edits_the_harness_is_measured_with_the_bases(tmp_path: Path) -> None:
    with action_world(tmp_path, guarded_files()) as world:
        base = world.remote_sha("main")
        flipped = world.remote_file("main", ".growthhacker.yml").replace("goal: minimize", "goal: maximize")
        cheat = GUARDED.replace("err = abs(params.SCALE - 0.3) + 0.05 + noise", "err = 0.01")
        world.push_change("sneaky", {".growthhacker.yml": flipped, "evaluate.py": cheat,
                                     PARAMS: "SCALE = 2.875\n"})  # err 0.75 → 2.625: 3.5x worse
        number = world.open_pull("sneaky")

        run = world.pull_request(number)

        assert run.ok, run.output
        assert world.fake.check_runs[-1]["conclusion"] == "failure"
        comment = world.verify_comments(number)[0]
        assert "| err ↓ |" in comment and "❌ worse (won 0/" in comment
        assert re.search(r"err \+2[45]\d\.\d% \(0\.75\d* → 2\.6", comment)
        assert "`.growthhacker.yml`" in comment and "`evaluate.py`" in comment  # measured at the base's
        # measure ran the PR's code with a read-only token; report posted from a checkout of the base.
        assert run["measure"].scopes == {"contents": "read"}
        assert run["report"].checkout is not None
        assert git(run["report"].checkout, "rev-parse", "HEAD") == base
        assert world.fake.writes_by(run["measure"].token) == []
        assert world.fake.violations == []


def test_local_verify_measures_with_the_config_committed_at_the_base(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", toy_files())
    git(repo, "checkout", "-q", "-b", "flip")
    (repo / ".growthhacker.yml").write_text(toy_files()[".growthhacker.yml"].replace("minimize", "maximize"))
    (repo / PARAMS).write_text("SCALE = 2.875\n")
    git(repo, "commit", "-q", "-am", "worse, and call it better")

    result = CliRunner().invoke(cli, ["verify", str(repo), "--base", "main", "--head", "flip"])

    assert result.exit_code == 0, result.output
    assert re.search(r"failure: err \+2[45]\d\.\d%", result.output)


def test_a_token_that_cannot_write_leaves_the_deltas_in_the_job_summary(tmp_path: Path) -> None:
    with action_world(tmp_path, guarded_files()) as world:
        name = "growthhacker-verify.yml"
        world.workflows[name] = world.workflows[name].replace("pull-requests: write", "pull-requests: read")
        world.push_change("tune", {PARAMS: "SCALE = 0.6\n"})
        number = world.open_pull("tune")

        run = world.pull_request(number)

        assert run.ok, run.output
        assert world.verify_comments(number) == [] and world.fake.check_runs == []
        assert "| err ↓ |" in run["report"].summary and "Not posted: the token may not write" in run.summary
        assert world.fake.refused  # GitHub said 403; the check still ends green


def test_a_report_refuses_an_artifact_that_is_not_about_this_pull_request(tmp_path: Path) -> None:
    def forge(job: JobRun, artifacts: Path) -> None:
        if job.name == "measure":  # the PR's code rewrites what measure found before it is uploaded
            manifest = artifacts / "growthhacker" / "manifest.json"
            data = json.loads(manifest.read_text())
            manifest.write_text(json.dumps({**data, "head_sha": "f" * 40}))

    with action_world(tmp_path, guarded_files()) as world:
        world.push_change("tune", {PARAMS: "SCALE = 0.6\n"})
        number = world.open_pull("tune")
        world.runner.after_job = forge

        run = world.pull_request(number)

        assert run["measure"].result == "success" and run["report"].result == "failure"
        assert "not this event's" in run["report"].output and "refused" in run["report"].output
        assert world.verify_comments(number) == [] and world.fake.check_runs == []


def test_verify_on_a_bot_pr_adds_its_own_check_and_no_second_comment(tmp_path: Path) -> None:
    # With an App token, the PR the optimize run opens triggers verify too.
    with action_world(tmp_path) as world:
        dispatch = world.dispatch()
        assert dispatch.ok, dispatch.output
        sticky = world.stickies(1)

        run = world.pull_request(1)

        assert run.ok, run.output
        assert world.stickies(1) == sticky and world.verify_comments(1) == []
        head = world.fake.pull(1)["head"]["sha"]
        assert sorted((c["name"], c["head_sha"]) for c in world.fake.check_runs) == [
            ("GrowthHacker", head), ("GrowthHacker verify", head)]
        assert "| err ↓ |" in run.summary  # the deltas are still in the job summary


def test_a_pull_request_touching_nothing_the_evaluation_depends_on_starts_no_verify(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        world.push_change("docs", {"NOTES.md": "how to read the deltas\n"})
        number = world.open_pull("docs")

        run = world.pull_request(number)

        assert run.ran() == [] and world.fake.check_runs == [] and world.verify_comments(number) == []
