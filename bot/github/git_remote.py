"""Pushing to the GitHub remote with real ``git``: the token travels as an HTTP header in git's
environment (never in a URL, an argument, ``.git/config`` or output), and pushes never force."""

from __future__ import annotations

import base64
import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

from bot.errors import GitHubError
from bot.redact import scrub


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
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        count = int(env.get("GIT_CONFIG_COUNT", "0"))
        env[f"GIT_CONFIG_KEY_{count}"] = "http.extraheader"
        env[f"GIT_CONFIG_VALUE_{count}"] = f"AUTHORIZATION: basic {basic}"
        env["GIT_CONFIG_COUNT"] = str(count + 1)
    return env


def push_branch(
    repo_dir: Path,
    branch: str,
    remote: str,
    *,
    token: str | None = None,
    source: str = "HEAD",
    timeout_s: float = 300,
) -> str:
    """Push ``source`` of the git repository at ``repo_dir`` to ``refs/heads/<branch>`` of ``remote``.

    Never forces: if the remote branch has commits that ``source`` does not contain (a human pushed),
    the push is rejected and reported. Returns the pushed commit sha.

    Raises:
        GitHubError: ``source`` is not a commit, the push was rejected, or git failed (the token is
            scrubbed from the message).
    """
    env = git_auth_env(token)
    secrets = [t for t in (token, _basic(token)) if t]

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", *args],
            cwd=repo_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )

    resolved = git("rev-parse", "--verify", "--quiet", f"{source}^{{commit}}")
    if resolved.returncode != 0:
        raise GitHubError(f"cannot push {source!r} from {repo_dir}: not a commit")
    sha = resolved.stdout.strip()
    try:
        proc = git("push", "--porcelain", remote, f"{sha}:refs/heads/{branch}")
    except subprocess.TimeoutExpired as exc:
        raise GitHubError(
            f"git push of {branch} to {_safe(remote)} timed out after {timeout_s:.0f}s"
        ) from exc
    if proc.returncode == 0:
        return sha
    output = scrub(proc.stdout + proc.stderr, secrets).strip()
    if re.search(r"\[rejected\]|non-fast-forward|fetch first", output):
        raise GitHubError(
            f"push of {branch} to {_safe(remote)} was rejected: the branch has commits the bot does not have "
            "(someone pushed to it). The bot never force-pushes; fetch the branch and build on top of it."
        )
    raise GitHubError(f"git push of {branch} to {_safe(remote)} failed: {output[-2000:]}")


def _basic(token: str | None) -> str:
    return base64.b64encode(f"x-access-token:{token}".encode()).decode() if token else ""


def _safe(url: str) -> str:
    """``url`` without any user:password part."""
    return re.sub(r"//[^/@]+@", "//", url)
