"""Shared fixtures: real git repositories in temporary directories."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.helpers.repos import git_repo

# tests/strangers/ holds whole repositories the init tests copy: data, never collected as tests.
collect_ignore = ["strangers"]

# The tests run like a user who activated this venv: the test targets' dependencies (obp, scope-rl)
# are installed here, and the bot never puts its own interpreter on the evaluation's PATH.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)])


@pytest.fixture
def make_repo(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Factory fixture: ``make_repo(files, name="repo")`` → path of a fresh committed git repo."""

    def factory(files: Mapping[str, str], name: str = "repo") -> Path:
        return git_repo(tmp_path / name, files)

    return factory
