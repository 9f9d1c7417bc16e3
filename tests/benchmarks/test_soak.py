"""Soak: 200 iterations of the real loop against the local fake Anthropic server with random faults.

The agent is the real two-agent stack on the real SDK (streaming) against
:class:`~tests.helpers.faulty_llm.FaultyAnthropic`; the target is the fault matrix's fast toy, evaluated
in real subprocesses. A seeded generator decides, per request, whether to inject a fault (at
:data:`FAULT_RATE`): HTTP 429/500/529, a reset connection, a stream that breaks off or ends early, an
error event mid-stream, or a useless answer (invalid JSON, no diff, a diff for a protected file).

Checked: the run completes, every one of the 200 iterations is in the journal exactly once, and
memory stays flat. The figures (RSS over the run, faults injected, outcomes, wall time) are printed
and stored in pytest-benchmark's ``extra_info``; nothing is asserted about time.
"""

from __future__ import annotations

import collections
import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest

from bot.agents.analyzer import LLMAnalyzer
from bot.agents.anthropic_backend import AnthropicClient, make_sdk_client
from bot.agents.base import Agent
from bot.agents.coder import LLMCoder
from bot.journal import IterationRecorded, RunFinished
from bot.loop import LoopEvent
from tests.helpers.fake_anthropic import Failure, RecordedRequest, Reply, StreamFailure
from tests.helpers.fault_target import MODEL, make_target, run_loop
from tests.helpers.faulty_llm import FaultyAnthropic, Reset, Truncated

ITERATIONS = 200
FAULT_RATE = 0.15
SEED = 20261125
FAST = {"retry-after-ms": "1"}


def rss_mb() -> float:
    """The resident set size of this process now, in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Responder:
    """Answers each request like a model would, except that a seeded share of requests get a fault."""

    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.faults: collections.Counter[str] = collections.Counter()

    def __call__(self, request: RecordedRequest) -> object:
        analyzer = "Role: Analyzer" in request.text
        if self.rng.random() < FAULT_RATE:
            kind, item = self._fault(analyzer, request)
            self.faults[kind] += 1
            return item
        return Reply(self._analysis() if analyzer else self._diff(request.text))

    def _fault(self, analyzer: bool, request: RecordedRequest) -> tuple[str, object]:
        kinds: list[tuple[str, object]] = [
            ("429", Failure(429, "rate_limit_error", headers=FAST)),
            ("500", Failure(500, "api_error", headers=FAST)),
            ("529", Failure(529, "overloaded_error", headers=FAST)),
            ("reset", Reset()),
            ("stream_ended_early", Truncated("partial")),
            ("stream_cut", Truncated("partial", clean=False)),
            ("error_event", StreamFailure("overloaded_error")),
        ]
        if analyzer:
            kinds.append(("invalid_json", Reply('{"hypothesis": oops')))
        else:
            kinds += [("no_diff", Reply("Looks fine to me.")),
                      ("protected_file", Reply("```diff\n--- a/evaluate.py\n+++ b/evaluate.py\n@@ -1 +1 @@\n"
                                               "-import json, pathlib, sys\n+import json\n```"))]
        return kinds[self.rng.randrange(len(kinds))]

    def _analysis(self) -> str:
        value = round(self.rng.uniform(0.0, 2.0), 3)
        analysis = {"hypothesis": f"set SCALE to {value}", "persona": "hyperparameter",
                    "plan": f"SCALE = {value}", "files": [MODEL]}
        return "```json\n" + json.dumps(analysis) + "\n```"

    @staticmethod
    def _diff(prompt: str) -> str:
        wanted = re.search(r"set SCALE to ([0-9.]+)", prompt)
        current = re.search(r"^SCALE = ([0-9.]+)$", prompt, re.MULTILINE)
        if wanted is None or current is None:
            return "I cannot tell what to change."
        return (f"```diff\n--- a/{MODEL}\n+++ b/{MODEL}\n@@ -1 +1 @@\n-SCALE = {current.group(1)}\n"
                f"+SCALE = {wanted.group(1)}\n```")


@pytest.mark.slow
def test_soak_200_iterations_with_random_faults(benchmark: Any, tmp_path: Path) -> None:
    repo = make_target(tmp_path / "repo", extra="  max_same_failures: 1000\n")
    responder = Responder()
    samples: list[tuple[int, float]] = []

    def on_event(event: LoopEvent) -> None:
        if event.kind == "iteration_done" and event.iteration is not None:
            samples.append((event.iteration, rss_mb()))

    def soak() -> Any:
        with FaultyAnthropic(responder, keep_requests=False) as server:
            environ = {"ANTHROPIC_API_KEY": "sk-ant-soak-0123456789", "ANTHROPIC_BASE_URL": server.url}
            client = AnthropicClient(make_sdk_client(environ, max_retries=3, timeout_s=10.0),
                                     model="claude-sonnet-4-5", secrets=[environ["ANTHROPIC_API_KEY"]],
                                     retry_backoff_s=0.0)
            agent = Agent("soak", LLMAnalyzer(client, catalog="(catalog)"), LLMCoder(client))
            result = run_loop(repo, agent, tmp_path / "cache", iterations=ITERATIONS, on_event=on_event)
            assert server.violations == []
            return result, server.answered

    started = time.monotonic()
    result, requests = benchmark.pedantic(soak, rounds=1, iterations=1)
    wall = time.monotonic() - started

    records = result.journal.by_run("r1")
    numbers = [r.iteration for r in records if isinstance(r, IterationRecorded)]
    assert numbers == list(range(1, ITERATIONS + 1)), "every iteration is in the journal exactly once"
    assert sum(isinstance(r, RunFinished) for r in records) == 1
    early = sum(mb for n, mb in samples if 20 < n <= 40) / 20
    late = sum(mb for n, mb in samples if n > ITERATIONS - 20) / 20
    statuses = collections.Counter(r.status for r in records if isinstance(r, IterationRecorded))
    figures = {
        "iterations": ITERATIONS,
        "requests": requests,
        "faults_injected": sum(responder.faults.values()),
        "faults_by_kind": dict(sorted(responder.faults.items())),
        "statuses": dict(sorted(statuses.items())),
        "rss_mb_iterations_21_40": round(early, 1),
        "rss_mb_last_20_iterations": round(late, 1),
        "rss_growth_mb": round(late - early, 1),
        "journal_kb": round(result.journal.path.stat().st_size / 1024, 1),
        "wall_s": round(wall, 1),
        "pid": os.getpid(),
    }
    benchmark.extra_info.update(figures)
    print("\nsoak figures:", json.dumps(figures, indent=1))
    assert responder.faults, "the soak must inject faults"
    assert late - early < 64, f"memory grew {late - early:.1f} MB over {ITERATIONS - 40} iterations"
