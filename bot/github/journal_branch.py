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

The remote is a :class:`~bot.github.git_remote.RemoteGit` (token-authenticated; the action uses the
same object to fetch and push pull-request branches); local git runs through :mod:`bot.git`.
"""

from __future__ import annotations

import os
import random
import re
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.errors import GitHubError
from bot.git import git, run_git
from bot.github.git_remote import RemoteGit
from bot.journal import Journal, journal_lines, merge_lines
from bot.workspace import BOT_IDENTITY

JOURNAL_BRANCH = "growthhacker/journal"
#: The file inside the journal branch.
BRANCH_FILE = "journal.jsonl"
#: The folder of the journal branch holding one plot per run that proposed a candidate.
PLOTS_DIR = "plots"
#: Paths the bot may store on the journal branch: plain relative names, no ``.``/``..`` segments.
_FILE_PATH = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")


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


def _store_blob(repo: Path, data: bytes) -> str:
    """Write ``data`` (any bytes: never decoded, no line-ending conversion) as a blob; returns its id."""
    return git(repo, "hash-object", "-w", "--stdin", input=data).strip()


def _tree_with(repo: Path, base: str | None, blobs: Mapping[str, str]) -> str:
    """The tree of commit ``base`` (empty when None) with ``blobs`` (path → blob id) put in; returns its id.

    A private index file keeps the repository's own index and work tree out of it.
    """
    with tempfile.TemporaryDirectory(prefix="growthhacker-index-") as tmp:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        if base:
            git(repo, "read-tree", base, env=env)
        entries = "".join(f"100644 {blob}\t{path}\n" for path, blob in blobs.items())
        git(repo, "update-index", "--add", "--index-info", input=entries.encode(), env=env)
        return git(repo, "write-tree", env=env).strip()


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
        show = run_git(self.remote.repo, "cat-file", "blob", f"{sha}:{BRANCH_FILE}")
        if not show.ok:
            raise GitHubError(
                f"branch {self.branch} has no {BRANCH_FILE}; it is reserved for the GrowthHacker journal "
                "(rename or delete it)"
            )
        listed = git(self.remote.repo, "ls-tree", "-r", "--name-only", "-z", sha)
        # The journal is UTF-8 JSON lines; decoding strictly would turn one bad byte into a crash.
        text = show.stdout.decode("utf-8", "replace")
        return Snapshot(sha, tuple(journal_lines(text)), frozenset(p for p in listed.split("\0") if p))

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
