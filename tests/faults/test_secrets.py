"""Secrets: canary values planted in the environment never reach any output of a run.

A full run of the optimize workflow ``init`` writes (every job: real CLI in-process, real git, real
loop, fake GitHub) gets canaries: every job's GitHub token, the Anthropic key as a repository secret,
and secret-looking variables of other kinds in the runner's environment. The
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

from tests.helpers.action_world import action_world
from tests.helpers.fault_target import AGENT, HARNESS, target_files

CANARIES = {
    "AWS_SECRET_ACCESS_KEY": "canary-aws-6d0f1c2e9b",
    "NPM_TOKEN": "canary-npm-81a7c3d5e2",
    "DATABASE_PASSWORD": "canary-db-4b9e0a7f13",
    "SERVICE_API_KEY": "canary-api-2c5d8e1f07",
    "SIGNING_PRIVATE_KEY": "canary-pk-9e3a6b2c40",
}
#: Repository secrets: a workflow hands them to the jobs that name them.
SECRETS = {"ANTHROPIC_API_KEY": "sk-ant-canary-7f3e2d1c0b"}
LEAKY_HARNESS = HARNESS.replace("import json, pathlib, sys", "import json, os, pathlib, sys") + (
    "print('environment:', sorted(os.environ.items()))\n"
)


def secret_forms(tokens: list[str]) -> dict[str, bytes]:
    """Each secret as it could be written: plain, and every job's token also as git's basic-auth
    header value."""
    forms = {name: value.encode() for name, value in {**CANARIES, **SECRETS}.items()}
    for n, token in enumerate(tokens):
        forms[f"GITHUB_TOKEN #{n}"] = token.encode()
        forms[f"GITHUB_TOKEN #{n} (basic auth)"] = base64.b64encode(f"x-access-token:{token}".encode())
    return forms


def leaks(name: str, data: bytes, forms: dict[str, bytes]) -> list[str]:
    return [f"{secret} in {name}" for secret, form in forms.items() if form in data]


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
        world.runner.runner_env.update(CANARIES)
        world.runner.secrets.update(SECRETS)

        run = world.dispatch()

        assert run.ok, run.output
        assert run.outputs["pr-number"] == "1", "the run must publish, or there is little to scan"
        forms = secret_forms([job.token for job in run.jobs.values() if job.token])
        found = leaks("the CLI output", run.output.encode(), forms)
        for path in sorted(p for p in tmp_path.rglob("*") if p.is_file() and "objects" not in p.parts):
            found += leaks(str(path.relative_to(tmp_path)), path.read_bytes(), forms)
        history = subprocess.run(["git", "log", "--all", "-p", "--format=%H %s%n%b"], cwd=world.bare,
                                 check=True, capture_output=True).stdout
        found += leaks("the pushed commits", history, forms)
        for request in world.fake.requests:
            found += leaks(f"{request.method} {request.path}", json.dumps(request.body).encode(), forms)

    assert found == []
    plans = [p.read_text() for p in tmp_path.rglob("analysis.json")]
    assert plans and all("my environment" in plan for plan in plans), "the agent's dump must be there"
    logs = [p.read_text() for p in tmp_path.rglob("seed-*.log")]
    assert logs and all("environment:" in log for log in logs), "the harness's dump must be there"
