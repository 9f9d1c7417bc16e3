"""Safe outputs for optimize: the search job (candidate code, the LLM key) may only read; the publish job
(no repository code) checks its artifact and does every write. Through the workflow ``init`` writes,
job by job, against the fake GitHub whose tokens carry exactly each job's ``permissions:``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.github.action.artifact import MANIFEST, Manifest, write_artifact
from bot.github.journal_branch import JOURNAL_BRANCH
from tests.helpers.action_world import ActionWorld, action_world, git
from tests.helpers.workflow_runner import JobRun, rerun_job

pytestmark = pytest.mark.slow
REFUSED = {"open a pull request": 403, "edit a pull request": 403, "comment": 403, "react": 403,
           "label": 403, "check run": 403, "commit status": 403,
           "push main": "403", f"push {JOURNAL_BRANCH}": "403", "push growthhacker/stolen": "403"}


def refs(world: ActionWorld) -> str:
    return git(world.bare, "for-each-ref", "--format=%(refname) %(objectname)")


def test_an_optimize_run_is_published_by_the_publish_job_while_the_search_token_writes_nothing(
    tmp_path: Path,
) -> None:
    attempts: dict[str, dict[str, int | str]] = {}
    with action_world(tmp_path) as world:
        world.runner.secrets["ANTHROPIC_API_KEY"] = "sk-ant-canary-0123456789"

        def steal(job: JobRun, _: Path) -> None:
            if job.name == "search":  # code in the search job holds its token: what could it write?
                attempts["search"] = world.write_attempts(job.env["GITHUB_TOKEN"])

        world.runner.after_job = steal

        run = world.dispatch()

        assert run.ok, run.output
        search, publish = run["search"], run["publish"]
        assert attempts["search"] == REFUSED
        assert {r.status for r in world.fake.writes_by(search.token)} == {403}  # only the probe's
        opened = [r for r in world.fake.requests if r.method == "POST" and r.path.endswith("/pulls")]
        assert [(r.status, r.token) for r in opened if r.token == publish.token] == [(201, publish.token)]
        assert world.fake.pull(1)["head"]["ref"].startswith("growthhacker/")
        assert world.journal()[-1]["kind"] == "run_finished"
        # the key reached the search job only; the publish job ran no repository command.
        assert search.env["ANTHROPIC_API_KEY"] == "sk-ant-canary-0123456789"
        assert publish.env.get("ANTHROPIC_API_KEY", "") == "" and publish.scripts == []
        assert search.scopes == {"contents": "read"}
        assert world.fake.violations == []


def forge(artifact: Path, change: Callable[[dict[str, bytes]], None]) -> None:
    """Rewrite the artifact as code in the search job could: files changed, manifest made to match."""
    manifest = Manifest.model_validate_json((artifact / MANIFEST).read_text())
    files = {p.name: p.read_bytes() for p in artifact.iterdir() if p.name != MANIFEST}
    change(files)
    shutil.rmtree(artifact)
    write_artifact(artifact, manifest, files)


def outside_editable_paths(files: dict[str, bytes]) -> None:
    evil = ("--- a/evaluate.py\n+++ b/evaluate.py\n@@ -1 +1 @@\n"
            "-import argparse, json, pathlib, random, sys, time\n"
            "+import argparse, json, pathlib, random, sys, time, os\n")
    lines = files["journal.jsonl"].decode().splitlines()
    records = [json.loads(line) for line in lines]
    winner = next(r for r in reversed(records) if r["kind"] == "run_finished")["winner"]
    for record in records:
        if record["kind"] == "iteration" and record["iteration"] == winner:
            record["diff"] = evil
    files["journal.jsonl"] = "".join(json.dumps(r) + "\n" for r in records).encode()
    files["candidate.diff"] = evil.encode()


def oversized(files: dict[str, bytes]) -> None:
    files["report.md"] = b"x" * 2_000_001


def unparsable_records(files: dict[str, bytes]) -> None:
    files["journal.jsonl"] += b"{not json\n"


def test_a_publish_job_refuses_a_tampered_artifact_and_writes_nothing(tmp_path: Path) -> None:
    tampers = [(outside_editable_paths, "evaluate.py is protected"),
               (oversized, "report.md in the artifact is 2,000,001 bytes, over its limit"),
               (unparsable_records, "is not a record this version reads (not_json")]
    with action_world(tmp_path) as world:
        pristine = tmp_path / "pristine"
        before: list[str] = []

        def tamper_first(job: JobRun, artifacts: Path) -> None:
            if job.name == "search":
                shutil.copytree(artifacts / "growthhacker", pristine)
                before.append(refs(world))
                forge(artifacts / "growthhacker", tampers[0][0])

        world.runner.after_job = tamper_first
        run = world.dispatch()
        assert run["search"].result == "success", run.output
        results = [(run["publish"], tampers[0][1])]
        world.runner.after_job = None
        for change, message in tampers[1:]:
            shutil.rmtree(run.artifacts / "growthhacker")
            shutil.copytree(pristine, run.artifacts / "growthhacker")
            forge(run.artifacts / "growthhacker", change)
            results.append((rerun_job(run, "publish"), message))

        for job, message in results:
            assert job.result == "failure" and message in job.output and "refused" in job.output, job.output
            assert world.fake.writes_by(job.token) == []
        assert refs(world) == before[0]  # no branch, no journal commit, nothing pushed
        assert world.fake.requests == [r for r in world.fake.requests if r.method == "GET"]
        assert world.fake.violations == []


def test_an_iterate_run_is_pushed_by_the_publish_job_while_the_search_token_writes_nothing(
    tmp_path: Path,
) -> None:
    attempts: dict[str, dict[str, int | str]] = {}
    with action_world(tmp_path) as world:
        world.fake.set_role("alice", "write")
        world.runner.secrets["ANTHROPIC_API_KEY"] = "sk-ant-canary-0123456789"
        assert world.dispatch().ok
        first_head = world.fake.pull(1)["head"]["sha"]

        def steal(job: JobRun, _: Path) -> None:
            if job.name == "search":
                attempts["search"] = world.write_attempts(job.env["GITHUB_TOKEN"])

        world.runner.after_job = steal
        run, command = world.command(1, "/growthhacker iterate try self-normalized weights", "alice")

        assert run.ok, run.output
        assert run.ran() == ["receive", "search", "publish"]
        assert attempts["search"] == REFUSED
        assert {r.status for r in world.fake.writes_by(run["search"].token)} == {403}
        new_head = world.fake.pull(1)["head"]["sha"]
        assert git(world.bare, "rev-parse", f"{new_head}^") == first_head
        pushes = [r for r in world.fake.requests if r.path.endswith("/git-receive-pack") and r.status == 200]
        assert {r.token for r in pushes} >= {run["publish"].token}
        assert run["search"].token not in {r.token for r in pushes}  # receive pushed the command's record
        assert world.fake.reactions_on(command["comment"]["id"]) == ["eyes", "rocket"]
        assert [name for name, job in run.jobs.items() if job.env.get("ANTHROPIC_API_KEY")] == ["search"]
        assert run["search"].scopes == {"contents": "read"}
        assert world.fake.violations == []
