"""The evals matrix workflow: valid for actionlint and GitHub's workflow schema, in sync with evals/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from evals.records import FRAMEWORKS
from evals.targets import list_targets

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "evals.yml"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    if not path.is_file():
        pytest.fail(f"{name} is not installed in {BIN}: run `make install` (it is in the dev extra)")
    return str(path)


def _workflow() -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return data


def test_actionlint_accepts_the_workflow() -> None:
    proc = subprocess.run([_tool("actionlint"), str(WORKFLOW)], capture_output=True, text=True, check=False)

    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_workflow_matches_githubs_schema() -> None:
    command = [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)]

    proc = subprocess.run(command, capture_output=True, text=True, check=False)

    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_matrix_covers_every_target_and_framework() -> None:
    matrix = _workflow()["jobs"]["run"]["strategy"]["matrix"]

    assert sorted(matrix["target"]) == list_targets()
    assert sorted(matrix["framework"]) == sorted(FRAMEWORKS)


def test_the_shard_count_in_the_matrix_is_the_one_passed_to_the_runner() -> None:
    run_job = _workflow()["jobs"]["run"]
    shards = run_job["strategy"]["matrix"]["shard"]
    command = next(step["run"] for step in run_job["steps"] if step.get("name") == "Benchmark")

    assert shards == list(range(1, len(shards) + 1)) and f'--shard "$SHARD/{len(shards)}"' in command


def test_the_gather_job_merges_after_every_shard_even_when_some_fail() -> None:
    gather = _workflow()["jobs"]["gather"]

    assert gather["needs"] == "run" and gather["if"] == "always()"
    assert any("python -m evals merge" in step.get("run", "") for step in gather["steps"])
