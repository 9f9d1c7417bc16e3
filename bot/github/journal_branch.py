"""The journal across workflow runs: the branch ``growthhacker/journal`` holding ``journal.jsonl``.

Every Actions job starts from a fresh checkout, so the experiment journal (the memory of both loops)
lives on a branch of its own. Before a run the bot fetches it and merges it into the local
``.growthhacker/journal.jsonl``; after the run it merges the local records into the branch and pushes.
The branch also keeps files the bot links to from pull requests, byte for byte: the plot of every
run that proposed a candidate, at ``plots/<run-id>.png`` (:func:`plot_path`, :func:`file_url`).

The journal is append-only, so merging is a union of lines, exact duplicates dropped: the branch gets
the local lines it lacks appended after its own, and the local journal the branch lines it lacks
(through :meth:`bot.journal.Journal.merge`, under the journal's lock: the journal has one writer).
Two jobs finishing together are safe: each push names the commit it builds on and never forces; the
loser of a race sees its push rejected (the branch moved), fetches again, re-merges and retries, a
bounded number of times.
Each attempt builds its tree from the branch as fetched, so files other jobs added are kept.

:class:`RemoteGit` is the authenticated ``git`` against the GitHub remote that this needs (the action
uses it too, to fetch pull-request branches): the token travels in the environment only and is
scrubbed from every message.
"""

from __future__ import annotations

import base64
import os
import random
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.errors import GitHubError, WorkspaceError
from bot.github.git_remote import git_auth_env
from bot.journal import Journal, journal_lines, merge_lines
from bot.redact import scrub
from bot.workspace import BOT_IDENTITY, git

JOURNAL_BRANCH = "growthhacker/journal"
#: The file inside the journal branch.
BRANCH_FILE = "journal.jsonl"
#: The folder of the journal branch holding one plot per run that proposed a candidate.
PLOTS_DIR = "plots"
#: Paths the bot may store on the journal branch: plain relative names, no ``.``/``..`` segments.
_FILE_PATH = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")
#: Where fetched remote refs are kept locally: outside refs/heads and refs/remotes, and not
#: ``refs/growthhacker`` either, which git would search before refs/heads for "growthhacker/<run-id>".
LOCAL_NAMESPACE = "refs/growthhacker-fetched"


def plot_path(run_id: str) -> str:
    """The path of run ``run_id``'s plot on the journal branch (``plots/<run-id>.png``)."""
    return f"{PLOTS_DIR}/{run_id}.png"


def file_url(server_url: str, repository: str, path: str, branch: str = JOURNAL_BRANCH) -> str:
    """The web URL that serves ``path`` of ``branch`` as raw bytes, usable as a markdown image.

    ``https://github.com/<owner>/<name>/blob/<branch>/<path>?raw=true`` answers with a redirect to the
    file's raw content; for a private repository GitHub adds a short-lived token to that redirect for
    viewers who may read the repository, so the image shows to them and to nobody else.
    """
    return f"{server_url.rstrip('/')}/{repository}/blob/{branch}/{path}?raw=true"


def check_file_path(path: str) -> str:
    """``path`` if the bot may store a file there on the journal branch.

    Raises:
        GitHubError: ``path`` is absolute, has ``.``/``..`` segments or unusual characters, or is the
            journal file itself.
    """
    if not _FILE_PATH.fullmatch(path) or path == BRANCH_FILE:
        raise GitHubError(
            f"cannot store {path!r} on the journal branch: use a relative path of letters, digits, "
            f"'.', '_' and '-' segments other than {BRANCH_FILE}"
        )
    return path


def _git_bytes(
    repo: Path, *args: str, data: bytes | None = None, env: Mapping[str, str] | None = None
) -> str:
    """Run a local ``git`` plumbing command with binary stdin; returns its stdout, stripped.

    Raises:
        WorkspaceError: git exited non-zero.
    """
    proc = subprocess.run(["git", *args], cwd=repo, input=data, capture_output=True, env=env, check=False)
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip()
        raise WorkspaceError(f"git {args[0]} failed in {repo}: {detail}")
    return proc.stdout.decode("utf-8", "replace").strip()


def _store_blob(repo: Path, data: bytes) -> str:
    """Write ``data`` (any bytes: never decoded, no line-ending conversion) as a blob; returns its id."""
    return _git_bytes(repo, "hash-object", "-w", "--stdin", data=data)


def _tree_with(repo: Path, base: str | None, blobs: Mapping[str, str]) -> str:
    """The tree of commit ``base`` (empty when None) with ``blobs`` (path → blob id) put in; returns its id.

    A private index file keeps the repository's own index and work tree out of it.
    """
    with tempfile.TemporaryDirectory(prefix="growthhacker-index-") as tmp:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        if base:
            _git_bytes(repo, "read-tree", base, env=env)
        entries = "".join(f"100644 {blob}\t{path}\n" for path, blob in blobs.items())
        _git_bytes(repo, "update-index", "--add", "--index-info", data=entries.encode(), env=env)
        return _git_bytes(repo, "write-tree", env=env)


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


@dataclass(frozen=True)
class Snapshot:
    """The journal branch as fetched: its commit (None if the branch does not exist), journal lines,
    and the paths of every file on it."""

    sha: str | None
    lines: tuple[str, ...]
    files: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Published:
    """What :meth:`JournalBranch.publish` did: the branch commit, lines added, pushes tried, files
    added or changed."""

    sha: str | None
    added: int
    attempts: int
    attached: int = 0


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
        listed = git(self.remote.repo, "ls-tree", "-r", "--name-only", "-z", sha)
        return Snapshot(sha, tuple(journal_lines(show.stdout)), frozenset(p for p in listed.split("\0") if p))

    def pull_into(self, journal: Journal, snapshot: Snapshot | None = None) -> int:
        """Merge the branch's journal (``snapshot``, else fetched now) into the local ``journal``:
        the branch lines it lacks are appended (see :meth:`Journal.merge`); returns how many.

        Raises:
            GitHubError: see :meth:`fetch`.
            JournalError: the local journal cannot be written.
        """
        return journal.merge((snapshot or self.fetch()).lines)

    def commit(
        self, snapshot: Snapshot, lines: Sequence[str], message: str, files: Mapping[str, bytes] | None = None
    ) -> str:
        """A new commit on top of ``snapshot`` whose ``journal.jsonl`` holds ``lines``, with ``files``
        (path → bytes) added or replaced and every other file of ``snapshot`` kept; returns its sha.

        Raises:
            GitHubError: a path in ``files`` is not allowed (see :func:`check_file_path`).
            WorkspaceError: git failed.
        """
        repo = self.remote.repo
        blobs = {check_file_path(p): _store_blob(repo, data) for p, data in (files or {}).items()}
        return self._commit(snapshot, lines, blobs, message)

    def _commit(
        self, snapshot: Snapshot, lines: Sequence[str], blobs: Mapping[str, str], message: str
    ) -> str:
        repo = self.remote.repo
        journal = _store_blob(repo, "".join(f"{line}\n" for line in lines).encode("utf-8"))
        tree = _tree_with(repo, snapshot.sha, {BRANCH_FILE: journal, **blobs})
        parent = ["-p", snapshot.sha] if snapshot.sha else []
        return git(repo, *BOT_IDENTITY, "commit-tree", tree, *parent, "-m", message).strip()

    def _blob_at(self, snapshot: Snapshot, path: str) -> str | None:
        if snapshot.sha is None or path not in snapshot.files:
            return None
        return git(self.remote.repo, "rev-parse", f"{snapshot.sha}:{path}").strip()

    def publish(
        self,
        journal: Journal,
        message: str = "journal: new records",
        files: Mapping[str, bytes] | None = None,
    ) -> Published:
        """Merge the local ``journal`` into the branch, add ``files`` (path → bytes, e.g. a run's
        plot at :func:`plot_path`), and push it (never forcing).

        Retries when another job pushed in between, up to ``attempts`` pushes; every attempt starts
        from the branch as fetched then, so what other jobs pushed is kept. Returns what was pushed;
        nothing is pushed when the branch already holds every local line and every file as given.

        Raises:
            GitHubError: a path in ``files`` is not allowed, the remote cannot be read or written, or it
                kept moving for every attempt.
            JournalError: the local journal cannot be read.
        """
        local = journal.lines()
        repo = self.remote.repo
        blobs = {check_file_path(p): _store_blob(repo, data) for p, data in (files or {}).items()}
        for attempt in range(1, self.attempts + 1):
            snapshot = self.fetch()
            merged = merge_lines(snapshot.lines, local)
            added = len(merged) - len(snapshot.lines)
            changed = {p: blob for p, blob in blobs.items() if self._blob_at(snapshot, p) != blob}
            if added == 0 and not changed:
                return Published(snapshot.sha, 0, attempt - 1)
            note = f"+{added}" + (f", {len(changed)} file(s)" if changed else "")
            sha = self._commit(snapshot, merged, changed, f"{message} ({note})")
            if self.remote.push(sha, self.branch):
                return Published(sha, added, attempt, len(changed))
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
