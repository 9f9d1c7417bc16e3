"""A GitHub Actions runner for the fake world: a workflow file's jobs, run as GitHub would run them.

Given a workflow (the YAML ``growthhacker init`` writes) and an event, :func:`run_workflow` runs its
jobs in ``needs`` order, each as GitHub does:

- its ``if:`` decides whether it runs (``success()`` of its needs unless it asks otherwise);
- its token carries exactly its ``permissions:`` (the workflow's when it has none), at most ``read``
  for a fork's pull request; the fake GitHub answers 403 to anything else, pushes included;
- ``actions/checkout`` gives what the runner gives: the merge commit ``refs/pull/<n>/merge`` on
  ``pull_request``, the default branch on ``issue_comment`` and ``schedule``, ``with: ref`` if set,
  shallow unless ``fetch-depth: 0``;
- secrets are there only where a ``with:`` names them, and never for a fork's pull request;
- the GrowthHacker action (``uses:`` the action reference) is the composite ``action.yml`` of this
  repository, step by step: its install step is the runner's business (the bot is installed in the
  test's environment), its ``id: run`` step runs the real CLI in-process (``CliRunner``) with exactly
  the environment the step declares, and ``actions/upload-artifact`` / ``download-artifact`` pass
  directories between jobs;
- concurrency groups, workflow- and job-level (:mod:`tests.helpers.concurrency`): one running, one
  pending per group, a newer arrival replacing the pending one (cancelled without running),
  ``cancel-in-progress`` cancelling the running one; runs may overlap when started from threads;
- cancelling a run (``Runner.cancel_when``, or a newer run with ``cancel-in-progress``): the action's
  step then runs as a real ``growthhacker action`` process (also with ``Runner.processes``), which
  gets SIGTERM (as the runner stops a cancelled job) once the predicate holds;
  the job ends ``cancelled`` (only its ``always()`` / ``cancelled()`` steps run after that), and only
  ``always()`` / ``cancelled()`` jobs start after it;
- a ``pull_request`` trigger's ``paths:`` starts no run for a PR that changes none of them;
- ``run:`` steps of the workflow (the target's install) are not executed (no network), only noted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result

from bot.cli import cli
from tests.helpers.concurrency import Entry, Groups
from tests.helpers.expressions import Status, condition, render, to_string
from tests.helpers.fake_github.scopes import scopes_of
from tests.helpers.fake_github.server import FakeGitHub

ROOT = Path(__file__).resolve().parents[2]
ACTION_YML = ROOT / "action.yml"
#: The one command the action's ``id: run`` step runs (every option comes from the step's ``env:``).
RUN_SCRIPT = '"$RUNNER_TEMP/growthhacker-venv/bin/growthhacker" action'
#: The bot as installed in the test's environment (for the steps run as real processes).
BOT = Path(sys.executable).parent / "growthhacker"


def load_yaml(text: str) -> dict[str, Any]:
    """A workflow or action file as a dict (``on`` stays a string key, unlike plain PyYAML)."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError("not a YAML mapping")
    if True in data:
        data["on"] = data.pop(True)
    return data


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


@dataclass
class JobRun:
    """One job of a workflow run, as it ended."""

    name: str
    result: str  # success | failure | skipped
    scopes: dict[str, str] = field(default_factory=dict)
    token: str = ""
    #: The environment the bot's process saw (job env + the action step's env).
    env: dict[str, str] = field(default_factory=dict)
    cli: Result | None = None
    checkout: Path | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    #: The action's outputs (``pr-number``, …).
    action_outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    #: ``run:`` steps of the workflow (the repository's own commands), noted, not executed.
    scripts: list[str] = field(default_factory=list)
    #: The modes the action ran with in this job.
    modes: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    #: The bot's output and exit code when it ran as a real process (``Runner.cancel_when``).
    process_output: str = ""
    process_exit: int | None = None
    #: The run was cancelled while this job ran (its process got SIGTERM).
    cancelled: bool = False

    @property
    def output(self) -> str:
        """What the bot printed ("" if it did not run)."""
        return self.cli.output if self.cli is not None else self.process_output

    @property
    def exit_code(self) -> int | None:
        """The bot's exit code (None if it did not run)."""
        return self.cli.exit_code if self.cli is not None else self.process_exit

    def error(self) -> str:
        """The traceback of an unexpected exception in the bot, and the runner's notes ("" if none)."""
        notes = "".join(f"[runner] {line}\n" for line in self.log)
        if self.cli is None or self.cli.exc_info is None or self.cli.exception is None or isinstance(
                self.cli.exception, SystemExit):
            return notes
        return notes + "".join(traceback.format_exception(*self.cli.exc_info))


@dataclass
class WorkflowRun:
    """Every job of one run of a workflow, by name, and the artifacts they passed."""

    jobs: dict[str, JobRun]
    artifacts: Path
    #: What a re-run of one of its jobs needs (see :func:`rerun_job`).
    context: _Context | None = None
    workflow: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> JobRun:
        return self.jobs[name]

    def ran(self) -> list[str]:
        """The jobs that ran (not skipped), in order."""
        return [name for name, job in self.jobs.items() if job.result != "skipped"]

    @property
    def ok(self) -> bool:
        """True if every job that ran succeeded."""
        return all(job.result == "success" for job in self.jobs.values() if job.result != "skipped")

    @property
    def output(self) -> str:
        """What the bot printed in every job, in order (for messages and assertions)."""
        return "\n".join(f"--- {name}: {job.result}\n{job.output}{job.error()}"
                         for name, job in self.jobs.items() if job.result != "skipped")

    @property
    def summary(self) -> str:
        """The job summaries of every job, in order."""
        return "".join(job.summary for job in self.jobs.values())

    @property
    def outputs(self) -> dict[str, str]:
        """The action's outputs, the last job that set one winning."""
        merged: dict[str, str] = {}
        for job in self.jobs.values():
            merged.update({k: v for k, v in job.action_outputs.items() if v or k not in merged})
        return merged


@dataclass
class Runner:
    """What a run needs from the world: the fake GitHub, the remote, where to work, the secrets."""

    fake: FakeGitHub
    bare: Path
    repository: str
    work: Path
    action_ref: str
    secrets: dict[str, str] = field(default_factory=dict)
    #: Variables every job's environment has (a runner's own environment).
    runner_env: dict[str, str] = field(default_factory=dict)
    #: Called after each job that ran with the job and the run's artifacts directory: what code that
    #: ran in the job could have done with its token, or to the artifact it uploaded.
    after_job: Callable[[JobRun, Path], None] | None = None
    #: Set: the action's step runs as a real process, polled with (job name); once it answers True
    #: the run is cancelled (the process gets SIGTERM, as the runner sends it to a cancelled job).
    cancel_when: Callable[[str], bool] | None = None
    #: Run the action's step as a real process (so runs may overlap in threads).
    processes: bool = False
    groups: Groups = field(default_factory=Groups)
    runs: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class _Context:
    runner: Runner
    event_name: str
    payload: dict[str, Any]
    sha: str
    ref: str
    run_id: str
    run_dir: Path
    fork: bool
    attempt: int = 1
    #: The run was cancelled: ``cancelled()`` is true for every job and step after it.
    cancelled: bool = False
    #: The concurrency entries of this run (its own, its jobs'): a cancelled one cancels the job.
    entries: list[Entry] = field(default_factory=list)

    def github(self, job: str, token: str, workspace: Path) -> dict[str, Any]:
        fake = self.runner.fake
        return {
            "event": self.payload, "event_name": self.event_name, "repository": self.runner.repository,
            "repository_owner": self.runner.repository.split("/")[0], "sha": self.sha, "ref": self.ref,
            "token": token, "job": job, "run_id": self.run_id, "run_attempt": str(self.attempt),
            "server_url": fake.base_url, "api_url": fake.base_url, "workspace": str(workspace),
            "actor": _login(self.payload.get("sender")),
        }


def _login(user: Any) -> str:
    return str(user.get("login", "")) if isinstance(user, dict) else ""


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def run_workflow(
    runner: Runner, workflow_text: str, event_name: str, payload: Mapping[str, Any]
) -> WorkflowRun:
    """Run every job of the workflow in ``workflow_text`` for ``event_name`` with ``payload``.

    Raises:
        ValueError: the workflow is not triggered by ``event_name``, or uses something unknown.
    """
    workflow = load_yaml(workflow_text)
    triggers = workflow["on"]
    if event_name not in (triggers if isinstance(triggers, dict | list) else [triggers]):
        raise ValueError(f"the workflow is not triggered by {event_name}")
    if not _paths_match(runner, triggers, event_name, payload):
        return WorkflowRun({}, runner.work / "not-triggered", None, workflow)  # GitHub starts no run
    with runner.lock:
        runner.runs += 1
        run_dir = runner.work / f"run-{runner.runs}"
        (run_dir / "artifacts").mkdir(parents=True)
        context = _event_context(runner, event_name, dict(payload), run_dir)
    results: dict[str, JobRun] = {}
    jobs: dict[str, Any] = workflow["jobs"]
    group, cancel_in_progress = _group(workflow, {"github": context.github("", "", run_dir), "inputs": {}})
    entry = Entry(f"run {context.run_id}")
    if group and not runner.groups.acquire(group, entry, cancel_in_progress):
        # Replaced while pending: the run is cancelled before any job starts.
        return WorkflowRun({name: JobRun(name, "cancelled") for name in jobs}, run_dir / "artifacts", context,
                           workflow)
    context.entries.append(entry)
    try:
        pending = list(jobs)
        while pending:
            name = next(n for n in pending if all(need in results for need in _needs(jobs[n])))
            pending.remove(name)
            results[name] = _run_job(context, workflow, name, jobs[name], results)
            if runner.after_job is not None and results[name].result not in ("skipped", "cancelled"):
                runner.after_job(results[name], run_dir / "artifacts")
    finally:
        if group:
            runner.groups.release(group, entry)
    return WorkflowRun(results, run_dir / "artifacts", context, workflow)


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A workflow ``paths:`` glob as a regex: ``**`` any path, ``*`` any name part, ``?`` one char."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def _paths_match(runner: Runner, triggers: Any, event_name: str, payload: Mapping[str, Any]) -> bool:
    """False if a ``pull_request`` trigger's ``paths:`` matches none of the PR's changed files."""
    spec = triggers.get(event_name) if isinstance(triggers, dict) else None
    paths = spec.get("paths") if isinstance(spec, dict) else None
    if event_name != "pull_request" or not paths:
        return True
    pull = payload["pull_request"]
    changed = _git(runner.bare, "diff", "--name-only", f"{pull['base']['sha']}...{pull['head']['sha']}")
    return any(glob_regex(p).fullmatch(name) for p in paths for name in changed.splitlines())


def _group(holder: Mapping[str, Any], contexts: Mapping[str, Any]) -> tuple[str, bool]:
    """The rendered concurrency group of a workflow or job ("" if none) and its cancel-in-progress."""
    concurrency = holder.get("concurrency")
    if concurrency is None:
        return "", False
    if isinstance(concurrency, str):
        return to_string(render(concurrency, contexts)), False
    cancel = render(concurrency.get("cancel-in-progress", False), contexts)
    return to_string(render(concurrency["group"], contexts)), cancel is True or cancel == "true"


def rerun_job(previous: WorkflowRun, name: str) -> JobRun:
    """Run job ``name`` of ``previous`` again, as "Re-run job" does on GitHub: the same workflow run
    (its id, event, commit and the artifacts as they are now), the results of its needs as they were.
    """
    assert previous.context is not None
    context = previous.context
    context.attempt += 1
    job = previous.workflow["jobs"][name]
    rerun = _run_job(context, previous.workflow, name, job, previous.jobs, f"{name}-attempt{context.attempt}")
    previous.jobs[name] = rerun
    return rerun


def _needs(job: Mapping[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def _event_context(runner: Runner, event_name: str, payload: dict[str, Any], run_dir: Path) -> _Context:
    fake = runner.fake
    fork = False
    if event_name == "pull_request":
        pull = payload["pull_request"]
        number = int(pull["number"])
        head_repo = (pull["head"].get("repo") or {}).get("full_name")
        fork = head_repo != runner.repository
        merge = fake.write_pull_refs(number, pull["base"]["sha"], pull["head"]["sha"])
        ref = f"refs/pull/{number}/merge"
        sha = merge or pull["head"]["sha"]
    elif event_name == "workflow_dispatch" and payload.get("ref"):
        ref = str(payload["ref"])
        sha = _git(runner.bare, "rev-parse", ref)
    else:
        ref = "refs/heads/main"
        sha = _git(runner.bare, "rev-parse", ref)
    run_id = str(1000 + runner.runs)
    return _Context(runner, event_name, payload, sha, ref, run_id, run_dir, fork)


def _run_job(context: _Context, workflow: Mapping[str, Any], name: str, job: Mapping[str, Any],
             done: Mapping[str, JobRun], folder: str | None = None) -> JobRun:
    needs = {n: {"result": done[n].result, "outputs": done[n].outputs} for n in _needs(job)}
    status = Status(success=all(n["result"] == "success" for n in needs.values()) and not context.cancelled,
                    failure=any(n["result"] == "failure" for n in needs.values()),
                    cancelled=context.cancelled)
    home = context.run_dir / (folder or name)
    workspace, temp = home / "workspace", home / "temp"
    workspace.mkdir(parents=True)
    temp.mkdir()
    inputs = context.payload.get("inputs") or {}
    base = {"github": context.github(name, "", workspace), "needs": needs, "inputs": inputs,
            "vars": {}, "runner": {"temp": str(temp), "os": "Linux"}}
    if not condition(job.get("if"), base, status):
        return JobRun(name, "skipped")
    group, cancel_in_progress = _group(job, base)
    if not group:
        return _run_job_steps(context, workflow, name, job, base, home, workspace, temp)
    entry = Entry(f"{name} of run {context.run_id}")
    if not context.runner.groups.acquire(group, entry, cancel_in_progress):
        context.cancelled = True  # replaced while pending: the job never starts, the run is cancelled
        return JobRun(name, "cancelled")
    context.entries.append(entry)
    try:
        return _run_job_steps(context, workflow, name, job, base, home, workspace, temp)
    finally:
        context.runner.groups.release(group, entry)


def _run_job_steps(context: _Context, workflow: Mapping[str, Any], name: str, job: Mapping[str, Any],
                   base: dict[str, Any], home: Path, workspace: Path, temp: Path) -> JobRun:
    permissions = job.get("permissions", workflow.get("permissions"))
    scopes = scopes_of(permissions, read_only=context.fork)
    token = context.runner.fake.issue_token(scopes, name)
    secrets = {} if context.fork else dict(context.runner.secrets)
    contexts = {**base, "github": context.github(name, token, workspace), "secrets": secrets,
                "steps": {}, "env": {}}
    run = JobRun(name, "success", scopes, token)
    env = _job_env(context, name, workspace, temp)
    steps_ok = True
    for index, step in enumerate(job.get("steps", [])):
        # A job that starts after the cancellation (``if: always()``) runs its steps as usual; in
        # the job that was running, only ``always()`` / ``cancelled()`` steps run after it.
        cancelled = run.cancelled
        if not condition(step.get("if"), contexts, Status(success=steps_ok and not cancelled,
                                                          failure=not steps_ok, cancelled=cancelled)):
            continue
        ok, outputs = _run_step(context, run, step, contexts, env, home / f"step-{index}")
        if "id" in step:
            contexts["steps"][step["id"]] = {"outputs": outputs, "outcome": "success" if ok else "failure"}
        steps_ok = steps_ok and (ok or bool(step.get("continue-on-error")))
    run.result = "cancelled" if run.cancelled else "success" if steps_ok else "failure"
    run.outputs = {k: to_string(render(v, contexts)) for k, v in (job.get("outputs") or {}).items()}
    return run


def _job_env(context: _Context, job: str, workspace: Path, temp: Path) -> dict[str, str]:
    event_path = context.run_dir / "event.json"
    event_path.write_text(json.dumps(context.payload), encoding="utf-8")
    fake = context.runner.fake
    return {
        **context.runner.runner_env,
        "GITHUB_ACTIONS": "true", "CI": "true",
        "GITHUB_EVENT_NAME": context.event_name, "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": context.runner.repository, "GITHUB_API_URL": fake.base_url,
        "GITHUB_SERVER_URL": fake.base_url, "GITHUB_RUN_ID": context.run_id,
        "GITHUB_RUN_ATTEMPT": str(context.attempt),
        "GITHUB_JOB": job, "GITHUB_SHA": context.sha, "GITHUB_REF": context.ref,
        "GITHUB_WORKSPACE": str(workspace), "RUNNER_TEMP": str(temp),
    }


def _run_step(context: _Context, run: JobRun, step: Mapping[str, Any], contexts: dict[str, Any],
              env: dict[str, str], home: Path) -> tuple[bool, dict[str, str]]:
    uses = str(step.get("uses", ""))
    with_ = {k: render(v, contexts) for k, v in (step.get("with") or {}).items()}
    if "run" in step:
        run.scripts.append(str(step["run"]))
        return True, {}
    if uses.startswith("actions/checkout@"):
        return _checkout(context, run, with_, Path(contexts["github"]["workspace"])), {}
    if uses.startswith("actions/setup-python@"):
        return True, {}
    if uses == context.runner.action_ref:
        return _run_action(context, run, with_, contexts, env, home)
    raise ValueError(f"the fake runner does not know the action {uses!r}")


def _checkout(context: _Context, run: JobRun, with_: Mapping[str, Any], workspace: Path) -> bool:
    bare = context.runner.bare
    ref = to_string(with_.get("ref")) or context.ref
    depth = int(float(to_string(with_.get("fetch-depth")) or 1))
    shallow = ["--depth", str(depth)] if depth > 0 else []
    shutil.rmtree(workspace)
    subprocess.run(["git", "clone", "-q", "--no-checkout", *shallow, f"file://{bare}", str(workspace)],
                   check=True, capture_output=True)
    _git(workspace, "fetch", "-q", *shallow, "origin", ref)
    if ref.startswith("refs/heads/") or (not ref.startswith("refs/") and _is_branch(bare, ref)):
        branch = ref.removeprefix("refs/heads/")
        _git(workspace, "checkout", "-q", "-B", branch, "FETCH_HEAD")
    else:
        _git(workspace, "checkout", "-q", "--detach", "FETCH_HEAD")
    run.checkout = workspace
    run.log.append(f"checkout {ref} at {_git(workspace, 'rev-parse', 'HEAD')}")
    return True


def _is_branch(bare: Path, name: str) -> bool:
    return subprocess.run(["git", "rev-parse", "--verify", "-q", f"refs/heads/{name}"], cwd=bare,
                          capture_output=True, check=False).returncode == 0


def _run_action(context: _Context, run: JobRun, with_: Mapping[str, Any], contexts: Mapping[str, Any],
                env: dict[str, str], home: Path) -> tuple[bool, dict[str, str]]:
    """The composite ``action.yml``, step by step (see the module docstring)."""
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


def _action_step(context: _Context, run: JobRun, step: Mapping[str, Any], inner: Mapping[str, Any],
                 env: dict[str, str], home: Path) -> tuple[bool, dict[str, str]]:
    uses = str(step.get("uses", ""))
    with_ = {k: to_string(render(v, inner)) for k, v in (step.get("with") or {}).items()}
    artifacts = context.run_dir / "artifacts"
    if uses.startswith("actions/upload-artifact@"):
        return _upload(run, artifacts, with_, Path(inner["github"]["workspace"])), {}
    if uses.startswith("actions/download-artifact@"):
        return _download(run, artifacts, with_), {}
    if step.get("id") != "run":
        return True, {}  # installing the bot: the test's environment has it
    home.mkdir(parents=True)
    output, summary = home / "output", home / "summary.md"
    step_env = {k: to_string(render(v, inner)) for k, v in (step.get("env") or {}).items()}
    full = {**env, **step_env, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    run.env = full
    run.modes.append(step_env.get("GROWTHHACKER_MODE", ""))
    workdir = Path(inner["github"]["workspace"]) / to_string(render(step.get("working-directory", "."),
                                                                    inner))
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


def _run_process(context: _Context, run: JobRun, workdir: Path, env: Mapping[str, str],
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


def _upload(run: JobRun, artifacts: Path, with_: Mapping[str, str], workspace: Path) -> bool:
    name = with_["name"]
    target = artifacts / name
    if target.exists():
        if with_.get("overwrite", "false") != "true":
            run.log.append(f"upload-artifact: an artifact named {name} already exists (409)")
            return False
        shutil.rmtree(target)
    found: list[tuple[Path, Path]] = []
    for line in (p.strip() for p in with_["path"].splitlines() if p.strip()):
        path = workspace / line  # an absolute line stays itself
        if path.is_dir():
            found += [(f, f.relative_to(path)) for f in sorted(path.rglob("*")) if f.is_file()]
        elif path.is_relative_to(workspace):
            pattern = str(path.relative_to(workspace))
            found += [(f, f.relative_to(workspace)) for f in sorted(workspace.glob(pattern)) if f.is_file()]
    if with_.get("include-hidden-files", "false") != "true":
        found = [(f, rel) for f, rel in found if not any(part.startswith(".") for part in rel.parts)]
    if not found:
        return with_.get("if-no-files-found", "warn") != "error"
    for source, rel in found:
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target / rel)
    run.log.append(f"uploaded {name}: {len(found)} file(s)")
    return True


def _download(run: JobRun, artifacts: Path, with_: Mapping[str, str]) -> bool:
    name = with_["name"]
    source = artifacts / name
    if not source.is_dir():
        run.log.append(f"download-artifact: Artifact not found for name: {name}")
        return False
    shutil.copytree(source, Path(with_["path"]), dirs_exist_ok=True)
    run.log.append(f"downloaded {name}")
    return True

