"""Fixtures of the fault matrix: one evaluation cache per module, shared by its rows."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An evaluation cache shared by a module's rows: the unchanged baseline is evaluated once."""
    return tmp_path_factory.mktemp("eval-cache")
