"""evals/file_agent.py: a command agent answered through files, driven by a tiny scripted answerer.

The answerer below stands in for a person or another process; what it answers tests the plumbing and
is never a model's result.
"""

from __future__ import annotations

import json
import shlex
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.agents.base import Analysis, AnalyzerContext, CoderRequest
from bot.agents.factory import make_agent
from bot.config import LoopConfig, Objective
from bot.errors import AgentError

FILE_AGENT = Path(__file__).resolve().parents[1] / "evals" / "file_agent.py"
FILES = {"ope_pipeline/estimators.py": "def estimators():\n    return ['ipw']\n"}
ANALYSIS = {"hypothesis": "add DR", "persona": "estimator", "plan": "append dr", "files": list(FILES)}
DIFF = (
    "--- a/ope_pipeline/estimators.py\n+++ b/ope_pipeline/estimators.py\n@@\n"
    "-    return ['ipw']\n+    return ['dr']\n"
)
CONTEXT = AnalyzerContext(files=FILES, objective=Objective(metric="relative_ee"), guardrails=[], attempts=[],
                          baseline={"relative_ee": 0.2}, iteration=1, iterations=1)


def command(directory: Path, timeout: float) -> str:
    return shlex.join([sys.executable, str(FILE_AGENT), "--dir", str(directory), "--timeout", str(timeout),
                       "--poll", "0.05"])


@contextmanager
def answerer(directory: Path) -> Iterator[list[str]]:
    """Answers every prompt that appears in ``directory`` by its role; yields the prompts' names."""
    seen: list[str] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.05):
            for prompt in sorted(directory.glob("*.prompt.md")):
                if prompt.name in seen:
                    continue
                seen.append(prompt.name)
                role = prompt.name.split("-", 1)[1].split(".", 1)[0]
                analysis = "```json\n" + json.dumps(ANALYSIS) + "\n```"
                text = analysis if role == "analyzer" else f"```diff\n{DIFF}```"
                partial = directory / f".{prompt.name}.tmp"
                partial.write_text(text, encoding="utf-8")
                partial.rename(directory / prompt.name.replace(".prompt.md", ".answer.md"))

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()


def test_prompts_go_to_files_and_the_answers_come_back_as_the_agents_replies(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    agent, _ = make_agent(LoopConfig(agent="command", agent_timeout_s=120), {},
                          agent_command=command(prompts, 100), catalog="(catalog)")

    with answerer(prompts) as seen:
        analysis = agent.analyzer.analyze(CONTEXT).analysis
        reply = agent.coder.write_diff(CoderRequest(analysis=analysis, files=FILES))

    assert analysis == Analysis.model_validate(ANALYSIS)
    assert reply.diff == DIFF
    assert seen == ["0000-analyzer.prompt.md", "0001-coder.prompt.md"]
    assert "# Role: Analyzer" in (prompts / "0000-analyzer.prompt.md").read_text()


def test_without_an_answer_the_agent_gives_up_at_its_own_timeout(tmp_path: Path) -> None:
    agent, _ = make_agent(LoopConfig(agent="command"), {}, agent_command=command(tmp_path, 0.3),
                          catalog="(catalog)")

    with pytest.raises(AgentError, match=r"(?s)exited with 1; stderr: .*no answer in .*0000-analyzer"):
        agent.analyzer.analyze(CONTEXT)
    assert (tmp_path / "0000-analyzer.prompt.md").is_file()
