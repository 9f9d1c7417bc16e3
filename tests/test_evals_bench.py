"""Bot overhead per iteration against the eval time of each target (pytest-benchmark; no timed asserts).

The benchmarked function is one iteration's work of the bot outside the eval command, with the real
heuristic agent on a real worktree of the target: reset, read the journal best-first, analyze, write
the diff, apply it through the patch engine, compile-gate it, diff against base and journal it. The
eval time is one real evaluation of the target on its first search seed. The ratio
overhead / (eval per seed × search seeds) is attached to the benchmark (``extra_info``) and printed.

    .venv/bin/pytest tests/test_evals_bench.py --benchmark-enable -m slow -s
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.agents.base import AnalyzerContext, CoderRequest
from bot.agents.heuristic import make_heuristic_agent
from bot.cli import eval_environ
from bot.config import load_config
from bot.evaluate import Evaluator, compile_gate
from bot.journal import IterationRecorded, Journal
from bot.workspace import Workspace
from evals.targets import list_targets, prepare_repo, target_dir


def _iteration(repo: Path, tmp: Path) -> tuple[Callable[[], str], Workspace, Any]:
    """One bot iteration minus the evaluation, as a callable returning the candidate diff."""
    config = load_config(repo)
    workspace = Workspace.open(repo, "bench")
    policy = workspace.policy(config.edit)
    agent = make_heuristic_agent()
    # Read best-first from a journal that stays as it is, append to another: every round makes the
    # same move (the heuristic never repeats a journaled hypothesis and scope-rl offers only a few).
    journal = Journal(tmp / "journal.jsonl")
    sink = Journal(tmp / "appended.jsonl")
    counter = iter(range(1, 1_000_000))

    def iteration() -> str:
        n = next(counter)
        workspace.reset()
        files = workspace.editable_files(policy)
        context = AnalyzerContext(files=files, objective=config.evaluate.objective,
                                  guardrails=list(config.evaluate.guardrails), attempts=journal.attempts(),
                                  baseline={}, iteration=n, iterations=n)
        analysis = agent.analyzer.analyze(context).analysis
        diff = agent.coder.write_diff(CoderRequest(analysis=analysis, files=files)).diff
        workspace.apply(diff, policy)
        changed = [p for p in workspace.editable_files(policy) if p.endswith(".py")]
        problem = compile_gate(workspace.root, changed)
        assert problem is None, problem
        candidate = workspace.diff_from_base()
        sink.append(IterationRecorded(run_id="bench", iteration=n, hypothesis=analysis.hypothesis,
                                         persona=analysis.persona, diff=candidate, status="no_gain"))
        return candidate

    return iteration, workspace, config


@pytest.mark.slow
@pytest.mark.parametrize("target", list_targets())
def test_bench_bot_overhead_per_iteration_vs_eval(benchmark, tmp_path: Path, target: str) -> None:  # type: ignore[no-untyped-def]
    repo = prepare_repo(target_dir(target), tmp_path / "repo", [0], [100])
    iteration, workspace, config = _iteration(repo, tmp_path)
    iteration()  # warm-up: the OPE catalog reads the installed libraries' signatures once per process
    evaluator = Evaluator(config.evaluate, tmp_path / "cache", environ=eval_environ(os.environ))
    workspace.reset()
    (seed,) = evaluator.evaluate(workspace.project_root, workspace.tree_hash(), [0], tmp_path / "logs").seeds
    started = time.perf_counter()
    iteration()
    overhead_s = time.perf_counter() - started

    diff = benchmark(iteration)

    if benchmark.stats is not None:  # None under --benchmark-disable (make test): one plain call
        overhead_s = benchmark.stats.stats.mean
    search_eval_s = seed.duration_s * len(load_config(target_dir(target)).evaluate.seeds.search)
    ratio = overhead_s / search_eval_s
    benchmark.extra_info.update({"overhead_s": overhead_s, "eval_s_per_seed": seed.duration_s,
                                 "overhead_to_search_eval": ratio})
    print(f"\n{target}: bot overhead {overhead_s * 1000:.0f} ms per iteration, eval {seed.duration_s:.1f} s "
          f"per seed → overhead/search-eval = {ratio:.4f}")
    assert seed.ok, seed.reason
    assert diff.startswith("diff --git")
