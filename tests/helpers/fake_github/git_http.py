"""The fake GitHub's git remote: real smart HTTP (``git http-backend``) behind GitHub's token check.

``https://github.com/<owner>/<repo>.git`` is served from the bare repository the fake API reads its
branches from. As on GitHub, the client authenticates with HTTP basic auth whose password is the
job's token (``x-access-token:<token>``, what :func:`bot.github.git_remote.git_auth_env` sends);
fetching needs ``contents: read`` and pushing ``contents: write``. Anything else is answered the way
GitHub answers it: 401 without credentials, 403 with a token that lacks the scope.
"""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class GitReply:
    """What the server sends back: status, headers, body."""

    status: int
    headers: dict[str, str]
    body: bytes


def is_git_path(path: str, full_name: str) -> bool:
    """True if ``path`` (with its query) is a smart-HTTP request for ``full_name``'s repository."""
    return urlsplit(path).path.startswith(f"/{full_name}.git/")


def token_of(authorization: str) -> str | None:
    """The password of a basic ``authorization`` header (the token), or None."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        _, _, password = base64.b64decode(value.strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return password or None


def needed_level(path: str) -> str:
    """``write`` for the push service, ``read`` for everything else (fetch, ls-remote)."""
    split = urlsplit(path)
    pushing = "git-receive-pack" in split.path or "service=git-receive-pack" in split.query
    return "write" if pushing else "read"


def denied(status: int, full_name: str, login: str) -> GitReply:
    """GitHub's refusal: 401 asks for credentials, 403 names the account that lacks the scope."""
    if status == 401:
        return GitReply(401, {"WWW-Authenticate": 'Basic realm="GitHub"', "Content-Type": "text/plain"},
                        b"Invalid username or token.\n")
    text = f"Permission to {full_name}.git denied to {login}.\n"
    return GitReply(403, {"Content-Type": "text/plain"}, text.encode())


def serve(
    bare: Path, full_name: str, method: str, path: str, headers: dict[str, str], body: bytes
) -> GitReply:
    """Answer one smart-HTTP request for the bare repository ``bare`` with ``git http-backend``.

    ``bare`` must be ``<root>/<owner>/<repo>.git``. ``body`` is the request body, already de-chunked.
    """
    split = urlsplit(path)
    root = bare.parent.parent
    env = {
        "GIT_PROJECT_ROOT": str(root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": split.path,
        "QUERY_STRING": split.query,
        "REQUEST_METHOD": method,
        "CONTENT_TYPE": headers.get("content-type", ""),
        "CONTENT_LENGTH": str(len(body)),
        # http-backend enables receive-pack only for an authenticated user.
        "REMOTE_USER": "x-access-token",
        "REMOTE_ADDR": "127.0.0.1",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
    }
    for name in ("content-encoding", "git-protocol"):
        if name in headers:
            env[f"HTTP_{name.upper().replace('-', '_')}"] = headers[name]
    proc = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, check=False)
    head, _, payload = proc.stdout.partition(b"\r\n\r\n")
    if not _:
        head, _, payload = proc.stdout.partition(b"\n\n")
    status, reply_headers = 200, {}
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.strip().split()[0])
        elif name:
            reply_headers[name.strip()] = value.strip()
    if proc.returncode != 0 and not proc.stdout:
        return GitReply(500, {"Content-Type": "text/plain"}, proc.stderr)
    return GitReply(status, reply_headers, payload)
