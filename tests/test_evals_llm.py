"""The LLM frameworks run end to end through the benchmark against the local scripted Anthropic server.

The scripted server answers every call with the same text: an Analyzer JSON block and a Coder diff
(each agent reads the part it needs), so the two runs may execute in parallel. These numbers test the
plumbing; they are never reported as results.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
from pathlib import Path

import pytest

from evals.metrics import is_positive, is_reliable
from evals.runner import Backend, plan, run_all
from evals.targets import target_dir
from tests.helpers.fake_anthropic import (  # noqa: F401  (anthropic_server_fixture is the pytest fixture)
    FakeAnthropic,
    Reply,
    anthropic_server_fixture,
)

TARGET = "obp-synthetic"
PIPELINE = "banditopt/offpolicy.py"
KEY = "sk-ant-evals-test-0123456789"


def scripted_answer() -> str:
    """An answer both agents accept: the analysis as JSON and the change as a diff."""
    before = (target_dir(TARGET) / PIPELINE).read_text(encoding="utf-8")
    after = before.replace("DirectMethod", "SelfNormalizedInverseProbabilityWeighting")
    diff = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{PIPELINE}",
                                        f"b/{PIPELINE}"))
    analysis = {
        "hypothesis": "Replace the Direct Method by self-normalised IPW: the linear reward model is biased",
        "persona": "estimator",
        "plan": "Swap DirectMethod for SelfNormalizedInverseProbabilityWeighting in make_estimator.",
        "expected_effect": "relative_ee drops sharply",
        "files": [PIPELINE],
    }
    return f"```json\n{json.dumps(analysis)}\n```\n\n```diff\n{diff}```\n"


@pytest.mark.slow
def test_default_and_two_agent_run_end_to_end_and_account_tokens(
    anthropic_server: FakeAnthropic, tmp_path: Path
) -> None:
    answer = scripted_answer()
    anthropic_server.script(*[Reply(text=answer, input_tokens=1000, output_tokens=200)] * 3)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    environ |= {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": anthropic_server.url}
    # Three agreeing seeds per tier: the fewest the one rule decides on at the default level.
    specs = plan([TARGET], ["default", "two_agent"], runs=1, iterations=1, search=3, confirm=3)

    records = run_all(specs, tmp_path / "out", tmp_path / "work", workers=2, backend=Backend("anthropic"),
                      environ=environ)

    default, two_agent = records
    assert [r.spec.framework for r in records] == ["default", "two_agent"]
    assert all(is_reliable(r) and is_positive(r) for r in records), [r.reason for r in records]
    # default: one call per iteration; two_agent: Analyzer + Coder.
    assert (default.tokens, two_agent.tokens) == (1200, 2400)
    assert 0 < default.usd < two_agent.usd
    assert len(anthropic_server.requests) == 3
    assert all(KEY not in r.raw.decode() for r in anthropic_server.requests)


@pytest.mark.slow
def test_any_command_can_be_benchmarked_as_the_agent(tmp_path: Path) -> None:
    answer_file = tmp_path / "answer.md"
    answer_file.write_text(scripted_answer(), encoding="utf-8")
    agent = tmp_path / "agent.py"
    agent.write_text("import sys\nsys.stdin.read()\nprint(open(sys.argv[1], encoding='utf-8').read())\n",
                     encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    # Three agreeing seeds per tier: the fewest the one rule decides on at the default level.
    (spec,) = plan([TARGET], ["default"], runs=1, iterations=1, search=3, confirm=3)
    backend = Backend("command", f"{sys.executable} {agent} {answer_file}")

    (run,) = run_all([spec], tmp_path / "out", tmp_path / "work", workers=1, backend=backend, environ=environ)

    assert is_reliable(run) and is_positive(run), run.reason
    assert run.backend.startswith("command: ") and run.tokens > 0 and run.usd == 0.0
