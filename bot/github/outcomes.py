"""The outer loop's input: what humans did with a bot pull request, as journal records.

A merged PR means "launched", a closed one "rejected"; slash commands and review comments are
guidance, recorded only from users with at least ``github.allowed_commenters`` (anyone can comment,
and the journal is read by the Analyzer). Each becomes an :class:`~bot.journal.OutcomeRecorded` tied
to the run and iteration the PR came from (read from the hidden run marker in the PR body, else from
the ``growthhacker/<run-id>`` branch name), ready to append to the journal. Human text is data: it is
cleaned and capped here and quoted wherever it is shown to an agent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from bot.github.commands import PREFIX, Command, parse_command
from bot.github.events import IssueCommentEvent, PullRequestEvent
from bot.github.publish import CommentInfo, PullInfo
from bot.github.render import STICKY_MARKER, VERIFY_MARKER, parse_run_marker
from bot.journal import OutcomeRecorded, now
from bot.text import strip_controls

#: Longest human text kept per outcome (a review comment is guidance, not a document).
MAX_TEXT_CHARS = 2000


def run_of(head_ref: str, body: str, branch_prefix: str) -> tuple[str, int | None] | None:
    """The (run id, iteration) a PR belongs to, or None if it is not a GrowthHacker PR.

    The marker in the body wins (it names the iteration); a bot branch without it still names the run.
    """
    marked = parse_run_marker(body)
    if marked is not None:
        return marked
    if head_ref.startswith(branch_prefix) and len(head_ref) > len(branch_prefix):
        return head_ref[len(branch_prefix) :], None
    return None


def clean_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``text`` without control, zero-width and bidi characters (:func:`~bot.text.strip_controls`; its
    lines kept), trimmed and cut to ``limit`` characters."""
    cleaned = strip_controls(text).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


def outcome_of_closed(event: PullRequestEvent, branch_prefix: str) -> OutcomeRecorded | None:
    """The merged/closed outcome of a ``pull_request`` ``closed`` event on a bot PR; None otherwise."""
    if event.action != "closed" or event.is_fork:
        return None
    run = run_of(event.head_ref, event.body, branch_prefix)
    if run is None:
        return None
    verdict: Literal["merged", "closed"] = "merged" if event.merged else "closed"
    return OutcomeRecorded(
        run_id=run[0],
        iteration=run[1],
        pr_number=event.number,
        event=verdict,
        actor=event.actor,
        text=f"pull request #{event.number} was {verdict}",
        at=event.closed_at or now(),
    )


def outcome_of_command(
    event: IssueCommentEvent, command: Command, pull: PullInfo, branch_prefix: str
) -> OutcomeRecorded | None:
    """The journal record of a slash command on a bot PR (the hint is the guidance); None otherwise."""
    run = run_of(pull.head_ref, pull.body, branch_prefix)
    if run is None or pull.is_fork:
        return None
    text = f"{PREFIX} {command.verb}" + (f" {command.hint}" if command.hint else "")
    return OutcomeRecorded(
        run_id=run[0],
        iteration=run[1],
        pr_number=pull.number,
        event="command",
        actor=event.author,
        text=clean_text(text),
        at=event.created_at or now(),
    )


def outcomes_of_comments(
    comments: list[CommentInfo], pull: PullInfo, branch_prefix: str, trusted: Callable[[str], bool]
) -> list[OutcomeRecorded]:
    """Review comments by humans on a bot PR as guidance outcomes, oldest first.

    Only authors for whom ``trusted(login)`` holds (a role of at least ``github.allowed_commenters``)
    are recorded: anyone can comment on a public PR, and what is recorded reaches the Analyzer's
    prompt. Skips bots (the sticky comment, replies), slash commands (recorded when they run) and
    empty comments. Returns an empty list for PRs that are not the bot's.
    """
    run = run_of(pull.head_ref, pull.body, branch_prefix)
    if run is None or pull.is_fork:
        return []
    found = []
    for comment in comments:
        text = clean_text(comment.body)
        from_bot = comment.author_type == "Bot" or text.startswith((STICKY_MARKER, VERIFY_MARKER))
        if from_bot or not text or parse_command(text) or not trusted(comment.author):
            continue
        found.append(
            OutcomeRecorded(
                run_id=run[0],
                iteration=run[1],
                pr_number=pull.number,
                event="comment",
                actor=comment.author,
                text=text,
                at=comment.created_at or now(),
            )
        )
    return found
