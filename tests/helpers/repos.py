"""Real git repositories in temporary directories."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path


def git_repo(root: Path, files: Mapping[str, str], message: str = "initial") -> Path:
    """Create a git repository at ``root`` holding ``files`` in one commit; returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    run = lambda *args: subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)  # noqa: E731
    run("init", "-q", "-b", "main")
    run("add", "-A")
    run("-c", "user.name=test", "-c", "user.email=test@example.invalid", "commit", "-q", "-m", message)
    return root
