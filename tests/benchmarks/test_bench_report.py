"""Benchmarks: rendering the report of a long run (50 iterations × 5 seeds).

Run with ``pytest tests/benchmarks --benchmark-enable``; the default ``--benchmark-disable`` still
executes each function once, so these double as smoke tests of a large report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.report import render_markdown, write_report
from bot.results import EvalResult, IterationSummary, RunSummary, SeedResult

SEARCH = [0, 1, 2, 3, 4]
CONFIRM = [100, 101, 102, 103, 104]


def evaluation(seeds: list[int], scale: float) -> EvalResult:
    return EvalResult(
        tree=f"tree-{scale}",
        seeds=[
            SeedResult(seed=s, ok=True, metrics={"relative_ee": scale * (1 + 0.01 * s), "runtime_s": 3.0})
            for s in seeds
        ],
    )


def iteration(n: int) -> IterationSummary:
    if n % 7 == 0:
        return IterationSummary(
            iteration=n, hypothesis=f"idea {n} | broken", persona="estimator", status="failed",
            failure_reason="[context_mismatch] hunk 1 not found",
        )  # fmt: skip
    return IterationSummary(
        iteration=n,
        hypothesis=f"Tune lambda of SwitchDR to {n * 10} and clip weights at {n} | iteration {n} " * 2,
        persona="hyperparameter",
        status="improved" if n == 42 else "no_gain",
        diff=f"--- a/est.py\n+++ b/est.py\n@@ -1 +1 @@\n-lam = 1\n+lam = {n * 10}\n",
        search=evaluation(SEARCH, 0.1 * (1 - n / 100)),
        confirm=evaluation(CONFIRM, 0.058) if n == 42 else None,
        confirmed=True if n == 42 else None,
        tokens=2000,
        usd=0.03,
        duration_s=20.0,
    )


def long_run() -> RunSummary:
    return RunSummary(
        run_id="bench",
        agent="anthropic",
        base_commit="f" * 40,
        metric="relative_ee",
        goal="minimize",
        guardrails=["runtime_s"],
        baseline_search=evaluation(SEARCH, 0.1),
        baseline_confirm=evaluation(CONFIRM, 0.1),
        iterations=[iteration(n) for n in range(1, 51)],
        winner=42,
        reason="iteration 42 confirmed on held-out seeds",
    )


def test_bench_render_markdown(benchmark: Any) -> None:
    summary = long_run()

    text = benchmark(render_markdown, summary)

    assert text.count("\n| ") >= 50 + 2


def test_bench_write_report_with_plot(benchmark: Any, tmp_path: Path) -> None:
    summary = long_run()

    report_path, plot_path = benchmark(write_report, summary, tmp_path)

    assert report_path.stat().st_size > 0 and plot_path.stat().st_size > 0
