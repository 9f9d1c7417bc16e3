"""What the fake GitHub Actions runner (:mod:`tests.helpers.workflow_runner`) is given and leaves:
the world it runs in (:class:`Runner`), one run's state (:class:`RunContext`) and the results of its
jobs (:class:`JobRun`, :class:`WorkflowRun`)."""

from __future__ import annotations

import subprocess
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from click.testing import Result

from tests.helpers.concurrency import Entry, Groups
from tests.helpers.fake_github.server import FakeGitHub
from tests.helpers.matrix import matrix_outputs, matrix_result


def load_yaml(text: str) -> dict[str, Any]:
    """A workflow or action file as a dict (``on`` stays a string key, unlike plain PyYAML)."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError("not a YAML mapping")
    if True in data:
        data["on"] = data.pop(True)
    return data


@dataclass
class JobRun:
    """One job of a workflow run (or one instance of a matrix job), as it ended."""

    #: The job's id, or the matrix instance's name (``search (0)``).
    name: str
    result: str  # success | failure | cancelled | skipped
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
    #: The workflow's job id (``search`` for ``search (0)``); the name when not given.
    job_id: str = ""
    #: The ``matrix`` context of this instance (empty for a job without a matrix).
    matrix: dict[str, Any] = field(default_factory=dict)
    #: The ``strategy`` context it ran with (``job-index``, ``job-total``, ``fail-fast``, …).
    strategy: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.job_id = self.job_id or self.name

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
    """Every job of one run of a workflow by name (each matrix instance by its own, ``search (0)``),
    in the order they ran, and the artifacts they passed."""

    jobs: dict[str, JobRun]
    artifacts: Path
    #: What a re-run of one of its jobs needs (see :func:`~tests.helpers.workflow_runner.rerun_job`).
    context: RunContext | None = None
    workflow: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> JobRun:
        return self.jobs[name]

    def instances(self, job_id: str) -> list[JobRun]:
        """The jobs the workflow's job ``job_id`` ran as: itself, or each instance of its matrix."""
        return [job for job in self.jobs.values() if job.job_id == job_id]

    def result(self, job_id: str) -> str:
        """``needs.<job_id>.result`` as a job after it sees it (a matrix's from all its instances)."""
        return matrix_result(job.result for job in self.instances(job_id))

    def job_outputs(self, job_id: str) -> dict[str, str]:
        """``needs.<job_id>.outputs`` as a job after it sees it (a matrix's from all its instances)."""
        return matrix_outputs(job.outputs for job in self.instances(job_id))

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
    #: Called after each job that ran (each matrix instance) with the job and the run's artifacts
    #: directory: what code that ran in the job could have done with its token, or to its artifact.
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
class RunContext:
    """One workflow run: its event, commit, id and attempt, and whether it was cancelled."""

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

    @classmethod
    def start(cls, runner: Runner, event_name: str, payload: dict[str, Any], run_dir: Path) -> RunContext:
        """A new run (number ``runner.runs``) for ``event_name``: the ref and commit GitHub gives it
        (a pull request's merge commit, written as ``refs/pull/<n>/merge`` now), whether it is a fork's."""
        fork = False
        if event_name == "pull_request":
            pull = payload["pull_request"]
            number = int(pull["number"])
            fork = (pull["head"].get("repo") or {}).get("full_name") != runner.repository
            merge = runner.fake.write_pull_refs(number, pull["base"]["sha"], pull["head"]["sha"])
            ref, sha = f"refs/pull/{number}/merge", merge or pull["head"]["sha"]
        else:
            ref = str(payload["ref"]) if event_name == "workflow_dispatch" and payload.get("ref") else (
                "refs/heads/main")
            sha = subprocess.run(["git", "rev-parse", ref], cwd=runner.bare, check=True, capture_output=True,
                                 text=True).stdout.strip()
        return cls(runner, event_name, payload, sha, ref, str(1000 + runner.runs), run_dir, fork)

    def github(self, job: str, token: str, workspace: Path) -> dict[str, Any]:
        """The ``github`` context of job ``job`` (its id) with ``token`` in ``workspace``."""
        fake = self.runner.fake
        return {
            "event": self.payload, "event_name": self.event_name, "repository": self.runner.repository,
            "repository_owner": self.runner.repository.split("/")[0], "sha": self.sha, "ref": self.ref,
            "token": token, "job": job, "run_id": self.run_id, "run_attempt": str(self.attempt),
            "server_url": fake.base_url, "api_url": fake.base_url, "workspace": str(workspace),
            "actor": _login(self.payload.get("sender")),
        }

    @property
    def artifacts(self) -> Path:
        """The run's artifacts, one directory per name."""
        return self.run_dir / "artifacts"


def _login(user: Any) -> str:
    return str(user.get("login", "")) if isinstance(user, dict) else ""
