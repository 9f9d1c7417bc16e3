"""Whether an event starts a run of a workflow, as GitHub decides it: the workflow's ``on:`` names the
event, and a ``pull_request`` trigger's ``paths:`` (GitHub's globs) match a file the PR changes."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A workflow ``paths:`` glob as a regex: ``**`` any path, ``*`` any name part, ``?`` one char."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def starts_run(bare: Path, triggers: Any, event_name: str, payload: Mapping[str, Any]) -> bool:
    """True if ``event_name`` with ``payload`` starts a run of a workflow whose ``on:`` is ``triggers``
    (the PR's changed files read from the remote ``bare``); False if the ``paths:`` filter stops it.

    Raises:
        ValueError: the workflow is not triggered by ``event_name`` at all.
    """
    if event_name not in (triggers if isinstance(triggers, dict | list) else [triggers]):
        raise ValueError(f"the workflow is not triggered by {event_name}")
    spec = triggers.get(event_name) if isinstance(triggers, dict) else None
    paths = spec.get("paths") if isinstance(spec, dict) else None
    if event_name != "pull_request" or not paths:
        return True
    pull = payload["pull_request"]
    changed = subprocess.run(["git", "diff", "--name-only", f"{pull['base']['sha']}...{pull['head']['sha']}"],
                             cwd=bare, check=True, capture_output=True, text=True).stdout
    return any(glob_regex(p).fullmatch(name) for p in paths for name in changed.splitlines())
