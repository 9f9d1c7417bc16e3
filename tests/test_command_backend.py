"""The command backend: a real executable gets the prompt on stdin and answers on stdout."""

from __future__ import annotations

import json
import shlex
import sys
import tracemalloc
from pathlib import Path

import pytest

from bot.agents.base import Analysis, AnalyzerContext, CoderRequest
from bot.agents.budget import Budget
from bot.agents.command_backend import CommandClient
from bot.agents.factory import make_agent
from bot.agents.llm import Prompt
from bot.config import LoopConfig, Objective
from bot.errors import AgentError, BudgetExceeded
from tests.helpers.processes import read_pid, wait_dead

CANARY = "canary-5e1d0c9b77aa"
FILES = {"ope_pipeline/estimators.py": "def estimators():\n    return ['ipw']\n"}
DIFF = (
    "--- a/ope_pipeline/estimators.py\n+++ b/ope_pipeline/estimators.py\n@@ -1,2 +1,2 @@\n"
    " def estimators():\n-    return ['ipw']\n+    return ['ipw', 'dr']\n"
)
ANALYSIS = {"hypothesis": "add DR", "persona": "estimator", "plan": "append dr", "files": list(FILES)}

# A stand-in CLI agent: records its stdin and environment, then answers like an LLM would.
AGENT_SCRIPT = """
import json, os, pathlib, sys
prompt = sys.stdin.read()
here = pathlib.Path(__file__).parent
calls = len(list(here.glob("prompt-*.txt")))
(here / f"prompt-{calls}.txt").write_text(prompt)
(here / f"env-{calls}.json").write_text(json.dumps(dict(os.environ)))
if "Role: Analyzer" in prompt:
    print("```json\\n" + json.dumps(ANALYSIS) + "\\n```")
else:
    print("```diff\\n" + DIFF + "```")
"""


def script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "agent.py"
    path.write_text(f"ANALYSIS = {ANALYSIS!r}\nDIFF = {DIFF!r}\n" + body, encoding="utf-8")
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(path))}"


def test_the_prompt_goes_to_stdin_and_stdout_is_the_answer(tmp_path: Path) -> None:
    command = script(tmp_path, AGENT_SCRIPT)

    completion = CommandClient(command, environ={}).complete(Prompt("Role: Coder", "files", "do it"))

    assert completion.text == f"```diff\n{DIFF}```\n"
    assert (tmp_path / "prompt-0.txt").read_text() == completion.prompt == "Role: Coder\n\nfiles\n\ndo it\n"


def test_secret_variables_are_not_passed_to_the_command(tmp_path: Path) -> None:
    command = script(tmp_path, AGENT_SCRIPT)
    environ = {"PATH": "/usr/bin", "GITHUB_TOKEN": CANARY, "MY_API_KEY": CANARY, "LANG": "C.UTF-8"}

    CommandClient(command, environ=environ).complete(Prompt("s", "", "t"))

    child = json.loads((tmp_path / "env-0.json").read_text())
    assert "GITHUB_TOKEN" not in child and "MY_API_KEY" not in child and child["LANG"] == "C.UTF-8"


def test_a_secret_variable_named_in_pass_env_reaches_the_command(tmp_path: Path) -> None:
    command = script(tmp_path, AGENT_SCRIPT)

    CommandClient(command, environ={"AGENT_API_KEY": CANARY}, pass_env=["AGENT_API_KEY"]).complete(
        Prompt("s", "", "t")
    )

    assert json.loads((tmp_path / "env-0.json").read_text())["AGENT_API_KEY"] == CANARY


def test_pass_env_from_the_config_reaches_the_command(tmp_path: Path) -> None:
    command = script(tmp_path, AGENT_SCRIPT)
    config = LoopConfig(agent="command", agent_pass_env=["AGENT_API_KEY"])
    agent, _ = make_agent(config, {"AGENT_API_KEY": CANARY, "OTHER_TOKEN": CANARY}, agent_command=command,
                          catalog="(catalog)")

    agent.analyzer.analyze(CONTEXT)

    child = json.loads((tmp_path / "env-0.json").read_text())
    assert child["AGENT_API_KEY"] == CANARY and "OTHER_TOKEN" not in child


def test_secret_values_are_scrubbed_from_the_prompt(tmp_path: Path) -> None:
    command = script(tmp_path, AGENT_SCRIPT)

    CommandClient(command, environ={"DB_PASSWORD": CANARY}).complete(Prompt("s", f"pw={CANARY}", "t"))

    assert CANARY not in (tmp_path / "prompt-0.txt").read_text()


def test_a_command_that_hangs_is_killed_at_the_timeout(tmp_path: Path) -> None:
    woke = tmp_path / "woke"
    command = script(tmp_path, f"import pathlib, time\ntime.sleep(30)\npathlib.Path({str(woke)!r}).touch()\n")

    with pytest.raises(AgentError, match=r"did not answer within 0\.5s and was killed"):
        CommandClient(command, environ={}, timeout_s=0.5).complete(Prompt("s", "", "t"))
    assert not woke.exists()  # not waited for (the kill itself: the process-group test below)


def test_the_per_call_timeout_comes_from_the_config(tmp_path: Path) -> None:
    slow = script(tmp_path, "import time\ntime.sleep(1.5)\n" + AGENT_SCRIPT)
    patient, _ = make_agent(LoopConfig(agent="command", agent_timeout_s=60), {}, agent_command=slow,
                            catalog="(catalog)")
    hasty, _ = make_agent(LoopConfig(agent="command", agent_timeout_s=0.5), {}, agent_command=slow,
                          catalog="(catalog)")

    answered = patient.analyzer.analyze(CONTEXT).analysis
    with pytest.raises(AgentError, match=r"did not answer within 0\.5s and was killed"):
        hasty.analyzer.analyze(CONTEXT)

    assert answered == Analysis.model_validate(ANALYSIS)


def test_a_timeout_kills_the_commands_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    body = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen(['sleep', '300'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(300)\n"
    )

    with pytest.raises(AgentError, match="was killed"):
        CommandClient(script(tmp_path, body), environ={"PATH": "/usr/bin:/bin"}, timeout_s=1).complete(
            Prompt("s", "", "t")
        )

    assert wait_dead(read_pid(pid_file))


def test_an_answer_of_50_mb_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    body = "import sys\nw = sys.stdout.buffer.write\nfor _ in range(50):\n    w(b'x' * 1_000_000)\n"
    client = CommandClient(script(tmp_path, body), environ={})
    tracemalloc.start()
    try:
        with pytest.raises(AgentError, match=r"printed more than 4,000,000 bytes on stdout.*discarded"):
            client.complete(Prompt("s", "", "t"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 20_000_000  # 50 MB went through; the answer limit is 4 MB


def test_a_long_prompt_reaches_a_command_that_writes_before_it_reads(tmp_path: Path) -> None:
    # 200 kB out before reading 1 MB in: both pipes fill, so stdin and stdout must move together.
    body = (
        "import sys\nsys.stdout.write('```diff\\n' + '#' * 200_000 + '\\n')\nsys.stdout.flush()\n"
        "print(len(sys.stdin.read()))\n"
    )
    task = "t" * 1_000_000

    completion = CommandClient(script(tmp_path, body), environ={}).complete(Prompt("s", "", task))

    assert completion.text.splitlines()[-1] == str(len(completion.prompt))


def test_a_failing_command_reports_its_exit_code_and_stderr(tmp_path: Path) -> None:
    command = script(tmp_path, "import sys\nsys.stderr.write('model not loaded')\nsys.exit(3)\n")

    with pytest.raises(AgentError, match="exited with 3; stderr: model not loaded"):
        CommandClient(command, environ={}).complete(Prompt("s", "", "t"))


def test_a_command_that_prints_nothing_is_an_error(tmp_path: Path) -> None:
    command = script(tmp_path, "import sys\nsys.stdin.read()\n")

    with pytest.raises(AgentError, match="printed nothing on stdout"):
        CommandClient(command, environ={}).complete(Prompt("s", "", "t"))


def test_a_missing_executable_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(AgentError, match="cannot run agent command"):
        CommandClient(str(tmp_path / "no-such-agent"), environ={}).complete(Prompt("s", "", "t"))


def test_the_token_budget_is_checked_before_the_command_runs(tmp_path: Path) -> None:
    command = script(tmp_path, AGENT_SCRIPT)

    with pytest.raises(BudgetExceeded, match="token budget"):
        CommandClient(command, environ={}, budget=Budget(tokens=10)).complete(Prompt("s" * 400, "", "t"))
    assert not (tmp_path / "prompt-0.txt").exists()


CONTEXT = AnalyzerContext(
    files=FILES,
    objective=Objective(metric="relative_ee"),
    guardrails=[],
    attempts=[],
    baseline={"relative_ee": 0.2},
    iteration=1,
    iterations=3,
)


def test_make_agent_builds_analyzer_and_coder_on_the_command(tmp_path: Path) -> None:
    command = script(tmp_path, AGENT_SCRIPT)
    agent, why = make_agent(LoopConfig(agent="command"), {}, agent_command=command, catalog="(catalog)")

    analysis = agent.analyzer.analyze(CONTEXT).analysis
    reply = agent.coder.write_diff(CoderRequest(analysis=analysis, files=FILES))

    assert why == f"agent command requested → command ({command}), framework two_agent"
    assert analysis == Analysis.model_validate(ANALYSIS)
    assert reply.diff == DIFF and reply.usage.tokens > 0
