"""A complete local GitHub for tests: a bare git remote, a working clone, the fake API and a Publisher."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from github import Github

from bot.github.client import RetryPolicy, connect
from bot.github.publish import Publisher
from tests.helpers.fake_github.server import FakeGitHub

REPOSITORY = "acme/ope-target"
TOKEN = "ghs_faketoken0123456789"
#: A fixed "now" for rate-limit arithmetic (x-ratelimit-reset is absolute epoch seconds).
NOW = 1_800_000_000.0


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` as a test user; returns stdout (raises on failure)."""
    identity = ["-c", "user.name=tester", "-c", "user.email=tester@example.invalid"]
    proc = subprocess.run(["git", *identity, *args], cwd=cwd, check=True, capture_output=True, text=True)
    return proc.stdout.strip()


@dataclass
class World:
    """Everything a GitHub test needs; ``waits`` records every retry wait instead of sleeping."""

    fake: FakeGitHub
    bare: Path
    work: Path
    gh: Github
    publisher: Publisher
    waits: list[float] = field(default_factory=list)

    def commit(self, branch: str, files: Mapping[str, str], message: str = "change") -> str:
        """Commit ``files`` on ``branch`` (made from HEAD if new) in the clone; returns the sha."""
        git(self.work, "checkout", "-q", "-B", branch)
        for path, text in files.items():
            target = self.work / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        git(self.work, "add", "-A")
        git(self.work, "commit", "-q", "-m", message)
        return git(self.work, "rev-parse", "HEAD")

    def push(self, branch: str) -> None:
        """Push ``branch`` of the clone to the bare remote (as a human would)."""
        git(self.work, "push", "-q", str(self.bare), f"{branch}:refs/heads/{branch}")

    def bot_branch(self, branch: str = "growthhacker/run-1") -> str:
        """Create and push a bot branch with one change; returns its name."""
        git(self.work, "checkout", "-q", "main")
        self.commit(branch, {"ope_pipeline/estimator.py": "ESTIMATOR = 'SNIPW'\n"}, "GrowthHacker: use SNIPW")
        self.push(branch)
        return branch


def client(fake: FakeGitHub, waits: list[float], *, retries: int = 3, max_wait_s: float = 90.0) -> Github:
    """A PyGithub client for ``fake`` whose retry waits are appended to ``waits`` (no real sleeping)."""
    policy = RetryPolicy(
        retries=retries, backoff_s=0.5, max_wait_s=max_wait_s, sleeper=waits.append, clock=lambda: NOW
    )
    return connect(
        TOKEN, api_url=fake.base_url, policy=policy, seconds_between_writes=0, seconds_between_requests=0
    )


@contextmanager
def github_world(
    root: Path, *, bot_login: str | None = None, posts_as: str = "github-actions[bot]"
) -> Iterator[World]:
    """Start a fake GitHub for ``acme/ope-target`` whose ``main`` holds one commit.

    ``posts_as`` is the account the token writes as (the Actions token's by default; a user's login
    plays a personal access token); ``bot_login`` is what the publisher is told it is.
    """
    bare = root / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    work = root / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / "ope_pipeline").mkdir()
    (work / "ope_pipeline" / "estimator.py").write_text("ESTIMATOR = 'IPW'\n", encoding="utf-8")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "initial")
    git(work, "push", "-q", str(bare), "main")
    with FakeGitHub.running(REPOSITORY, bare, TOKEN, posts_as) as fake:
        waits: list[float] = []
        gh = client(fake, waits)
        yield World(fake, bare, work, gh, Publisher(gh, REPOSITORY, bot_login=bot_login), waits)
