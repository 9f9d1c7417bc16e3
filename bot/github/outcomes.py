"""The outer loop's input: what humans did with a bot pull request, as journal-ready records.

A merged PR means "launched", a closed one "rejected"; slash commands and review comments are
guidance. Each becomes an :class:`Outcome` tied to the run and iteration the PR came from (read from
the hidden run marker in the PR body, else from the ``growthhacker/<run-id>`` branch name). The
fields match the journal's outcome record, so ``OutcomeRecorded(**outcome.model_dump())`` stores it.
Human text is data: it is cleaned and capped here and quoted wherever it is shown to an agent.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.github.commands import PREFIX, Command, parse_command
from bot.github.events import IssueCommentEvent, PullRequestEvent
from bot.github.publish import CommentInfo, PullInfo
from bot.github.render import STICKY_MARKER, parse_run_marker

OutcomeEvent = Literal["merged", "closed", "command", "comment"]
#: Longest human text kept per outcome (a review comment is guidance, not a document).
MAX_TEXT_CHARS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Outcome(BaseModel):
    """One human outcome of a candidate: merged, closed, a command, or a review comment."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    iteration: int | None
    pr_number: int
    event: OutcomeEvent
    actor: str
    text: str = ""
    #: ISO-8601 UTC, the journal's timestamp format.
    at: str = Field(default_factory=_now)


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
    """``text`` without control and bidi-override characters, trimmed and cut to ``limit`` characters."""
    cleaned = _CONTROL.sub("", text.replace("\r\n", "\n")).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


def outcome_of_closed(event: PullRequestEvent, branch_prefix: str) -> Outcome | None:
    """The merged/closed outcome of a ``pull_request`` ``closed`` event on a bot PR; None otherwise."""
    if event.action != "closed" or event.is_fork:
        return None
    run = run_of(event.head_ref, event.body, branch_prefix)
    if run is None:
        return None
    verdict: OutcomeEvent = "merged" if event.merged else "closed"
    return Outcome(
        run_id=run[0],
        iteration=run[1],
        pr_number=event.number,
        event=verdict,
        actor=event.actor,
        text=f"pull request #{event.number} was {verdict}",
        at=event.closed_at or _now(),
    )


def outcome_of_command(
    event: IssueCommentEvent, command: Command, pull: PullInfo, branch_prefix: str
) -> Outcome | None:
    """The journal record of a slash command on a bot PR (the hint is the guidance); None otherwise."""
    run = run_of(pull.head_ref, pull.body, branch_prefix)
    if run is None or pull.is_fork:
        return None
    text = f"{PREFIX} {command.verb}" + (f" {command.hint}" if command.hint else "")
    return Outcome(
        run_id=run[0],
        iteration=run[1],
        pr_number=pull.number,
        event="command",
        actor=event.author,
        text=clean_text(text),
        at=event.created_at or _now(),
    )


def outcomes_of_comments(comments: list[CommentInfo], pull: PullInfo, branch_prefix: str) -> list[Outcome]:
    """Review comments by humans on a bot PR as guidance outcomes, oldest first.

    Skips bots (the sticky comment, replies), slash commands (recorded when they run) and empty
    comments. Returns an empty list for PRs that are not the bot's.
    """
    run = run_of(pull.head_ref, pull.body, branch_prefix)
    if run is None or pull.is_fork:
        return []
    found = []
    for comment in comments:
        text = clean_text(comment.body)
        if comment.author_type == "Bot" or not text or text.startswith(STICKY_MARKER) or parse_command(text):
            continue
        found.append(
            Outcome(
                run_id=run[0],
                iteration=run[1],
                pr_number=pull.number,
                event="comment",
                actor=comment.author,
                text=text,
                at=comment.created_at or _now(),
            )
        )
    return found
