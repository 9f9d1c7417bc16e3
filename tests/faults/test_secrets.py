"""Secrets: canary values planted in the environment never reach any output of a run.

A full ``growthhacker action`` optimize run (real CLI in-process, real git, real loop, fake GitHub)
gets canaries in its environment: the GitHub token and secret-looking variables of other kinds. The
harness prints its whole environment and the command agent copies its whole environment into its
plan, so a variable that slipped through either scrub would be written everywhere. Then every output
is scanned: each file the run left (journal, iteration files, prompts, logs, report, plot, cache, job
summary, step outputs), every commit and branch pushed (the journal branch included), every request
body sent to GitHub (PR body, comments, check run, labels) and the CLI's own output.
"""

from __future__ import annotations

import base64
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.action_world import TOKEN, action_world
from tests.helpers.fault_target import AGENT, HARNESS, target_files

CANARIES = {
    "AWS_SECRET_ACCESS_KEY": "canary-aws-6d0f1c2e9b",
    "NPM_TOKEN": "canary-npm-81a7c3d5e2",
    "DATABASE_PASSWORD": "canary-db-4b9e0a7f13",
    "SERVICE_API_KEY": "canary-api-2c5d8e1f07",
    "SIGNING_PRIVATE_KEY": "canary-pk-9e3a6b2c40",
}
LEAKY_HARNESS = HARNESS.replace("import json, pathlib, sys", "import json, os, pathlib, sys") + (
    "print('environment:', sorted(os.environ.items()))\n"
)


def secret_forms() -> dict[str, bytes]:
    """Each secret as it could be written: plain, and the token also as git's basic-auth header value."""
    forms = {name: value.encode() for name, value in CANARIES.items()}
    forms["GITHUB_TOKEN"] = TOKEN.encode()
    forms["GITHUB_TOKEN (basic auth)"] = base64.b64encode(f"x-access-token:{TOKEN}".encode())
    return forms


def leaks(name: str, data: bytes) -> list[str]:
    return [f"{secret} in {name}" for secret, form in secret_forms().items() if form in data]


@pytest.mark.slow
def test_no_output_of_an_optimize_run_contains_a_secret(tmp_path: Path) -> None:
    control = tmp_path / "agent-control"
    control.mkdir()
    (control / "leak").touch()
    with action_world(tmp_path / "world", {**target_files(), "evaluate.py": LEAKY_HARNESS}) as world:
        command = " ".join(shlex.quote(part) for part in (sys.executable, "-S", str(AGENT), str(control)))
        (world.agent_dir / "agent.py").write_text(
            f"import subprocess, sys\nsys.exit(subprocess.run({shlex.split(command)!r}).returncode)\n"
        )
        world.extra_env.update(CANARIES)

        job = world.run("workflow_dispatch", {"inputs": {}}, "--iterations", "1")

        assert job.result.exit_code == 0, job.result.output
        assert job.outputs["pr-number"] == "1", "the run must publish, or there is little to scan"
        found = leaks("the CLI output", job.result.output.encode())
        for path in sorted(p for p in tmp_path.rglob("*") if p.is_file() and "objects" not in p.parts):
            found += leaks(str(path.relative_to(tmp_path)), path.read_bytes())
        history = subprocess.run(["git", "log", "--all", "-p", "--format=%H %s%n%b"], cwd=world.bare,
                                 check=True, capture_output=True).stdout
        found += leaks("the pushed commits", history)
        for request in world.fake.requests:
            found += leaks(f"{request.method} {request.path}", json.dumps(request.body).encode())

    assert found == []
    plans = [p.read_text() for p in (job.checkout / ".growthhacker").rglob("analysis.json")]
    assert plans and all("my environment" in plan for plan in plans), "the agent's dump must be there"
    logs = [p.read_text() for p in (job.checkout / ".growthhacker").rglob("seed-*.log")]
    assert logs and all("environment:" in log for log in logs), "the harness's dump must be there"
