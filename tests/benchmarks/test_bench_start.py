"""Benchmarks of the bot's start and per-iteration cost: `--help`, time to a run's first evaluation, and
the overhead of one loop iteration beyond its evaluations.

`make test` runs these once with --benchmark-disable (a correctness smoke); for numbers run
`.venv/bin/pytest tests/benchmarks/test_bench_start.py --benchmark-enable -n 0`. The measured figures
(time to the first evaluation, overhead per iteration) are stored in each benchmark's ``extra_info``
(``--benchmark-json``) and printed; nothing is asserted about time (evals/README.md, "The bot's own
overhead", has the numbers and the machine).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bot.journal import IterationRecorded, Journal
from bot.results import EvalResult
from tests.helpers.loop import run_loop
from tests.helpers.repos import git_repo
from tests.helpers.toy import Step, toy_files

CLI = str(Path(sys.executable).parent / "growthhacker")


def test_bench_help(benchmark: Any) -> None:
    result = benchmark.pedantic(subprocess.run, args=([CLI, "--help"],),
                                kwargs={"capture_output": True, "text": True, "check": True},
                                rounds=3, iterations=1)
    assert "Commands:" in result.stdout


def _stamped_toy(root: Path, stamp: Path) -> Path:
    """A toy repository whose evaluation writes the time of the first evaluation to ``stamp``."""
    files = toy_files()
    first = ("import os, time\ntry:\n"
             f"    fd = os.open({str(stamp)!r}, os.O_CREAT | os.O_EXCL | os.O_WRONLY)\n"
             "    os.write(fd, repr(time.time()).encode())\n    os.close(fd)\nexcept FileExistsError:\n"
             "    pass\n")
    files["evaluate.py"] = first + files["evaluate.py"]
    return git_repo(root, files)


def test_bench_time_to_first_evaluation(benchmark: Any, tmp_path: Path) -> None:
    """`growthhacker run` from the process start to the moment its first evaluation starts."""
    delays: list[float] = []
    rounds = iter(range(100))

    def start_a_run() -> None:
        n = next(rounds)
        stamp = tmp_path / f"first-{n}"
        repo = _stamped_toy(tmp_path / f"repo-{n}", stamp)
        started = time.time()
        subprocess.run([CLI, "run", str(repo), "--iterations", "0", "--agent", "heuristic"],
                       capture_output=True, text=True, check=True)
        delays.append(float(stamp.read_text()) - started)

    benchmark.pedantic(start_a_run, rounds=3, iterations=1)

    benchmark.extra_info["seconds_to_first_evaluation"] = delays
    print(f"\nseconds from `growthhacker run` to its first evaluation: {[round(d, 2) for d in delays]}")
    # --benchmark-disable (make test) calls the function once, --benchmark-enable three times.
    assert len(delays) in (1, 3) and all(d > 0 for d in delays)


def test_bench_iteration_overhead(benchmark: Any, tmp_path: Path) -> None:
    """What one loop iteration costs beyond its evaluations (worktree, patch, gate, journal, report)."""
    steps = [Step(f"scale {s}", f"SCALE = {s}\n") for s in (0.9, 0.6, 0.45, 0.3, 0.35, 0.5)]
    rounds = iter(range(100))
    overheads: list[float] = []

    calls: list[int] = []

    def run_six_iterations() -> None:
        calls.append(next(rounds))
        repo = git_repo(tmp_path / f"repo-{calls[-1]}", toy_files())
        run_loop(repo, steps)
        journal = Journal(repo / ".growthhacker" / "journal.jsonl")
        for record in journal.records():
            if isinstance(record, IterationRecorded) and record.duration_s:
                overheads.append(record.duration_s - _eval_seconds(record.search)
                                 - _eval_seconds(record.validation))

    benchmark.pedantic(run_six_iterations, rounds=2, iterations=1)

    benchmark.extra_info["overhead_s_per_iteration"] = overheads
    print(f"\noverhead per iteration beyond its evaluations (s): {[round(o, 3) for o in overheads]}")
    # One call under --benchmark-disable (make test), two under --benchmark-enable.
    assert calls and len(overheads) == len(calls) * len(steps)


def _eval_seconds(result: EvalResult | None) -> float:
    return sum(seed.duration_s for seed in result.seeds) if result is not None else 0.0
