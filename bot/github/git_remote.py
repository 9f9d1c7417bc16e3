"""The GitHub remote through real ``git``: list, fetch and push (never forcing), token-authenticated.

The token travels as an HTTP header in git's environment (never in a URL, an argument,
``.git/config`` or output), and is scrubbed from every message. Every failure against the remote is a
:class:`~bot.errors.GitHubError`; local git failures stay :class:`~bot.errors.WorkspaceError`
(see :mod:`bot.git`).
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping
from pathlib import Path

from bot.errors import GitHubError
from bot.git import GitResult, git, push_rejections, run_git
from bot.redact import scrub

#: Where fetched remote refs are kept locally: outside refs/heads and refs/remotes, and not
#: ``refs/growthhacker`` either, which git would search before refs/heads for "growthhacker/<run-id>".
LOCAL_NAMESPACE = "refs/growthhacker-fetched"
REMOTE_TIMEOUT_S = 300.0


def remote_url(server_url: str, repository: str) -> str:
    """The HTTPS clone URL of ``repository`` on ``server_url`` (credentials are never put in it)."""
    return f"{server_url.rstrip('/')}/{repository}.git"


def git_auth_env(token: str | None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a ``git`` subprocess that authenticates HTTPS with ``token``.

    The token travels as an ``http.extraheader`` through ``GIT_CONFIG_*`` variables: never in the
    URL, the command line, ``.git/config`` or git's output. Prompts are disabled so a bad token
    fails instead of hanging. Returns a new dict based on ``base`` (default: ``os.environ``).
    """
    env = dict(os.environ if base is None else base)
    env["GIT_TERMINAL_PROMPT"] = "0"
    if token:
        count = int(env.get("GIT_CONFIG_COUNT", "0"))
        env[f"GIT_CONFIG_KEY_{count}"] = "http.extraheader"
        env[f"GIT_CONFIG_VALUE_{count}"] = f"AUTHORIZATION: basic {_basic(token)}"
        env["GIT_CONFIG_COUNT"] = str(count + 1)
    return env


class RemoteGit:
    """``git`` in ``repo`` against ``remote`` (a URL or path), authenticated with ``token`` if given."""

    def __init__(
        self, repo: Path, remote: str, token: str | None = None, *, timeout_s: float = REMOTE_TIMEOUT_S
    ) -> None:
        self.repo = repo
        self.remote = remote
        self._env = git_auth_env(token)
        self._secrets = [secret for secret in (token, _basic(token)) if secret]
        self._timeout = timeout_s

    def _run(self, *args: str) -> GitResult:
        """Run ``git args`` against the remote (never raises for a non-zero exit).

        Raises:
            GitHubError: git did not finish within the timeout.
            WorkspaceError: git could not be started.
        """
        result = run_git(self.repo, *args, env=self._env, timeout_s=self._timeout)
        if result.timed_out:
            raise GitHubError(
                f"git {args[0]} against {self._where()} timed out after {self._timeout:.0f}s"
            )
        return result

    def _output(self, result: GitResult) -> str:
        """What git printed, with every credential scrubbed, trimmed to its tail."""
        return _safe(scrub(result.detail(), self._secrets))

    def _where(self) -> str:
        return _safe(scrub(self.remote, self._secrets))

    def branch_sha(self, branch: str) -> str | None:
        """The commit ``branch`` points to on the remote, or None if it does not exist.

        Raises:
            GitHubError: the remote cannot be read.
        """
        result = self._run("ls-remote", "--heads", self.remote, f"refs/heads/{branch}")
        if not result.ok:
            raise GitHubError(f"cannot read the branches of the remote: {self._output(result)}")
        for line in result.text().splitlines():
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
        result = self._run("fetch", "--quiet", "--no-tags", self.remote, f"+refs/heads/{branch}:{local}")
        if not result.ok:
            raise GitHubError(f"cannot fetch branch {branch!r} from the remote: {self._output(result)}")
        return local

    def fetch_ref(self, remote_ref: str, local: str) -> None:
        """Fetch any remote ref (e.g. ``refs/pull/7/head``) into the local ref ``local``.

        Raises:
            GitHubError: the ref does not exist on the remote, or the fetch failed.
        """
        result = self._run("fetch", "--quiet", "--no-tags", self.remote, f"+{remote_ref}:{local}")
        if not result.ok:
            raise GitHubError(f"cannot fetch {remote_ref} from the remote: {self._output(result)}")

    def push(self, sha: str, branch: str) -> bool:
        """Push commit ``sha`` to ``branch`` without forcing; True if it landed, False if the remote
        refused it (see :func:`bot.git.push_rejections`: the branch moved, or it is protected).

        Raises:
            GitHubError: the push failed for another reason than a refused ref (network, auth).
        """
        return not self._push(sha, branch)

    def push_branch(self, branch: str, source: str = "HEAD") -> str:
        """Push ``source`` (a commit-ish of ``repo``) to ``branch`` without forcing; returns its sha.

        If the remote branch has commits that ``source`` does not contain (a human pushed), the push is
        refused and reported: the bot builds on top of the branch instead.

        Raises:
            GitHubError: ``source`` is not a commit, the push was refused, or git failed (credentials
                scrubbed from the message).
        """
        sha = git(self.repo, "rev-parse", "--verify", "--quiet", f"{source}^{{commit}}", check=False).strip()
        if not sha:
            raise GitHubError(f"cannot push {source!r} from {self.repo}: not a commit")
        refused = self._push(sha, branch)
        if refused:
            raise GitHubError(
                f"push of {branch} to {self._where()} was rejected ({'; '.join(refused)}): the branch has "
                "commits the bot does not have (someone pushed to it), or it is protected. The bot never "
                "force-pushes; fetch the branch and build on top of it."
            )
        return sha

    def delete_branch(self, branch: str, sha: str) -> None:
        """Delete ``branch`` on the remote if it still points at ``sha`` (the bot's own push, nothing
        anyone added since: ``--force-with-lease`` refuses otherwise).

        Raises:
            GitHubError: git failed or the branch moved.
        """
        lease = f"--force-with-lease=refs/heads/{branch}:{sha}"
        result = self._run("push", "--porcelain", lease, self.remote, f":refs/heads/{branch}")
        if not result.ok:
            raise GitHubError(f"cannot delete {branch} on {self._where()}: {self._output(result)}")

    def _push(self, sha: str, branch: str) -> list[str]:
        """Push without forcing; the refused refs (empty: it landed).

        Raises:
            GitHubError: git failed without refusing a ref.
        """
        result = self._run("push", "--porcelain", self.remote, f"{sha}:refs/heads/{branch}")
        if result.ok:
            return []
        refused = [scrub(line, self._secrets) for line in push_rejections(result.stdout)]
        if refused:
            return refused
        raise GitHubError(f"git push of {branch} to {self._where()} failed: {self._output(result)}")


def _basic(token: str | None) -> str:
    return base64.b64encode(f"x-access-token:{token}".encode()).decode() if token else ""


def _safe(text: str) -> str:
    """``text`` without the user:password part of any URL in it."""
    return re.sub(r"//[^/@\s]+@", "//", text)
