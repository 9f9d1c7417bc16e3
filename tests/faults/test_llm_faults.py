"""Fault matrix, LLM boundary: the Anthropic API (a local server) misbehaving under the real loop.

The agent is the real two-agent stack — :class:`LLMAnalyzer` and :class:`LLMCoder` on an
:class:`AnthropicClient` with the real SDK, streaming — pointed at a local server that plays a
script per row: first the Analyzer's call(s), then the Coder's. Named outcomes:

- ``retried``: the fault is absorbed (SDK retries, the stream retry, or the Analyzer's one repair
  request) and the candidate is evaluated and recorded;
- ``repaired``: the Coder's diff is refused with the engine's message, the repair round fixes it;
- ``failed``: the iteration is recorded as a failed candidate with a reason naming the fault.

Every row checks that the server saw only requests the real API accepts, that the user's checkout
is unchanged and the journal lost nothing. Unit tests of the client: tests/test_llm_agents.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bot.agents.analyzer import LLMAnalyzer
from bot.agents.anthropic_backend import AnthropicClient, make_sdk_client
from bot.agents.base import Agent
from bot.agents.coder import LLMCoder
from bot.agents.command_backend import CommandClient
from bot.agents.llm import Prompt
from bot.errors import AgentError
from tests.helpers.fake_anthropic import Failure, Reply
from tests.helpers.fault_target import (
    GOOD_DIFF,
    MODEL,
    assert_journal_complete,
    checkout_of,
    make_target,
    run_loop,
    seed_journal,
)
from tests.helpers.faulty_llm import FaultyAnthropic, Huge, Reset, Truncated, analysis_answer

KEY = "sk-ant-fault-matrix-key-0123"
ANALYSIS = {
    "hypothesis": "Set SCALE to 0.3, the value the estimator is calibrated for",
    "persona": "hyperparameter",
    "plan": "change SCALE in pipeline/model.py",
    "expected_effect": "err drops",
    "files": [MODEL],
}
A = Reply(analysis_answer(ANALYSIS))
C = Reply("Here is the change:\n```diff\n" + GOOD_DIFF + "```\n")
WRONG_FILE = Reply(
    "```diff\n--- a/evaluate.py\n+++ b/evaluate.py\n@@ -1 +1 @@\n"
    "-import json, pathlib, sys\n+import json\n```\n"
)
FAST = {"retry-after-ms": "1"}

ROWS = [
    ("rate_limited_429", [Failure(429, "rate_limit_error", headers=FAST), A, C], "retried", 3),
    ("server_error_500", [Failure(500, "api_error", headers=FAST), A, C], "retried", 3),
    ("overloaded_529", [Failure(529, "overloaded_error", headers=FAST), A, C], "retried", 3),
    ("timeout", [Reply(A.text, delay_s=2.5), A, C], "retried", 3),
    ("connection_reset", [Reset(), A, C], "retried", 3),
    ("truncated_stream", [Truncated(A.text[:40]), A, C], "retried", 3),
    ("stream_cut_mid_chunk", [Truncated(A.text[:40], clean=False), A, C], "retried", 3),
    ("invalid_json_from_the_analyzer", [Reply('{"hypothesis": "SCALE", persona: }'), A, C], "retried", 3),
    ("refusal", [Reply("I can't help with that.", stop_reason="refusal")], "failed", "analyzer: "),
    ("empty_answer", [A, Reply(""), Reply(""), Reply("")], "failed", "patch: [empty_diff]"),
    ("answer_with_no_diff", [A, *[Reply("The pipeline looks right to me.")] * 3], "failed",
     "patch: [empty_diff]"),
    ("diff_for_the_wrong_file", [A, WRONG_FILE, C], "repaired", "[protected_path]"),
    ("ten_megabyte_answer", [A, Huge("```diff\n" + GOOD_DIFF + "```\n", 10 * 2**20)], "failed",
     "coder: the answer of claude-sonnet-4-5 has 10,485,760 characters"),
]


def llm_agent(server: FaultyAnthropic) -> Agent:
    environ = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.url}
    client = AnthropicClient(
        make_sdk_client(environ, max_retries=2, timeout_s=1.0),
        model="claude-sonnet-4-5",
        stream=True,
        secrets=[KEY],
        retry_backoff_s=0.0,
    )
    return Agent("anthropic:claude-sonnet-4-5", LLMAnalyzer(client, catalog="(catalog)"), LLMCoder(client))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_target(tmp_path / "repo")


@pytest.mark.parametrize(("script", "outcome", "detail"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_llm_fault(repo: Path, cache: Path, script: list[object], outcome: str, detail: object) -> None:
    earlier = seed_journal(repo)
    checkout = checkout_of(repo)

    with FaultyAnthropic() as server:
        server.script(*script)  # type: ignore[arg-type]
        result = run_loop(repo, llm_agent(server), cache)

    record = result.iteration
    if outcome == "retried":
        assert record.status == "improved", record.failure_reason
        assert len(server.requests) == detail
    elif outcome == "repaired":
        assert record.status == "improved", record.failure_reason
        assert str(detail) in server.requests[-1].text, "the repair request quotes the engine's reason"
    else:
        assert record.status == "failed"
        assert (record.failure_reason or "").startswith(str(detail)), record.failure_reason
    assert server.pending == 0 and server.violations == []
    assert checkout_of(repo) == checkout
    assert_journal_complete(result.journal, earlier, "r1", 1)
    assert len(result.journal.path.read_bytes()) < 100_000, "no answer may bloat the journal"


def test_a_refusal_is_not_sent_back_for_repair(repo: Path, cache: Path) -> None:
    with FaultyAnthropic() as server:
        server.script(Reply("I can't help with that.", stop_reason="refusal"))
        result = run_loop(repo, llm_agent(server), cache)

    assert len(server.requests) == 1
    assert "declined to answer (stop reason `refusal`): I can't help with that." in str(
        result.iteration.failure_reason
    )


def test_a_huge_answer_leaves_no_trace_in_the_iteration_files(repo: Path, cache: Path) -> None:
    with FaultyAnthropic() as server:
        server.script(A, Huge("```diff\n" + GOOD_DIFF + "```\n", 10 * 2**20))
        run_loop(repo, llm_agent(server), cache)

    files = list((repo / ".growthhacker" / "runs" / "r1").rglob("*"))
    assert max(p.stat().st_size for p in files if p.is_file()) < 200_000
    assert json.loads((repo / ".growthhacker" / "runs" / "r1" / "1" / "analysis.json").read_text())[
        "hypothesis"
    ] == ANALYSIS["hypothesis"]


def test_a_command_agent_answer_over_the_limit_is_refused(tmp_path: Path) -> None:
    script = tmp_path / "agent.py"
    script.write_text("import sys\nsys.stdin.read()\nsys.stdout.write('x' * 1_100_000)\n")
    client = CommandClient(f"{sys.executable} -S {script}", environ={})

    with pytest.raises(AgentError, match=r"has 1,100,000 characters, more than the 1,000,000"):
        client.complete(Prompt("system", "", "task"))
