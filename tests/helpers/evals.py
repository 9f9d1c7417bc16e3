"""Shared by the benchmark's tests: probe subprocesses, and hand-made run records."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from evals.records import RunRecord, RunSpec


def run_probes(commands: dict[str, list[str]], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run every command at once, each in a fresh directory; the JSON each prints on its last line."""
    procs = {
        name: subprocess.Popen(command, cwd=tmp_path_factory.mktemp(name), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        for name, command in commands.items()
    }
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        results[name] = json.loads(out.strip().splitlines()[-1])
    return results



def record(framework: str = "heuristic", target: str = "t1", run: int = 0, validate: list[int] | None = None,
           audit: list[int] | None = None, **facts: Any) -> RunRecord:
    """A finished, reliable, non-positive run unless ``facts`` say otherwise."""
    spec = RunSpec(target=target, framework=framework, run=run, iterations=3, search_seeds=[0],
                   confirm_seeds=[100], validate_seeds=validate or [], audit_seeds=audit or [])
    defaults: dict[str, Any] = {
        "backend": framework, "started_at": "2026-11-25T10:00:00+00:00", "machine": "test machine",
        "process": "finished", "exit_code": 0, "verdict_recorded": True, "baseline_ok": True,
        "evaluated": 2, "iterations_run": 3, "wall_s": 100.0,
    }
    return RunRecord.model_validate({"spec": spec.model_dump(), **defaults, **facts})


def positive(improvement: float, **facts: Any) -> RunRecord:
    return record(winner=1, heldout_improvement=improvement, **facts)
