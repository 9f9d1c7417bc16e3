"""The files a GitHub Actions step writes for the runner: ``$GITHUB_OUTPUT`` and
``$GITHUB_STEP_SUMMARY``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path


def write_outputs(path: Path | None, values: Mapping[str, str]) -> None:
    """Append ``values`` to the ``$GITHUB_OUTPUT`` file (heredoc form, safe for multi-line values).

    Does nothing when ``path`` is None (not in Actions). Raises OSError if the file cannot be written.
    """
    if path is None:
        return
    with path.open("a", encoding="utf-8") as out:
        for key, value in values.items():
            delimiter = f"ghadelim_{uuid.uuid4().hex}"
            out.write(f"{key}<<{delimiter}\n{value}\n{delimiter}\n")


def append_step_summary(path: Path | None, markdown: str) -> None:
    """Append ``markdown`` to the ``$GITHUB_STEP_SUMMARY`` job summary; nothing when ``path`` is None.

    Raises OSError if the file cannot be written.
    """
    if path is None:
        return
    with path.open("a", encoding="utf-8") as out:
        out.write(markdown.rstrip("\n") + "\n")
