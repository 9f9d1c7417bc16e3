"""The GrowthHacker action (this repository's composite ``action.yml``) run step by step inside a job
of the fake runner (:mod:`tests.helpers.workflow_runner`).

Its install step is the runner's business (the bot is installed in the test's environment); its
``id: run`` step runs the real CLI in-process (``CliRunner``) with exactly the environment the step
declares, or as a real ``growthhacker action`` process (``Runner.processes``/``cancel_when``) that gets
SIGTERM when the run is cancelled; ``actions/upload-artifact`` / ``download-artifact`` pass
directories between jobs (:mod:`tests.helpers.artifacts`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bot.cli import cli
from tests.helpers.artifacts import download, upload
from tests.helpers.expressions import Status, condition, render, to_string
from tests.helpers.runs import JobRun, RunContext, load_yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION_YML = ROOT / "action.yml"
#: The one command the action's ``id: run`` step runs (every option comes from the step's ``env:``).
RUN_SCRIPT = '"$RUNNER_TEMP/growthhacker-venv/bin/growthhacker" action'
#: The bot as installed in the test's environment (for the steps run as real processes).
BOT = Path(sys.executable).parent / "growthhacker"


def read_outputs(path: Path) -> dict[str, str]:
    """The ``name<<delimiter`` and ``name=value`` entries of a ``$GITHUB_OUTPUT`` file."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        if "<<" in lines[i]:
            name, _, delimiter = lines[i].partition("<<")
            end = lines.index(delimiter, i + 1)
            values[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
        else:
            name, _, value = lines[i].partition("=")
            values[name] = value
            i += 1
    return values


def run_action(context: RunContext, run: JobRun, with_: Mapping[str, Any], contexts: Mapping[str, Any],
               env: dict[str, str], home: Path) -> tuple[bool, dict[str, str]]:
    """The composite ``action.yml``, step by step; returns whether it succeeded and its outputs.

    Raises:
        ValueError: ``with_`` names an input the action lacks, or a step the fake does not know.
    """
    action = load_yaml(ACTION_YML.read_text(encoding="utf-8"))
    declared = action.get("inputs") or {}
    unknown = set(with_) - set(declared)
    if unknown:
        raise ValueError(f"the action has no input(s) {sorted(unknown)}")
    inputs = {name: to_string(with_[name] if name in with_ else render(spec.get("default", ""), contexts))
              for name, spec in declared.items()}
    inner: dict[str, Any] = {**contexts, "inputs": inputs, "steps": {}}
    ok = True
    for index, step in enumerate(action["runs"]["steps"]):
        cancelled = run.cancelled
        if not condition(step.get("if"), inner, Status(success=ok and not cancelled, failure=not ok,
                                                       cancelled=cancelled)):
            continue
        step_ok, outputs = _action_step(context, run, step, inner, env, home / f"action-{index}")
        if "id" in step:
            inner["steps"][step["id"]] = {"outputs": outputs, "outcome": "success" if step_ok else "failure"}
        ok = ok and (step_ok or bool(step.get("continue-on-error")))
    outputs = {name: to_string(render(spec["value"], inner))
               for name, spec in (action.get("outputs") or {}).items()}
    run.action_outputs.update(outputs)
    return ok, outputs


def _action_step(context: RunContext, run: JobRun, step: Mapping[str, Any], inner: Mapping[str, Any],
                 env: dict[str, str], home: Path) -> tuple[bool, dict[str, str]]:
    uses = str(step.get("uses", ""))
    with_ = {k: to_string(render(v, inner)) for k, v in (step.get("with") or {}).items()}
    workspace = Path(inner["github"]["workspace"])
    if uses.startswith("actions/upload-artifact@"):
        return upload(context.artifacts, with_, workspace, run.log), {}
    if uses.startswith("actions/download-artifact@"):
        return download(context.artifacts, with_, workspace, run.log), {}
    if step.get("id") != "run":
        return True, {}  # installing the bot: the test's environment has it
    home.mkdir(parents=True)
    output, summary = home / "output", home / "summary.md"
    step_env = {k: to_string(render(v, inner)) for k, v in (step.get("env") or {}).items()}
    full = {**env, **step_env, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    run.env = full
    run.modes.append(step_env.get("GROWTHHACKER_MODE", ""))
    workdir = workspace / to_string(render(step.get("working-directory", "."), inner))
    if str(step.get("run", "")).strip() != RUN_SCRIPT:
        raise ValueError(f"the action's run step is not {RUN_SCRIPT!r}: teach the fake runner what it does")
    if context.runner.processes or context.runner.cancel_when is not None:
        exit_code = _run_process(context, run, workdir, full, context.runner.cancel_when)
    else:
        here = Path.cwd()
        os.chdir(workdir)  # the step's working-directory; the CLI takes every option from the environment
        try:
            run.cli = CliRunner().invoke(cli, ["action"], env=full)
        finally:
            os.chdir(here)
        exit_code = run.cli.exit_code
    run.summary += summary.read_text(encoding="utf-8") if summary.exists() else ""
    return exit_code == 0, read_outputs(output)


def _run_process(context: RunContext, run: JobRun, workdir: Path, env: Mapping[str, str],
                 cancel_when: Callable[[str], bool] | None) -> int:
    """``growthhacker action`` as a real process; SIGTERM once ``cancel_when(job)`` holds or a newer
    entry cancels this one in progress (the run is then cancelled). Returns its exit code."""
    log = workdir.parent / f"{run.name}-action.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(BOT), "action"], cwd=workdir, env={**os.environ, **env}, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            while proc.poll() is None:
                cancel = (cancel_when is not None and cancel_when(run.name)) or any(
                    entry.cancelled for entry in context.entries)
                if not context.cancelled and cancel:
                    context.cancelled = run.cancelled = True
                    run.log.append("the run is cancelled: SIGTERM to the action's process")
                    proc.send_signal(signal.SIGTERM)
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    run.process_output = log.read_text(encoding="utf-8", errors="replace")
    run.process_exit = proc.returncode
    return proc.returncode
