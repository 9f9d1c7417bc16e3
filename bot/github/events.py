"""GitHub Actions events as typed values, the work each asks for, and the job modes that do it.

``load_event`` reads ``GITHUB_EVENT_NAME`` and the JSON payload at ``GITHUB_EVENT_PATH``;
``parse_event`` turns a payload into one of:

- :class:`DispatchEvent` (``workflow_dispatch``) and :class:`ScheduleEvent` → optimize;
- :class:`PullRequestEvent` (opened / synchronize / reopened → verify; closed → outcome);
- :class:`IssueCommentEvent` (a new comment on a pull request → command);
- :class:`IgnoredEvent` for anything else, with the reason (the CLI exits 0 and says why).

:func:`decide_mode` checks that the job's ``mode`` input does its part of that work
(:data:`JOB_MODES`).

Fork pull requests are detected here (``is_fork``): they are verified without secrets and the bot
never writes back to them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from bot.errors import ActionEnvironmentError

#: What an event asks the bot to do.
Work = Literal["optimize", "verify", "outcome", "command"]
#: What one job of a workflow does (the action's ``mode`` input).
Mode = Literal["search", "publish", "measure", "report", "outcome", "receive", "undo", "shard", "confirm",
               "gather"]
#: The jobs that do each work, in the order a workflow runs them: a job that runs repository or
#: candidate code never writes (``search``, ``measure``, ``shard``, ``confirm``, ``gather``); the job
#: after it writes and runs none (``publish``, ``report``). A sharded optimize is a matrix of
#: ``shard`` jobs, a matrix of ``confirm`` jobs (one finalist each), then ``gather``, which hands on
#: what ``search`` would. A command is received first (``receive``);
#: ``iterate`` then searches and publishes, ``undo`` has a job of its own.
JOB_MODES: dict[Work, tuple[Mode, ...]] = {
    "optimize": ("search", "shard", "confirm", "gather", "publish"),
    "verify": ("measure", "report"),
    "outcome": ("outcome",),
    "command": ("receive", "undo", "search", "publish"),
}
MODES: tuple[Mode, ...] = get_args(Mode)


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)


class DispatchEvent(_Event):
    """A manual ``workflow_dispatch`` run, with the inputs the user filled in."""

    kind: Literal["workflow_dispatch"] = "workflow_dispatch"
    ref: str = ""
    inputs: dict[str, str] = Field(default_factory=dict)
    actor: str = ""


class ScheduleEvent(_Event):
    """A scheduled (cron) run."""

    kind: Literal["schedule"] = "schedule"
    cron: str = ""


class PullRequestEvent(_Event):
    """A ``pull_request`` event the bot reacts to."""

    kind: Literal["pull_request"] = "pull_request"
    action: Literal["opened", "synchronize", "reopened", "closed"]
    number: int
    title: str = ""
    body: str = ""
    author: str = ""
    head_ref: str
    head_sha: str
    #: ``owner/name`` of the head repository; None when the fork was deleted.
    head_repo: str | None
    base_ref: str
    base_sha: str
    base_repo: str
    merged: bool = False
    #: Who merged or closed it (the event's sender for ``closed``).
    actor: str = ""
    labels: list[str] = Field(default_factory=list)
    #: When it was closed or merged (ISO-8601), for ``closed`` events.
    closed_at: str | None = None

    @property
    def is_fork(self) -> bool:
        """True if the head branch lives in another repository (or in a deleted one)."""
        return self.head_repo != self.base_repo

    def is_bot_branch(self, prefix: str) -> bool:
        """True if this PR's head is one of the bot's branches (same repository, ``prefix``)."""
        return not self.is_fork and self.head_ref.startswith(prefix)


class IssueCommentEvent(_Event):
    """A comment on a pull request (GitHub delivers PR conversation comments as issue comments)."""

    kind: Literal["issue_comment"] = "issue_comment"
    action: Literal["created", "edited", "deleted"]
    pr_number: int
    comment_id: int
    body: str
    author: str
    #: ``User``, ``Bot`` or ``Organization``; the bot ignores comments by bots (including itself).
    author_type: str = "User"
    author_association: str = "NONE"
    created_at: str = ""


class IgnoredEvent(_Event):
    """An event the bot does nothing for, and why."""

    kind: Literal["ignored"] = "ignored"
    name: str
    reason: str


Event = Annotated[
    DispatchEvent | ScheduleEvent | PullRequestEvent | IssueCommentEvent | IgnoredEvent,
    Field(discriminator="kind"),
]


@dataclass(frozen=True)
class ActionContext:
    """The parts of the GitHub Actions environment the bot uses (never the token itself)."""

    event_name: str
    event_path: Path
    repository: str
    api_url: str
    server_url: str
    run_id: str
    workspace: Path
    step_summary: Path | None
    output: Path | None
    #: The commit the workflow run was started on (``GITHUB_SHA``; "" outside a run): the same in
    #: every job and attempt of the run.
    sha: str = ""

    @property
    def run_url(self) -> str:
        """Link to this workflow run (for check runs and comments)."""
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"


def load_action_context(environ: Mapping[str, str]) -> ActionContext:
    """Read the Actions environment variables.

    Raises:
        ActionEnvironmentError: not inside GitHub Actions (a required variable is unset or malformed).
    """
    missing = [
        name
        for name in ("GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY")
        if not environ.get(name)
    ]
    if missing:
        raise ActionEnvironmentError(
            f"not running inside GitHub Actions ({', '.join(missing)} unset): "
            "use `growthhacker run` locally, or set these variables to replay an event"
        )
    repository = environ["GITHUB_REPOSITORY"]
    if repository.count("/") != 1:
        raise ActionEnvironmentError(f"GITHUB_REPOSITORY must look like owner/name, got {repository!r}")

    def optional_path(name: str) -> Path | None:
        return Path(environ[name]) if environ.get(name) else None

    return ActionContext(
        event_name=environ["GITHUB_EVENT_NAME"],
        event_path=Path(environ["GITHUB_EVENT_PATH"]),
        repository=repository,
        api_url=environ.get("GITHUB_API_URL", "https://api.github.com"),
        server_url=environ.get("GITHUB_SERVER_URL", "https://github.com"),
        run_id=environ.get("GITHUB_RUN_ID", "0"),
        workspace=Path(environ.get("GITHUB_WORKSPACE", ".")),
        step_summary=optional_path("GITHUB_STEP_SUMMARY"),
        output=optional_path("GITHUB_OUTPUT"),
        sha=environ.get("GITHUB_SHA", ""),
    )


def load_event(context: ActionContext) -> Event:
    """Read and parse the event payload named by ``context``.

    Raises:
        ActionEnvironmentError: the payload file is missing, not JSON, or lacks fields the event must have.
    """
    try:
        payload = json.loads(context.event_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ActionEnvironmentError(f"cannot read the event payload {context.event_path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ActionEnvironmentError(f"the event payload {context.event_path} is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ActionEnvironmentError(f"the event payload {context.event_path} is not a JSON object")
    return parse_event(context.event_name, payload)


def parse_event(name: str, payload: Mapping[str, Any]) -> Event:
    """Turn an event name and its webhook payload into a typed event.

    Returns :class:`IgnoredEvent` for events and actions the bot does not handle.

    Raises:
        ActionEnvironmentError: a handled event's payload lacks a field GitHub always sends.
    """
    try:
        if name == "workflow_dispatch":
            inputs = {str(k): str(v) for k, v in (payload.get("inputs") or {}).items()}
            return DispatchEvent(
                ref=payload.get("ref", ""), inputs=inputs, actor=_login(payload.get("sender"))
            )
        if name == "schedule":
            return ScheduleEvent(cron=str(payload.get("schedule", "")))
        if name == "pull_request":
            return _pull_request(payload)
        if name == "issue_comment":
            return _issue_comment(payload)
    except (KeyError, TypeError) as exc:
        raise ActionEnvironmentError(
            f"the {name} event payload lacks a field GitHub always sends: {exc}"
        ) from exc
    if name == "pull_request_target":
        reason = "pull_request_target is never used: it would run pull-request code with secrets"
    else:
        reason = f"the bot does not handle {name} events"
    return IgnoredEvent(name=name, reason=reason)


def _login(user: Any) -> str:
    return str(user["login"]) if isinstance(user, Mapping) and "login" in user else ""


def _pull_request(payload: Mapping[str, Any]) -> Event:
    action = payload["action"]
    if action not in ("opened", "synchronize", "reopened", "closed"):
        return IgnoredEvent(name="pull_request", reason=f"pull_request action {action!r} needs no work")
    pr = payload["pull_request"]
    head_repo = pr["head"].get("repo")
    return PullRequestEvent(
        action=action,
        number=int(pr["number"]),
        title=pr.get("title") or "",
        body=pr.get("body") or "",
        author=_login(pr.get("user")),
        head_ref=pr["head"]["ref"],
        head_sha=pr["head"]["sha"],
        head_repo=head_repo["full_name"] if head_repo else None,
        base_ref=pr["base"]["ref"],
        base_sha=pr["base"]["sha"],
        base_repo=pr["base"]["repo"]["full_name"],
        merged=bool(pr.get("merged")),
        actor=_login(pr.get("merged_by")) or _login(payload.get("sender")),
        labels=[label["name"] for label in pr.get("labels") or []],
        closed_at=pr.get("merged_at") or pr.get("closed_at"),
    )


def _issue_comment(payload: Mapping[str, Any]) -> Event:
    issue = payload["issue"]
    if not issue.get("pull_request"):
        return IgnoredEvent(name="issue_comment", reason="the comment is on an issue, not a pull request")
    comment = payload["comment"]
    user = comment.get("user") or {}
    return IssueCommentEvent(
        action=payload["action"],
        pr_number=int(issue["number"]),
        comment_id=int(comment["id"]),
        body=comment.get("body") or "",
        author=_login(user),
        author_type=str(user.get("type", "User")),
        author_association=str(comment.get("author_association", "NONE")),
        created_at=str(comment.get("created_at", "")),
    )


@dataclass(frozen=True)
class ModeDecision:
    """The work an event asks for and the mode this job does of it, or None with the reason there is
    nothing to do."""

    work: Work | None
    mode: Mode | None
    reason: str


def decide_mode(event: Event, branch_prefix: str, requested: str = "") -> ModeDecision:
    """The work ``event`` asks for, and which part of it this job does: ``requested`` (the action's
    ``mode`` input) must be one of the work's :data:`JOB_MODES`; it may be empty only when the work
    is one job.

    Closed PRs only matter when they are the bot's (their outcome goes to the journal); edits and
    deletions of comments never re-run commands, and comments by bots are ignored (no loops).

    Raises:
        ActionEnvironmentError: ``requested`` is not a mode, does not do this event's work, or is
            missing where the work takes several jobs.
    """
    work, reason = decide_work(event, branch_prefix)
    if requested and requested not in MODES:
        raise ActionEnvironmentError(f"unknown mode {requested!r}: use one of {', '.join(MODES)}")
    if work is None:
        return ModeDecision(None, None, reason)
    modes = JOB_MODES[work]
    if not requested:
        if len(modes) > 1:
            raise ActionEnvironmentError(
                f"a {event.kind} event is {work} work, done by the jobs {' → '.join(modes)}: set the "
                "action's `mode` input of each job (the workflows `growthhacker init` writes do)"
            )
        return ModeDecision(work, modes[0], reason)
    if requested not in modes:
        raise ActionEnvironmentError(
            f"mode {requested!r} cannot run on a {event.kind} event (it calls for {work}: "
            f"{' → '.join(modes)}); remove the `mode` input or trigger the workflow on the matching event"
        )
    return ModeDecision(work, requested, reason)


def decide_work(event: Event, branch_prefix: str) -> tuple[Work | None, str]:
    """The work ``event`` asks for (None when it needs nothing) and why. Raises nothing."""
    if isinstance(event, DispatchEvent | ScheduleEvent):
        return "optimize", f"{event.kind} event"
    if isinstance(event, PullRequestEvent):
        if event.action != "closed":
            where = " from a fork (no secrets, no write-back)" if event.is_fork else ""
            return "verify", f"pull request #{event.number} {event.action}{where}"
        if event.is_bot_branch(branch_prefix):
            verdict = "merged" if event.merged else "closed"
            return "outcome", f"bot pull request #{event.number} {verdict}"
        return None, f"pull request #{event.number} was closed but is not a GrowthHacker PR"
    if isinstance(event, IssueCommentEvent):
        if event.action != "created":
            return None, f"comment {event.action}: commands run only when first posted"
        if event.author_type == "Bot":
            return None, f"comment by the bot account {event.author}"
        return "command", f"comment on pull request #{event.pr_number} by {event.author}"
    return None, event.reason
