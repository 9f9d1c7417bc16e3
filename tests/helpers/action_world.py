"""Shared by the `growthhacker action` tests (no tests here): a GitHub world for the toy target.

The "server" is a directory: ``file://<root>/server`` plays ``GITHUB_SERVER_URL``, so the remote the
bot derives (``<server>/acme/ope-target.git``) is a real bare repository the fake GitHub API reads its
branches from. Every job works in a fresh clone of it, as ``actions/checkout`` would give it, and runs
the real CLI through ``CliRunner`` with the Actions environment variables. The agent is the command
backend running :data:`AGENT_SCRIPT` (a real executable reading prompts on stdin).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from bot.cli import cli
from bot.github.client import RetryPolicy, connect
from bot.github.journal_branch import JOURNAL_BRANCH
from bot.github.publish import Publisher
from bot.workspace import BOT_IDENTITY
from tests.helpers.fake_github.server import FakeGitHub
from tests.helpers.repos import git_repo
from tests.helpers.toy import PARAMS, toy_files

REPOSITORY = "acme/ope-target"
TOKEN = "ghs_actiontoken0123456789"

# A stand-in LLM for the command backend. The Analyzer proposes SCALE = 0.3 when a human hint mentions
# self-normalized weights, else TARGET (0.6 unless the file `target` next to the script says otherwise);
# the Coder edits pipeline/params.py from whatever value the file has now. Every prompt is kept.
AGENT_SCRIPT = r'''
import json, pathlib, re, sys
prompt = sys.stdin.read()
here = pathlib.Path(__file__).parent
n = len(list(here.glob("prompt-*.md")))
(here / f"prompt-{n}.md").write_text(prompt)
if "Role: Analyzer" in prompt:
    hints = prompt.split('<untrusted-data kind="human-hints">', 1)[1].split("</untrusted-data>", 1)[0]
    fallback = (here / "target").read_text().strip() if (here / "target").exists() else "0.6"
    target = "0.3" if "self-normalized" in hints else fallback
    analysis = {"hypothesis": f"Set SCALE to {target}", "persona": "hyperparameter",
                "plan": f"SCALE = {target} in pipeline/params.py", "files": ["pipeline/params.py"]}
    print("```json\n" + json.dumps(analysis) + "\n```")
else:
    target = re.search(r"Hypothesis: Set SCALE to ([0-9.]+)", prompt).group(1)
    current = re.search(r"^(?:\s*\d+ \| )?SCALE = ([0-9.]+)$", prompt, re.M).group(1)
    print("```diff\n--- a/pipeline/params.py\n+++ b/pipeline/params.py\n@@ -1 +1 @@\n"
          f"-SCALE = {current}\n+SCALE = {target}\n```")
'''


def git(cwd: Path, *args: str) -> str:
    identity = ["-c", "user.name=tester", "-c", "user.email=tester@example.invalid"]
    return subprocess.run(
        ["git", *identity, *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def read_outputs(path: Path) -> dict[str, str]:
    """The ``name<<delimiter`` entries of a ``$GITHUB_OUTPUT`` file (last one wins)."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        name, _, delimiter = lines[i].partition("<<")
        end = lines.index(delimiter, i + 1)
        values[name] = "\n".join(lines[i + 1 : end])
        i = end + 1
    return values


@dataclass
class Job:
    """One finished `growthhacker action` invocation."""

    result: Result
    checkout: Path
    outputs: dict[str, str]
    summary: str


@dataclass
class ActionWorld:
    """A fake GitHub + bare remote holding the toy target, and a way to run the action against it."""

    root: Path
    fake: FakeGitHub
    bare: Path
    server: Path
    agent_dir: Path
    publisher: Publisher
    jobs: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def agent_command(self) -> str:
        return f"{shlex.quote(sys.executable)} {shlex.quote(str(self.agent_dir / 'agent.py'))}"

    def checkout(self, name: str) -> Path:
        """A fresh clone of the remote (the workflow's checkout)."""
        path = self.root / name
        subprocess.run(["git", "clone", "-q", str(self.bare), str(path)], check=True, capture_output=True)
        return path

    def run(self, event_name: str, payload: Mapping[str, Any], *args: str,
            agent: bool = True, env: Mapping[str, str] | None = None) -> Job:
        """Run ``growthhacker action`` for ``event_name`` with ``payload`` in a fresh checkout."""
        self.jobs += 1
        n = self.jobs
        checkout = self.checkout(f"job-{n}")
        event_path = self.root / f"event-{n}.json"
        event_path.write_text(json.dumps(payload), encoding="utf-8")
        output, summary = self.root / f"output-{n}", self.root / f"summary-{n}.md"
        environ = {
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_API_URL": self.fake.base_url,
            "GITHUB_SERVER_URL": f"file://{self.server}",
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_RUN_ID": str(1000 + n),
            **self.extra_env,
            **(env or {}),
        }
        agent_args = ["--agent", "command", "--agent-command", self.agent_command] if agent else []
        result = CliRunner().invoke(
            cli, ["action", str(checkout), "--write-pause", "0", *agent_args, *args], env=environ
        )
        text = summary.read_text(encoding="utf-8") if summary.exists() else ""
        return Job(result, checkout, read_outputs(output), text)

    def comment(self, number: int, body: str, login: str) -> dict[str, Any]:
        """A human posts ``body`` on PR ``number``; returns the ``issue_comment`` webhook payload."""
        posted = self.fake.add_comment(number, body, login=login)
        return {
            "action": "created",
            "issue": {"number": number, "pull_request": {"url": f"{self.fake.base_url}/pulls/{number}"}},
            "comment": {**posted, "user": {"login": login, "type": "User"}},
        }

    def push_change(self, branch: str, files: Mapping[str, str], message: str = "change",
                    ref: str | None = None) -> str:
        """A human commits ``files`` on top of ``main`` as ``branch`` and pushes it to ``ref`` (default:
        the branch) of the remote; returns the commit sha."""
        seed = self.root / "seed"
        git(seed, "checkout", "-q", "-B", branch, "main")
        for path, text in files.items():
            (seed / path).parent.mkdir(parents=True, exist_ok=True)
            (seed / path).write_text(text, encoding="utf-8")
        git(seed, "add", "-A")
        git(seed, "commit", "-q", "-m", message)
        git(seed, "push", "-q", str(self.bare), f"{branch}:{ref or f'refs/heads/{branch}'}")
        return git(seed, "rev-parse", "HEAD")

    def open_pull(self, branch: str, title: str = "A change", body: str = "") -> int:
        """Open a PR from ``branch`` into ``main`` through the API; returns its number."""
        return self.publisher.ensure_pull_request(head=branch, base="main", title=title, body=body).number

    def push_bot_commits(self, branch: str, candidates: list[tuple[str, str, int]]) -> str:
        """The bot commits each ``(SCALE value, run id, iteration)`` on top of ``main`` as ``branch``
        (messages as the loop writes them) and pushes it; returns the head sha."""
        seed = self.root / "seed"
        git(seed, "checkout", "-q", "-B", branch, "main")
        for scale, run_id, iteration in candidates:
            (seed / PARAMS).write_text(f"SCALE = {scale}\n", encoding="utf-8")
            message = (
                f"growthhacker: Set SCALE to {scale}\n\nHypothesis: Set SCALE to {scale}\n"
                f"err: +10.0% on held-out seeds [100, 101] (run {run_id}, iteration {iteration})\n"
            )
            git(seed, *BOT_IDENTITY, "commit", "-q", "-am", message)
        git(seed, "push", "-q", str(self.bare), f"{branch}:refs/heads/{branch}")
        return git(seed, "rev-parse", "HEAD")

    def remote_sha(self, ref: str) -> str:
        return git(self.bare, "rev-parse", ref)

    def remote_file(self, ref: str, path: str = PARAMS) -> str:
        return git(self.bare, "show", f"{ref}:{path}")

    def remote_bytes(self, ref: str, path: str) -> bytes:
        """The exact bytes of ``path`` at ``ref`` of the remote."""
        return subprocess.run(["git", "cat-file", "blob", f"{ref}:{path}"], cwd=self.bare, check=True,
                              capture_output=True).stdout

    def journal(self) -> list[dict[str, Any]]:
        """The records on the journal branch of the remote."""
        text = git(self.bare, "show", f"{JOURNAL_BRANCH}:journal.jsonl")
        return [json.loads(line) for line in text.splitlines()]

    def prompts(self, role: str) -> list[str]:
        """The prompts the agent received for ``role`` (Analyzer or Coder), oldest first."""
        files = sorted(self.agent_dir.glob("prompt-*.md"), key=lambda p: int(p.stem.split("-")[1]))
        return [text for p in files if f"Role: {role}" in (text := p.read_text())]

    def stickies(self, number: int) -> list[str]:
        return [c["body"] for c in self.fake.comments_on(number) if "growthhacker:sticky" in c["body"]]

    def replies(self, number: int) -> list[str]:
        return [c["body"] for c in self.fake.comments_on(number) if c["user"]["login"] == self.fake.bot_login
                and "growthhacker:sticky" not in c["body"]]


@contextmanager
def action_world(root: Path, files: Mapping[str, str] | None = None) -> Iterator[ActionWorld]:
    """A remote whose ``main`` holds ``files`` (default: the toy target), served by a fake GitHub."""
    server = root / "server"
    bare = server / "acme" / "ope-target.git"
    bare.parent.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    seed = git_repo(root / "seed", files if files is not None else toy_files())
    git(seed, "push", "-q", str(bare), "main")
    agent_dir = root / "agent"
    agent_dir.mkdir()
    (agent_dir / "agent.py").write_text(AGENT_SCRIPT, encoding="utf-8")
    with FakeGitHub.running(REPOSITORY, bare, TOKEN) as fake:
        policy = RetryPolicy(retries=1, backoff_s=0, sleeper=lambda _: None)
        gh = connect(TOKEN, api_url=fake.base_url, policy=policy, seconds_between_writes=0,
                     seconds_between_requests=0)
        yield ActionWorld(root, fake, bare, server, agent_dir, Publisher(gh, REPOSITORY))
