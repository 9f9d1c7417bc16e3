"""Shared by the GitHub Action tests (no tests here): a GitHub world for the toy target.

The fake GitHub (:mod:`tests.helpers.fake_github`) is both the API and the git remote
(``<server>/acme/ope-target.git``, smart HTTP with token scopes). Events are delivered to the
workflows ``growthhacker init`` writes, run job by job by :mod:`tests.helpers.workflow_runner`: each
job a fresh checkout as the runner gives it, a token with exactly the job's ``permissions:``, the
real CLI in-process. The target's config names the agent: the command backend running
:data:`AGENT_SCRIPT` (a real executable reading prompts on stdin), one iteration per run.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml
from click.testing import CliRunner, Result

from bot.cli import cli
from bot.config import CONFIG_FILE, load_config
from bot.errors import GitHubError
from bot.github.client import RetryPolicy, connect
from bot.github.git_remote import RemoteGit
from bot.github.journal_branch import JOURNAL_BRANCH
from bot.github.publish import Publisher
from bot.init.install import detect_install
from bot.init.workflows import render_workflows
from bot.workspace import BOT_IDENTITY
from tests.helpers.fake_github.server import FakeGitHub
from tests.helpers.repos import git_repo
from tests.helpers.toy import PARAMS, toy_files
from tests.helpers.workflow_runner import Runner, WorkflowRun, load_yaml, run_workflow

REPOSITORY = "acme/ope-target"
TOKEN = "ghs_actiontoken0123456789"
#: The action reference the world's workflows use (a pinned commit, as zizmor wants it).
ACTION_REF = "growthhacker/growthhacker@" + "0" * 39 + "1"

# A stand-in LLM for the command backend. The Analyzer proposes SCALE = 0.3 when a human hint mentions
# self-normalized weights, else TARGET (0.6 unless the file `target` next to the script says otherwise);
# the Coder edits pipeline/params.py from whatever value the file has now. Every prompt is kept. With a
# file `hang-at` holding N, the N-th Analyzer call writes `hanging` and answers only once the file
# `release` exists.
AGENT_SCRIPT = r'''
import json, pathlib, re, sys, time
prompt = sys.stdin.read()
here = pathlib.Path(__file__).parent
n = len(list(here.glob("prompt-*.md")))
(here / f"prompt-{n}.md").write_text(prompt)
analyses = len([p for p in here.glob("prompt-*.md") if "Role: Analyzer" in p.read_text()])
hang_at = here / "hang-at"
if "Role: Analyzer" in prompt and hang_at.exists() and analyses == int(hang_at.read_text()):
    (here / "hanging").write_text("")  # the test cancels the run now, or writes `release`
    deadline = time.time() + 600
    while not (here / "release").exists() and time.time() < deadline:
        time.sleep(0.05)
    (here / "hang-at").unlink()
    (here / "hanging").unlink()
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


def with_agent(files: Mapping[str, str], agent_command: str, iterations: int = 1) -> dict[str, str]:
    """``files`` whose ``.growthhacker.yml`` (if any) runs ``agent_command`` for ``iterations``."""
    out = dict(files)
    if ".growthhacker.yml" in out:
        config = yaml.safe_load(out[".growthhacker.yml"])
        config.setdefault("loop", {}).update(agent="command", agent_command=agent_command,
                                             iterations=iterations)
        out[".growthhacker.yml"] = yaml.safe_dump(config, sort_keys=False)
    return out


@dataclass
class ActionWorld:
    """A fake GitHub + its git remote holding the toy target, and the workflows ``init`` writes."""

    root: Path
    fake: FakeGitHub
    bare: Path
    agent_dir: Path
    publisher: Publisher
    runner: Runner
    workflows: dict[str, str]
    invocations: int = 0

    def trigger(self, event_name: str, payload: Mapping[str, Any]) -> WorkflowRun:
        """Deliver ``event_name`` with ``payload`` to the workflow ``init`` wrote for it, and run it."""
        for text in self.workflows.values():
            on = load_yaml(text)["on"]
            if event_name in on:
                return run_workflow(self.runner, text, event_name, payload)
        raise ValueError(f"no workflow of init's runs on {event_name}")

    def invoke(self, event_name: str, payload: Mapping[str, Any], *args: str,
               env: Mapping[str, str] | None = None) -> Result:
        """``growthhacker action *args`` run directly (no workflow) in a fresh clone of ``main``, with
        a token that may do everything and ``env`` added to the environment: for what the CLI does
        with events no workflow delivers, or one job's part on its own."""
        self.invocations += 1
        checkout = self.root / f"direct-{self.invocations}"
        subprocess.run(["git", "clone", "-q", str(self.bare), str(checkout)], check=True, capture_output=True)
        event_path = self.root / f"direct-{self.invocations}.json"
        event_path.write_text(json.dumps(payload), encoding="utf-8")
        environ = {"GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(event_path),
               "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_API_URL": self.fake.base_url,
               "GITHUB_SERVER_URL": self.fake.base_url, "GITHUB_TOKEN": TOKEN,
               "GROWTHHACKER_WRITE_PAUSE": "0", **(env or {})}
        return CliRunner().invoke(cli, ["action", str(checkout), *args], env=environ)

    def trigger_text(self, workflow: str, event_name: str, payload: Mapping[str, Any]) -> WorkflowRun:
        """Run the workflow ``workflow`` (YAML text) for ``event_name`` with ``payload``."""
        return run_workflow(self.runner, workflow, event_name, payload)

    def dispatch(self, iterations: str = "") -> WorkflowRun:
        """A manual run of the optimize workflow."""
        payload = {"inputs": {"iterations": iterations}, "ref": "refs/heads/main",
                   "sender": {"login": "alice", "type": "User"}}
        return self.trigger("workflow_dispatch", payload)

    def pull_request(self, number: int, action: str = "opened") -> WorkflowRun:
        """The ``pull_request`` event GitHub sends for PR ``number``."""
        return self.trigger("pull_request", self.fake.webhook_payload(number, action))

    def command(self, number: int, body: str, login: str) -> tuple[WorkflowRun, dict[str, Any]]:
        """``login`` comments ``body`` on PR ``number``; returns the run and the comment payload."""
        payload = self.comment(number, body, login)
        return self.trigger("issue_comment", payload), payload

    def comment(self, number: int, body: str, login: str) -> dict[str, Any]:
        """A human posts ``body`` on PR ``number``; returns the ``issue_comment`` webhook payload."""
        posted = self.fake.add_comment(number, body, login=login)
        return {
            "action": "created",
            "issue": {"number": number, "pull_request": {"url": f"{self.fake.base_url}/pulls/{number}"}},
            "comment": {**posted, "user": {"login": login, "type": "User"}},
            "sender": {"login": login, "type": "User"},
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

    def write_attempts(self, token: str) -> dict[str, int | str]:
        """What ``token`` gets for every kind of write the bot ever does: the API's status per call,
        and git's answer to pushing ``main``, the journal branch and a new branch."""
        sha = self.remote_sha("main")
        base = f"{self.fake.base_url}/repos/{REPOSITORY}"
        calls = {
            "open a pull request": ("POST", "/pulls", {"title": "x", "head": "main", "base": "main"}),
            "edit a pull request": ("PATCH", "/pulls/1", {"body": "x"}),
            "comment": ("POST", "/issues/1/comments", {"body": "x"}),
            "react": ("POST", "/issues/comments/1/reactions", {"content": "eyes"}),
            "label": ("POST", "/issues/1/labels", {"labels": ["x"]}),
            "check run": ("POST", "/check-runs", {"name": "x", "head_sha": sha}),
            "commit status": ("POST", f"/statuses/{sha}", {"state": "success"}),
        }
        found: dict[str, int | str] = {}
        for name, (method, path, body) in calls.items():
            answer = requests.request(method, base + path, json=body, timeout=30,
                                      headers={"Authorization": f"token {token}"})
            found[name] = answer.status_code
        clone = self.root / f"probe-{len(self.fake.tokens)}"
        subprocess.run(["git", "clone", "-q", str(self.bare), str(clone)], check=True, capture_output=True)
        git(clone, "commit", "-q", "--allow-empty", "-m", "written with a stolen token")
        remote = RemoteGit(clone, f"{self.fake.base_url}/{REPOSITORY}.git", token)
        for branch in ("main", JOURNAL_BRANCH, "growthhacker/stolen"):
            try:
                remote.push_branch(branch)
                found[f"push {branch}"] = "pushed"
            except GitHubError as exc:
                found[f"push {branch}"] = "403" if "403" in str(exc) else str(exc)
        return found

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

    def verify_comments(self, number: int) -> list[str]:
        return [c["body"] for c in self.fake.comments_on(number) if "growthhacker:verify" in c["body"]]

    def replies(self, number: int) -> list[str]:
        return [c["body"] for c in self.fake.comments_on(number) if c["user"]["login"] == self.fake.bot_login
                and not any(m in c["body"] for m in ("growthhacker:sticky", "growthhacker:verify"))]


@contextmanager
def action_world(root: Path, files: Mapping[str, str] | None = None,
                 shards: int = 1) -> Iterator[ActionWorld]:
    """A remote whose ``main`` holds ``files`` (default: the toy target), served by a fake GitHub,
    with the workflows ``init --shards shards`` writes."""
    bare = root / "server" / "acme" / "ope-target.git"
    bare.parent.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    agent_dir = root / "agent"
    agent_dir.mkdir()
    (agent_dir / "agent.py").write_text(AGENT_SCRIPT, encoding="utf-8")
    agent_command = f"{shlex.quote(sys.executable)} {shlex.quote(str(agent_dir / 'agent.py'))}"
    seed = git_repo(root / "seed", with_agent(files if files is not None else toy_files(), agent_command))
    git(seed, "push", "-q", str(bare), "main")
    with FakeGitHub.running(REPOSITORY, bare, TOKEN) as fake:
        policy = RetryPolicy(retries=1, backoff_s=0, sleeper=lambda _: None)
        gh = connect(TOKEN, api_url=fake.base_url, policy=policy, seconds_between_writes=0,
                     seconds_between_requests=0)
        runner = Runner(fake, bare, REPOSITORY, root / "runner", ACTION_REF,
                        runner_env={"GROWTHHACKER_WRITE_PAUSE": "0"})
        # What `growthhacker init` writes for this repository: its install step, verify's paths.
        config = load_config(seed)
        paths = [*config.edit.paths, *config.edit.protected, CONFIG_FILE]
        yield ActionWorld(root, fake, bare, agent_dir, Publisher(gh, REPOSITORY), runner,
                          render_workflows(ACTION_REF, detect_install(seed), paths, shards,
                                           config.loop.confirm_top))
