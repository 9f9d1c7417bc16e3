"""Receiving a slash command: acknowledge, check permission, answer what needs no loop, hand back the rest.

``receive_command`` does everything up to the point where the inner loop or git is needed:

1. not a command (first line does not start with ``/growthhacker``) → None, nothing posted;
2. commenter below ``github.allowed_commenters`` → 😕 on the comment and nothing else (no reply:
   anyone can comment, and the bot posts nothing for them), None;
3. 👀 on the comment;
4. ``help`` / unknown verb → help reply; ``status`` → status reply; 🚀; the receipt says it is done;
5. ``iterate`` / ``undo`` / ``stop`` on a PR that is not an open bot PR in this repository (forks
   included: their code never runs with the bot's token) → refusal, 😕, None;
6. ``stop`` → :data:`STOP_LABEL` added, reply, 🚀, done;
7. ``iterate`` on a stopped PR → refusal, 😕, None;
8. ``iterate`` / ``undo`` → a receipt with ``needs_work``: the caller runs it, then calls
   :func:`finish_command` (reply + 🚀 or 😕).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import GitHubConfig
from bot.github.commands import Command, has_permission, help_text, parse_command
from bot.github.events import IssueCommentEvent
from bot.github.outcomes import outcome_of_command, run_of
from bot.github.publish import STOP_LABEL, Publisher, PullInfo
from bot.journal import OutcomeRecorded


@dataclass(frozen=True)
class CommandReceipt:
    """A command accepted from an authorised user."""

    command: Command
    pull: PullInfo | None
    #: The journal record of the command (None for help/status or PRs that are not the bot's).
    outcome: OutcomeRecorded | None
    #: True for iterate/undo: the caller must run it and then call :func:`finish_command`.
    needs_work: bool


def receive_command(
    publisher: Publisher, event: IssueCommentEvent, config: GitHubConfig
) -> CommandReceipt | None:
    """Acknowledge and triage the command in ``event`` (see the module docstring for the steps).

    Returns None when there is nothing (more) to do: not a command, or refused (the 😕 is there, and
    for an authorised commenter the reason too). Returns a :class:`CommandReceipt` otherwise.

    Raises:
        GitHubError: an API call failed after retries.
    """
    command = parse_command(event.body)
    if command is None:
        return None
    number = event.pr_number
    if not has_permission(publisher.repo, event.author, config.allowed_commenters):
        publisher.react(number, event.comment_id, "confused")
        return None
    publisher.react(number, event.comment_id, "eyes")
    if command.verb == "help":
        publisher.reply(number, help_text(command.problem))
        publisher.react(number, event.comment_id, "confused" if command.problem else "rocket")
        return CommandReceipt(command, None, None, needs_work=False)
    pull = publisher.pull_info(number)
    if command.verb == "status":
        publisher.reply(number, status_text(pull, config))
        publisher.react(number, event.comment_id, "rocket")
        return CommandReceipt(command, pull, None, needs_work=False)
    problem = not_actionable(pull, config)
    if problem is None and command.verb == "iterate" and pull.stopped:
        problem = stopped_text()
    if problem is not None:
        _refuse(publisher, event, f"@{event.author} I cannot `{command.verb}` here: {problem}.")
        return None
    outcome = outcome_of_command(event, command, pull, config.branch_prefix)
    if command.verb == "stop":
        publisher.add_labels(number, [STOP_LABEL])
        publisher.reply(
            number, f"Stopped: GrowthHacker will not run on this PR again (label `{STOP_LABEL}`)."
        )
        publisher.react(number, event.comment_id, "rocket")
        return CommandReceipt(command, pull, outcome, needs_work=False)
    return CommandReceipt(command, pull, outcome, needs_work=True)


def finish_command(publisher: Publisher, event: IssueCommentEvent, *, ok: bool, message: str) -> None:
    """Report the result of an iterate/undo: reply with ``message`` and react 🚀 (ok) or 😕.

    Raises:
        GitHubError: an API call failed after retries.
    """
    publisher.reply(event.pr_number, message)
    publisher.react(event.pr_number, event.comment_id, "rocket" if ok else "confused")


def status_text(pull: PullInfo, config: GitHubConfig) -> str:
    """The ``status`` reply: whose PR this is, where its branch is, whether runs are allowed."""
    run = run_of(pull.head_ref, pull.body, config.branch_prefix)
    if run is None or pull.is_fork:
        owner = "not a GrowthHacker PR: the bot only verifies it on pushes"
    else:
        iteration = "" if run[1] is None else f", iteration {run[1]}"
        owner = f"GrowthHacker PR from run `{run[0]}`{iteration}"
    state = "merged" if pull.merged else pull.state
    runs = "stopped" if pull.stopped else "allowed"
    return (
        f"**GrowthHacker status for #{pull.number}**: {owner}.\n\n"
        f"- state: {state}\n- branch: `{pull.head_ref}` at `{pull.head_sha[:7]}`\n- further runs: {runs}"
    )


def not_actionable(pull: PullInfo, config: GitHubConfig) -> str | None:
    """Why a command that changes a PR cannot act on ``pull`` (a fork, a human branch, not open), or
    None when it can."""
    if pull.is_fork or not pull.head_ref.startswith(config.branch_prefix):
        prefix = config.branch_prefix
        return f"commands that change a PR only work on GrowthHacker PRs (branches `{prefix}…` here)"
    if pull.state != "open":
        return "this PR is no longer open"
    return None


def stopped_text() -> str:
    """Why ``iterate`` does not run on a PR stopped with ``/growthhacker stop``."""
    return f"runs on this PR were stopped; remove the `{STOP_LABEL}` label to allow them again"


def _refuse(publisher: Publisher, event: IssueCommentEvent, message: str) -> None:
    publisher.reply(event.pr_number, message)
    publisher.react(event.pr_number, event.comment_id, "confused")
