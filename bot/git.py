"""Every ``git`` the bot runs: bytes in and out, one error type, one reading of a rejected push.

Git's output is data (diffs, blobs, the journal), so it is never decoded behind the caller's back:
:func:`git_bytes` returns stdout exactly as git wrote it, and :func:`git` decodes it as UTF-8 for the
callers that want text (``"\\r\\n"`` stays ``"\\r\\n"``: text mode once rewrote the diff of every CRLF
file the bot recorded). Input is bytes too. Processes run through :func:`bot.process.run_process`
(own process group, killed on timeout), with the caller's environment or this process's.

Errors: a local git failure (non-zero exit, timeout, git missing) is a
:class:`~bot.errors.WorkspaceError` naming the command and git's stderr. Operations against the
GitHub remote (:class:`bot.github.git_remote.RemoteGit`) call :func:`run_git`, which reports instead
of raising, and raise :class:`~bot.errors.GitHubError` themselves with every credential scrubbed.

A push is rejected when ``git push --porcelain`` marks a ref with ``!`` (:func:`push_rejections`);
every push the bot makes reads it that way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.errors import WorkspaceError
from bot.process import run_process

#: A local git command running longer than this is stuck (git does not wait for locks).
LOCAL_TIMEOUT_S = 600.0
_DETAIL_CHARS = 2_000


@dataclass(frozen=True)
class GitResult:
    """How one ``git`` ended: exit code (None if killed on timeout) and its output, as bytes."""

    args: tuple[str, ...]
    returncode: int | None
    stdout: bytes
    stderr: bytes
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        """git exited with 0."""
        return self.returncode == 0

    def text(self) -> str:
        """stdout decoded as UTF-8 (undecodable bytes replaced), line endings as git wrote them."""
        return self.stdout.decode("utf-8", "replace")

    def detail(self) -> str:
        """stderr and stdout as text, stripped and cut to their tail (not scrubbed: see RemoteGit)."""
        both = (self.stderr + b"\n" + self.stdout).decode("utf-8", "replace").strip()
        return both[-_DETAIL_CHARS:]


def run_git(
    cwd: Path,
    *args: str,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    timeout_s: float = LOCAL_TIMEOUT_S,
) -> GitResult:
    """Run ``git args`` in ``cwd`` with ``input`` on stdin and ``env`` (default: this process's).

    Returns:
        The :class:`GitResult`, whatever the exit code; ``timed_out`` if it was killed.

    Raises:
        WorkspaceError: git could not be started (not installed, ``cwd`` missing).
    """
    try:
        result = run_process(
            ["git", *args],
            cwd,
            os.environ if env is None else env,
            timeout_s,
            stdin=input,
            output_limit=None,
            merge_stderr=False,
        )
    except OSError as exc:
        raise WorkspaceError(f"cannot run git in {cwd}: {exc} (is git installed?)") from exc
    return GitResult(args, result.returncode, result.stdout, result.stderr, result.timed_out)


def git_bytes(
    cwd: Path,
    *args: str,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout_s: float = LOCAL_TIMEOUT_S,
) -> bytes:
    """Run ``git args`` in ``cwd`` and return its stdout exactly as git wrote it.

    Raises:
        WorkspaceError: git could not start, timed out, or exited non-zero while ``check`` is set
            (git's stderr is in the message).
    """
    result = run_git(cwd, *args, input=input, env=env, timeout_s=timeout_s)
    if result.timed_out:
        raise WorkspaceError(
            f"git {' '.join(args)} in {cwd} did not finish within {timeout_s:g}s and was killed"
        )
    if check and not result.ok:
        raise WorkspaceError(f"git {' '.join(args)} failed in {cwd}: {result.detail()}")
    return result.stdout


def git(
    cwd: Path,
    *args: str,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout_s: float = LOCAL_TIMEOUT_S,
) -> str:
    """:func:`git_bytes` decoded as UTF-8 (undecodable bytes replaced; ``"\\r\\n"`` kept as is).

    Returns stdout even when git failed and ``check`` is off.

    Raises:
        WorkspaceError: see :func:`git_bytes`.
    """
    out = git_bytes(cwd, *args, input=input, env=env, check=check, timeout_s=timeout_s)
    return out.decode("utf-8", "replace")


def push_rejections(porcelain: bytes) -> list[str]:
    """The refs a ``git push --porcelain`` refused, from its stdout: one ``"<ref>: <summary>"`` each.

    Porcelain prints ``<flag>\\t<from>:<to>\\t<summary>`` per ref; flag ``!`` is a refused ref, whether
    git refused it locally (``[rejected] (fetch first)``, ``(non-fast-forward)``: the branch has commits
    the pusher lacks) or the remote did (``[remote rejected] (protected branch hook declined)``).
    An empty list means no ref was refused (the push landed, or failed before reaching any ref).
    """
    refused: list[str] = []
    for line in porcelain.decode("utf-8", "replace").splitlines():
        flag, _, rest = line.partition("\t")
        if flag == "!":
            refs, _, summary = rest.partition("\t")
            refused.append(f"{refs.partition(':')[2] or refs}: {summary.strip()}")
    return refused
