"""The journal across workflow runs: the branch ``growthhacker/journal`` holding ``journal.jsonl``.

Every Actions job starts from a fresh checkout, so the experiment journal (the memory of both loops)
lives on a branch of its own. Before a run the bot fetches it and merges it into the local
``.growthhacker/journal.jsonl``; after the run it merges the local records into the branch and pushes.

The journal is append-only, so merging is a union of lines: the branch's lines in their order, then
local lines the branch does not have, in their order, exact duplicates dropped. Two jobs finishing
together are safe: each push names the commit it builds on and never forces; the loser of a race sees
its push rejected (the branch moved), fetches again, re-merges and retries, a bounded number of times.

:class:`RemoteGit` is the authenticated ``git`` against the GitHub remote that this needs (the action
uses it too, to fetch pull-request branches): the token travels in the environment only and is
scrubbed from every message.
"""

from __future__ import annotations

import base64
import os
import random
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.errors import GitHubError
from bot.github.publish import git_auth_env
from bot.redact import scrub
from bot.workspace import BOT_IDENTITY, git

JOURNAL_BRANCH = "growthhacker/journal"
#: The file inside the journal branch.
BRANCH_FILE = "journal.jsonl"
#: Who the bot's commits are by (the same identity as candidate commits in :mod:`bot.workspace`).
#: Where fetched remote refs are kept locally: outside refs/heads and refs/remotes, and not
#: ``refs/growthhacker`` either, which git would search before refs/heads for "growthhacker/<run-id>".
LOCAL_NAMESPACE = "refs/growthhacker-fetched"


class RemoteGit:
    """``git`` in ``repo`` against ``remote`` (a URL), authenticated with ``token`` if given."""

    def __init__(self, repo: Path, remote: str, token: str | None = None, *, timeout_s: float = 300) -> None:
        self.repo = repo
        self.remote = remote
        self._env = git_auth_env(token)
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode() if token else ""
        self._secrets = [secret for secret in (token, basic) if secret]
        self._timeout = timeout_s

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``git args`` (output captured, never raises for a non-zero exit).

        Raises:
            GitHubError: git did not finish within the timeout.
        """
        try:
            return subprocess.run(
                ["git", *args],
                cwd=self.repo,
                env=self._env,
                capture_output=True,
                text=True,
                timeout=self._timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise GitHubError(
                f"git {args[0]} against the remote timed out after {self._timeout:.0f}s"
            ) from exc

    def output(self, proc: subprocess.CompletedProcess[str]) -> str:
        """The process's stdout and stderr with every credential scrubbed, trimmed to its tail."""
        return scrub(proc.stdout + proc.stderr, self._secrets).strip()[-2000:]

    def branch_sha(self, branch: str) -> str | None:
        """The commit ``branch`` points to on the remote, or None if it does not exist.

        Raises:
            GitHubError: the remote cannot be read.
        """
        proc = self.run("ls-remote", "--heads", self.remote, f"refs/heads/{branch}")
        if proc.returncode != 0:
            raise GitHubError(f"cannot read the branches of the remote: {self.output(proc)}")
        for line in proc.stdout.splitlines():
            sha, _, ref = line.partition("\t")
            if ref == f"refs/heads/{branch}":
                return sha
        return None

    def fetch_branch(self, branch: str) -> str:
        """Fetch ``branch`` into ``refs/growthhacker-fetched/<branch>``; returns that local ref.

        Raises:
            GitHubError: the branch does not exist on the remote, or the fetch failed.
        """
        local = f"{LOCAL_NAMESPACE}/{branch}"
        proc = self.run("fetch", "--quiet", "--no-tags", self.remote, f"+refs/heads/{branch}:{local}")
        if proc.returncode != 0:
            raise GitHubError(f"cannot fetch branch {branch!r} from the remote: {self.output(proc)}")
        return local

    def fetch_ref(self, remote_ref: str, local: str) -> None:
        """Fetch any remote ref (e.g. ``refs/pull/7/head``) into the local ref ``local``.

        Raises:
            GitHubError: the ref does not exist on the remote, or the fetch failed.
        """
        proc = self.run("fetch", "--quiet", "--no-tags", self.remote, f"+{remote_ref}:{local}")
        if proc.returncode != 0:
            raise GitHubError(f"cannot fetch {remote_ref} from the remote: {self.output(proc)}")

    def push(self, sha: str, branch: str) -> bool:
        """Push commit ``sha`` to ``branch`` without forcing; True if it landed, False if rejected.

        Raises:
            GitHubError: the push failed for another reason than a rejection.
        """
        proc = self.run("push", "--porcelain", self.remote, f"{sha}:refs/heads/{branch}")
        if proc.returncode == 0:
            return True
        # Porcelain marks a refused ref with "!"; git also says "[rejected]" or "[remote rejected]".
        if any(line.startswith("!") for line in proc.stdout.splitlines()) or "rejected" in proc.stderr:
            return False
        raise GitHubError(f"git push to {branch} failed: {self.output(proc)}")


def merge_lines(first: Iterable[str], second: Iterable[str]) -> list[str]:
    """The union of two append-only journals: ``first`` in order, then what only ``second`` has.

    Blank lines and exact duplicates are dropped (the first occurrence stays). Raises nothing.
    """
    seen: set[str] = set()
    merged: list[str] = []
    for line in (*first, *second):
        if line.strip() and line not in seen:
            seen.add(line)
            merged.append(line)
    return merged


def journal_lines(text: str) -> list[str]:
    """The complete lines of a journal text (a final line without its newline is a torn write)."""
    return text.split("\n")[:-1]


def _read_local(path: Path) -> list[str]:
    try:
        return journal_lines(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []


def _write_local(path: Path, lines: Sequence[str]) -> None:
    """Replace ``path`` atomically (a reader never sees half a journal)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False) as out:
        out.write("".join(f"{line}\n" for line in lines))
    os.replace(out.name, path)


@dataclass(frozen=True)
class Snapshot:
    """The journal branch as fetched: its commit (None if the branch does not exist) and lines."""

    sha: str | None
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Published:
    """What :meth:`JournalBranch.publish` did: the branch commit, lines added, pushes tried."""

    sha: str | None
    added: int
    attempts: int


class JournalBranch:
    """The journal branch on ``remote``, merged with local journal files of the repository."""

    def __init__(
        self,
        remote: RemoteGit,
        branch: str = JOURNAL_BRANCH,
        *,
        attempts: int = 6,
        sleeper: Callable[[float], None] = time.sleep,
    ) -> None:
        self.remote = remote
        self.branch = branch
        self.attempts = attempts
        self._sleep = sleeper

    def fetch(self) -> Snapshot:
        """The branch's current commit and journal lines (empty if the branch does not exist yet).

        Raises:
            GitHubError: the remote cannot be read, or the branch has no ``journal.jsonl``.
        """
        sha = self.remote.branch_sha(self.branch)
        if sha is None:
            return Snapshot(None, ())
        local = self.remote.fetch_branch(self.branch)
        # The fetched ref may be newer than the sha listed a moment ago: read the commit it names.
        sha = git(self.remote.repo, "rev-parse", f"{local}^{{commit}}").strip()
        show = subprocess.run(
            ["git", "show", f"{sha}:{BRANCH_FILE}"], cwd=self.remote.repo, capture_output=True, text=True,
            check=False,
        )
        if show.returncode != 0:
            raise GitHubError(
                f"branch {self.branch} has no {BRANCH_FILE}; it is reserved for the GrowthHacker journal "
                "(rename or delete it)"
            )
        return Snapshot(sha, tuple(journal_lines(show.stdout)))

    def pull_into(self, path: Path) -> int:
        """Merge the branch's journal into the local journal file ``path``; returns the lines added.

        Raises:
            GitHubError: see :meth:`fetch`.
        """
        remote = self.fetch().lines
        local = _read_local(path)
        merged = merge_lines(remote, local)
        if merged != local:
            _write_local(path, merged)
        return len(merged) - len(merge_lines(local, ()))

    def commit(self, snapshot: Snapshot, lines: Sequence[str], message: str) -> str:
        """A new commit on top of ``snapshot`` whose ``journal.jsonl`` holds ``lines``; returns its sha."""
        repo = self.remote.repo
        text = "".join(f"{line}\n" for line in lines)
        blob = git(repo, "hash-object", "-w", "--stdin", input_text=text).strip()
        tree = git(repo, "mktree", input_text=f"100644 blob {blob}\t{BRANCH_FILE}\n").strip()
        parent = ["-p", snapshot.sha] if snapshot.sha else []
        return git(repo, *BOT_IDENTITY, "commit-tree", tree, *parent, "-m", message).strip()

    def publish(self, path: Path, message: str = "journal: new records") -> Published:
        """Merge the local journal ``path`` into the branch and push it (never forcing).

        Retries when another job pushed in between, up to ``attempts`` pushes. Returns what was
        pushed; nothing is pushed when the branch already holds every local line.

        Raises:
            GitHubError: the remote cannot be read or written, or it kept moving for every attempt.
        """
        local = _read_local(path)
        for attempt in range(1, self.attempts + 1):
            snapshot = self.fetch()
            merged = merge_lines(snapshot.lines, local)
            added = len(merged) - len(snapshot.lines)
            if added == 0:
                return Published(snapshot.sha, 0, attempt - 1)
            sha = self.commit(snapshot, merged, f"{message} (+{added})")
            if self.remote.push(sha, self.branch):
                return Published(sha, added, attempt)
            if self.remote.branch_sha(self.branch) == snapshot.sha:
                raise GitHubError(
                    f"the push to {self.branch} was refused although nobody else wrote to it: does the "
                    "token have `contents: write`, and is the branch protected?"
                )
            # Another job won the race: back off a little (with jitter, so retries spread) and re-merge.
            self._sleep(random.uniform(0.05, 0.25) * attempt)
        raise GitHubError(
            f"could not push the journal to {self.branch}: it changed under every one of {self.attempts} "
            "attempts; the local records are kept in .growthhacker/journal.jsonl, re-run to publish them"
        )
