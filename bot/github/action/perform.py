"""Dispatch: the mode decided for an event, run with its collaborators; the step outputs written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.errors import ActionEnvironmentError
from bot.git import git
from bot.github.action.command import accepted_command, receive, undo
from bot.github.action.outcome import record_outcome
from bot.github.action.propose import publish_iterate, publish_optimize
from bot.github.action.pull_check import measure, report
from bot.github.action.search import search
from bot.github.action.session import (
    Outputs,
    Prepared,
    RunLoop,
    Session,
    outputs,
)
from bot.github.action.sharded import (
    ConfirmFinalist,
    GatherShards,
    RunShard,
    confirm_search_finalist,
    gather_search,
    run_search_shard,
)
from bot.github.commands import parse_command
from bot.github.events import DispatchEvent, IssueCommentEvent, PullRequestEvent, ScheduleEvent
from bot.github.step_files import write_outputs


@dataclass(frozen=True)
class Sharding:
    """What the ``shard``, ``confirm`` and ``gather`` modes need besides the session: how to run a
    shard, confirm a finalist and gather (the CLI binds them to its options), this job's place in its
    matrix, the run's iterations and where the shards' and the confirmations' artifacts were
    downloaded."""

    run_shard: RunShard
    gather: GatherShards
    iterations: int
    index: int | None = None
    count: int | None = None
    downloaded: Path | None = None
    confirm: ConfirmFinalist | None = None
    finalist: int | None = None
    confirmations: Path | None = None


def perform(prepared: Prepared, run_loop: RunLoop, sharding: Sharding | None = None) -> Outputs:
    """Run the mode ``prepared`` decided on and write the step outputs; returns them.

    Raises:
        ActionEnvironmentError: the event does not fit the mode.
        GitHubError: GitHub or git failed.
        GrowthHackerError: the loop or the evaluation could not run (config, workspace, agent …).
    """
    session, event, mode = prepared.session, prepared.event, prepared.decision.mode
    if session is None or mode is None:
        return outputs()
    result: Outputs
    optimizing = isinstance(event, DispatchEvent | ScheduleEvent)
    if mode == "search" and optimizing:
        fetched = session.remote.fetch_branch(session.config.github.base)
        base = git(session.repo, "rev-parse", f"{fetched}^{{commit}}").strip()
        result = search(session, run_loop, kind="optimize", base=base, hints=[])
    elif mode == "search" and isinstance(event, IssueCommentEvent):
        accepted_command(session, event, "iterate")
        command = parse_command(event.body)
        hints = [command.hint] if command is not None and command.hint else []
        # The workflow checked out the head the receive job saw: the search starts from it.
        base = git(session.repo, "rev-parse", "HEAD^{commit}").strip()
        result = search(session, run_loop, kind="iterate", base=base, hints=hints, pr_number=event.pr_number)
    elif mode in ("shard", "confirm", "gather") and optimizing:
        result = _sharded(session, mode, sharding)
    elif mode == "publish" and optimizing:
        result = publish_optimize(session)
    elif mode == "publish" and isinstance(event, IssueCommentEvent):
        result = publish_iterate(session, event)
    elif mode == "measure" and isinstance(event, PullRequestEvent):
        result = measure(session, event, session.artifact)
    elif mode == "report" and isinstance(event, PullRequestEvent):
        result = report(session, event, session.artifact)
    elif mode == "outcome" and isinstance(event, PullRequestEvent):
        result = record_outcome(session, event)
    elif mode == "receive" and isinstance(event, IssueCommentEvent):
        result = receive(session, event)
    elif mode == "undo" and isinstance(event, IssueCommentEvent):
        result = undo(session, event)
    else:
        raise ActionEnvironmentError(f"mode {mode!r} does not apply to a {event.kind} event")
    write_outputs(session.context.output, result)
    return result


def _sharded(session: Session, mode: str, sharding: Sharding | None) -> Outputs:
    if sharding is None:
        raise ActionEnvironmentError(f"mode {mode} needs the sharding options of `growthhacker action`")
    if mode == "shard":
        if sharding.index is None or sharding.count is None:
            raise ActionEnvironmentError("mode shard needs this job's shard and the number of shards: the "
                                         "action's `shard` and `shards` inputs (GROWTHHACKER_SHARD, "
                                         "GROWTHHACKER_SHARDS)")
        return run_search_shard(session, sharding.run_shard, index=sharding.index, count=sharding.count,
                                iterations=sharding.iterations)
    downloaded = sharding.downloaded
    if downloaded is None:
        raise ActionEnvironmentError(f"mode {mode} needs the directory the shard artifacts were "
                                     "downloaded into (--shards-dir, GROWTHHACKER_SHARDS_DIR)")
    if mode == "gather":
        return gather_search(session, sharding.gather, downloaded, sharding.confirmations)
    if sharding.confirm is None or sharding.finalist is None:
        raise ActionEnvironmentError("mode confirm needs this job's finalist: the action's `finalist` input "
                                     "(GROWTHHACKER_FINALIST)")
    return confirm_search_finalist(session, sharding.confirm, downloaded, sharding.finalist)
