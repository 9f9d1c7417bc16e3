"""Shared fixtures: real git repositories in temporary directories."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.helpers.repos import git_repo

# tests/strangers/ holds whole repositories the init tests copy: data, never collected as tests.
collect_ignore = ["strangers"]


@pytest.fixture
def make_repo(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Factory fixture: ``make_repo(files, name="repo")`` → path of a fresh committed git repo."""

    def factory(files: Mapping[str, str], name: str = "repo") -> Path:
        return git_repo(tmp_path / name, files)

    return factory
