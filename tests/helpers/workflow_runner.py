"""A GitHub Actions runner for the fake world: a workflow file's jobs, run as GitHub would run them.

Given a workflow (the YAML ``growthhacker init`` writes) and an event, :func:`run_workflow` runs its
jobs in ``needs`` order, each as GitHub does:

- its ``if:`` decides whether it runs (``success()`` of its needs unless it asks otherwise), with the
  ``github``, ``needs``, ``inputs`` and ``vars`` contexts (no ``matrix``: GitHub decides before it
  expands one, so a skipped matrix job is one skipped job under its id);
- a ``strategy.matrix`` makes it one job per combination (:mod:`tests.helpers.matrix`: ``include``,
  ``exclude``, expressions), run one after another, each named as GitHub names it (``search (0)``,
  the key in :attr:`WorkflowRun.jobs`) with its own workspace, temp dir and token (the same
  permissions), ``GITHUB_JOB`` the job id, and the ``matrix`` and ``strategy`` contexts in its
  ``env:``, ``concurrency``, step ``if:``/``with:`` and ``outputs``; with ``fail-fast`` (the default)
  the instances after a failed one end ``cancelled`` without running (GitHub cancels the queued and
  running ones); ``needs.<job>`` of a matrix is all its instances'
  (:func:`~tests.helpers.matrix.matrix_result`, :func:`~tests.helpers.matrix.matrix_outputs`);
- its token carries exactly its ``permissions:`` (the workflow's when it has none), at most ``read``
  for a fork's pull request; the fake GitHub answers 403 to anything else, pushes included;
- the workflow's and the job's ``env:`` reach every step's environment (GitHub's own ``GITHUB_*``
  variables win);
- ``actions/checkout`` gives what the runner gives: the merge commit ``refs/pull/<n>/merge`` on
  ``pull_request``, the default branch on ``issue_comment`` and ``schedule`` — the commit the run
  started on (``github.sha``), even if the branch moved since — or ``with: ref`` if set, shallow
  unless ``fetch-depth: 0``;
- secrets are there only where a ``with:`` or an ``env:`` names them, and never for a fork's PR;
- the GrowthHacker action (``uses:`` the action reference) is the composite ``action.yml`` of this
  repository, step by step (:mod:`tests.helpers.composite`): the real CLI with exactly the
  environment its step declares, artifacts passed between jobs as upload-/download-artifact v4 do
  (:mod:`tests.helpers.artifacts`: names unique per run, ``pattern:`` downloads);
- concurrency groups, workflow- and job-level (:mod:`tests.helpers.concurrency`): one running, one
  pending per group, a newer arrival replacing the pending one (cancelled without running),
  ``cancel-in-progress`` cancelling the running one; runs may overlap when started from threads;
- cancelling a run (``Runner.cancel_when``, or a newer run with ``cancel-in-progress``): the action's
  step then runs as a real ``growthhacker action`` process (also with ``Runner.processes``), which
  gets SIGTERM (as the runner stops a cancelled job) once the predicate holds;
  the job ends ``cancelled`` (only its ``always()`` / ``cancelled()`` steps run after that), the
  matrix instances not yet started end ``cancelled``, and only ``always()`` / ``cancelled()`` jobs
  start after it;
- :func:`rerun_job` is "Re-run job" on one job or one matrix instance, :func:`rerun_failed_jobs`
  "Re-run failed jobs" (every failed or cancelled job or instance): the same run id and commit, the
  next ``GITHUB_RUN_ATTEMPT``, the artifacts as they are, and every job that needs a re-run one run
  again in full (GitHub's "a new workflow run attempt for the job and any dependents");
- a ``pull_request`` trigger's ``paths:`` starts no run for a PR that changes none of them;
- ``run:`` steps of the workflow (the target's install) are not executed (no network), only noted.

Not modelled: ``timeout-minutes``, ``runs-on``, a job's ``name:`` (jobs are keyed by id) and
``continue-on-error``, ``max-parallel`` (instances run one at a time anyway).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tests.helpers.composite import run_action
from tests.helpers.concurrency import Entry
from tests.helpers.expressions import Status, condition, render, to_string
from tests.helpers.fake_github.scopes import scopes_of
from tests.helpers.matrix import Instance, job_instances, matrix_outputs, matrix_result
from tests.helpers.runs import JobRun, RunContext, Runner, WorkflowRun, load_yaml
from tests.helpers.triggers import glob_regex, starts_run

__all__ = ["JobRun", "Runner", "WorkflowRun", "glob_regex", "load_yaml", "rerun_failed_jobs", "rerun_job",
           "run_workflow"]


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
    if not starts_run(runner.bare, workflow["on"], event_name, payload):
        return WorkflowRun({}, runner.work / "not-triggered", None, workflow)  # GitHub starts no run
    with runner.lock:
        runner.runs += 1
        run_dir = runner.work / f"run-{runner.runs}"
        (run_dir / "artifacts").mkdir(parents=True)
        context = RunContext.start(runner, event_name, dict(payload), run_dir)
    results: dict[str, JobRun] = {}
    jobs: dict[str, Any] = workflow["jobs"]
    group, cancel_in_progress = _group(workflow, {"github": context.github("", "", run_dir), "inputs": {}})
    entry = Entry(f"run {context.run_id}")
    if group and not runner.groups.acquire(group, entry, cancel_in_progress):
        # Replaced while pending: the run is cancelled before any job starts.
        return WorkflowRun({name: JobRun(name, "cancelled") for name in jobs}, context.artifacts, context,
                           workflow)
    context.entries.append(entry)
    try:
        pending = list(jobs)
        while pending:
            finished = {run.job_id for run in results.values()}
            name = next(n for n in pending if all(need in finished for need in _needs(jobs[n])))
            pending.remove(name)
            for run in _run_job(context, workflow, name, jobs[name], results):
                results[run.name] = _after(context, run)
    finally:
        if group:
            runner.groups.release(group, entry)
    return WorkflowRun(results, context.artifacts, context, workflow)


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
    (its id, event, commit, and the artifacts as they are now), the next attempt, then every job that
    needs it, the others' results and outputs kept. ``name`` is a job's id, or one matrix instance's
    name (``search (1)``: that instance alone). Returns the job's new run (``previous`` is updated).

    Raises:
        ValueError: ``name`` is a matrix job's id (re-run one of its instances).
    """
    before = previous.jobs[name]
    job = previous.workflow["jobs"][before.job_id]
    if _has_matrix(job) and not before.matrix:
        instances = [run.name for run in previous.instances(before.job_id) if run.matrix]
        raise ValueError(f"{name} is a matrix job: re-run one of its instances {instances}")
    _rerun(previous, [before])
    return previous.jobs[name]


def rerun_failed_jobs(previous: WorkflowRun) -> list[str]:
    """"Re-run failed jobs" on ``previous``: every failed or cancelled job (each such matrix instance
    alone) and every job that needs one, in the next attempt of the same run. Returns the names of the
    jobs that attempt ran, in order (``previous`` is updated).

    Raises:
        ValueError: no job failed or was cancelled.
    """
    failed = [run for run in previous.jobs.values() if run.result in ("failure", "cancelled")]
    if not failed:
        raise ValueError("no job of the run failed or was cancelled")
    return _rerun(previous, failed)


def _rerun(previous: WorkflowRun, chosen: list[JobRun]) -> list[str]:
    assert previous.context is not None
    context, workflow = previous.context, previous.workflow
    context.attempt += 1
    context.cancelled, context.entries = False, []  # a new attempt (its workflow group not modelled)
    jobs = workflow["jobs"]
    # A matrix job that never expanded (cancelled before it started) runs again in full, as do the
    # jobs that need a re-run one.
    whole = _dependents(jobs, {run.job_id for run in chosen}) | {
        run.job_id for run in chosen if not run.matrix and _has_matrix(jobs[run.job_id])}
    ran: list[str] = []
    for job_id in dict.fromkeys(run.job_id for run in previous.jobs.values()):  # the order they ran in
        job = jobs[job_id]
        if job_id in whole:
            runs = [_after(context, r) for r in _run_job(context, workflow, job_id, job, previous.jobs)]
            _replace(previous.jobs, job_id, runs)
        else:
            again = [before for before in chosen if before.job_id == job_id]
            runs = [_after(context, r) for r in _run_job(context, workflow, job_id, job, previous.jobs, again)
                    ] if again else []
            previous.jobs.update((r.name, r) for r in runs)
        ran += [r.name for r in runs]
    return ran


def _dependents(jobs: Mapping[str, Any], picked: set[str]) -> set[str]:
    """The jobs that need one of ``picked``, directly or through others."""
    found: set[str] = set()
    while grown := {j for j, job in jobs.items() if j not in found and set(_needs(job)) & (picked | found)}:
        found |= grown
    return found


def _replace(runs: dict[str, JobRun], job_id: str, new: list[JobRun]) -> None:
    """Put ``new`` where the runs of ``job_id`` were (a matrix may have other instances now)."""
    entries = list(runs.items())
    at = next(i for i, (_, run) in enumerate(entries) if run.job_id == job_id)
    kept = [(name, run) for name, run in entries if run.job_id != job_id]
    runs.clear()
    runs.update([*kept[:at], *((run.name, run) for run in new), *kept[at:]])


def _after(context: RunContext, run: JobRun) -> JobRun:
    """``run`` once ``Runner.after_job`` has seen it (if it ran)."""
    if context.runner.after_job is not None and run.result not in ("skipped", "cancelled"):
        context.runner.after_job(run, context.artifacts)
    return run


def _has_matrix(job: Mapping[str, Any]) -> bool:
    return "matrix" in (job.get("strategy") or {})


def _needs(job: Mapping[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def _needs_context(job: Mapping[str, Any], done: Mapping[str, JobRun]) -> dict[str, dict[str, Any]]:
    """The ``needs`` context of ``job``: each need's result and outputs over all its instances."""
    found: dict[str, dict[str, Any]] = {}
    for need in _needs(job):
        instances = [run for run in done.values() if run.job_id == need]
        found[need] = {"result": matrix_result(run.result for run in instances),
                       "outputs": matrix_outputs(run.outputs for run in instances)}
    return found


def _run_job(context: RunContext, workflow: Mapping[str, Any], job_id: str, job: Mapping[str, Any],
             done: Mapping[str, JobRun], only: list[JobRun] | None = None) -> Iterator[JobRun]:
    """The job ``job_id`` (or, re-run, only the instances ``only``), each instance as it ends."""
    needs = _needs_context(job, done)
    status = Status(success=all(n["result"] == "success" for n in needs.values()) and not context.cancelled,
                    failure=any(n["result"] == "failure" for n in needs.values()),
                    cancelled=context.cancelled)
    base = {"github": context.github(job_id, "", context.run_dir), "needs": needs,
            "inputs": context.payload.get("inputs") or {}, "vars": {}}
    if not condition(job.get("if"), base, status):
        for name in [run.name for run in only] if only else [job_id]:
            yield JobRun(name, "skipped", job_id=job_id)
        return
    instances = job_instances(job_id, job, base) if only is None else [
        Instance(job_id, run.name, run.matrix, run.strategy) for run in only]
    suffix = f"-attempt{context.attempt}" if context.attempt > 1 else ""
    cancelled_before, failed = context.cancelled, False
    for instance in instances:
        # fail-fast: GitHub cancels the rest of the matrix once one instance fails; a cancelled run
        # cancels the instances not yet started (unless the job started after it, as always() does).
        fail_fast = failed and instance.strategy.get("fail-fast", True)
        if fail_fast or (context.cancelled and not cancelled_before):
            yield _not_started(instance)
            continue
        home = context.run_dir / (instance.folder + suffix)
        run = _run_instance(context, workflow, job, instance, base, home)
        failed = failed or run.result == "failure"
        yield run


def _not_started(instance: Instance) -> JobRun:
    return JobRun(instance.name, "cancelled", job_id=instance.job_id, matrix=instance.matrix,
                  strategy=instance.strategy)


def _run_instance(context: RunContext, workflow: Mapping[str, Any], job: Mapping[str, Any],
                  instance: Instance, base: Mapping[str, Any], home: Path) -> JobRun:
    workspace, temp = home / "workspace", home / "temp"
    workspace.mkdir(parents=True)
    temp.mkdir()
    contexts = {**base, "github": context.github(instance.job_id, "", workspace), "matrix": instance.matrix,
                "strategy": instance.strategy, "runner": {"temp": str(temp), "os": "Linux"}}
    group, cancel_in_progress = _group(job, contexts)
    if not group:
        return _run_steps(context, workflow, job, instance, contexts, home)
    entry = Entry(f"{instance.name} of run {context.run_id}")
    if not context.runner.groups.acquire(group, entry, cancel_in_progress):
        context.cancelled = True  # replaced while pending: the job never starts, the run is cancelled
        return _not_started(instance)
    context.entries.append(entry)
    try:
        return _run_steps(context, workflow, job, instance, contexts, home)
    finally:
        context.runner.groups.release(group, entry)


def _run_steps(context: RunContext, workflow: Mapping[str, Any], job: Mapping[str, Any], instance: Instance,
               base: dict[str, Any], home: Path) -> JobRun:
    workspace, temp = home / "workspace", home / "temp"
    permissions = job.get("permissions", workflow.get("permissions"))
    scopes = scopes_of(permissions, read_only=context.fork)
    token = context.runner.fake.issue_token(scopes, instance.folder)
    secrets = {} if context.fork else dict(context.runner.secrets)
    contexts = {**base, "github": context.github(instance.job_id, token, workspace), "secrets": secrets,
                "steps": {}}
    declared = _declared_env(workflow, job, contexts)
    contexts["env"] = declared
    run = JobRun(instance.name, "success", scopes, token, job_id=instance.job_id, matrix=instance.matrix,
                 strategy=instance.strategy)
    env = {**context.runner.runner_env, **declared, **_default_env(context, instance.job_id, workspace, temp)}
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


def _declared_env(workflow: Mapping[str, Any], job: Mapping[str, Any], contexts: Mapping[str, Any]
                  ) -> dict[str, str]:
    """The workflow's ``env:`` then the job's, each rendered with the contexts GitHub allows there."""
    top = {k: contexts[k] for k in ("github", "secrets", "inputs", "vars")}
    declared = {k: to_string(render(v, top)) for k, v in (workflow.get("env") or {}).items()}
    allowed = {k: contexts[k] for k in ("github", "needs", "strategy", "matrix", "secrets", "inputs", "vars")}
    declared.update({k: to_string(render(v, allowed)) for k, v in (job.get("env") or {}).items()})
    return declared


def _default_env(context: RunContext, job_id: str, workspace: Path, temp: Path) -> dict[str, str]:
    event_path = context.run_dir / "event.json"
    event_path.write_text(json.dumps(context.payload), encoding="utf-8")
    fake = context.runner.fake
    return {
        "GITHUB_ACTIONS": "true", "CI": "true",
        "GITHUB_EVENT_NAME": context.event_name, "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": context.runner.repository, "GITHUB_API_URL": fake.base_url,
        "GITHUB_SERVER_URL": fake.base_url, "GITHUB_RUN_ID": context.run_id,
        "GITHUB_RUN_ATTEMPT": str(context.attempt),
        "GITHUB_JOB": job_id, "GITHUB_SHA": context.sha, "GITHUB_REF": context.ref,
        "GITHUB_WORKSPACE": str(workspace), "RUNNER_TEMP": str(temp),
    }


def _run_step(context: RunContext, run: JobRun, step: Mapping[str, Any], contexts: dict[str, Any],
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
        return run_action(context, run, with_, contexts, env, home)
    raise ValueError(f"the fake runner does not know the action {uses!r}")


def _checkout(context: RunContext, run: JobRun, with_: Mapping[str, Any], workspace: Path) -> bool:
    bare = context.runner.bare
    asked = to_string(with_.get("ref"))
    ref = asked or context.ref
    depth = int(float(to_string(with_.get("fetch-depth")) or 1))
    shallow = ["--depth", str(depth)] if depth > 0 else []
    shutil.rmtree(workspace)
    subprocess.run(["git", "clone", "-q", "--no-checkout", *shallow, f"file://{bare}", str(workspace)],
                   check=True, capture_output=True)
    # Without ``ref``, actions/checkout fetches the commit the run started on (github.sha), not what
    # the ref points at now: a re-run, or a later job after a push, sees the run's commit.
    _git(workspace, "fetch", "-q", *shallow, "origin", asked or context.sha)
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
