"""The outcome mode: a closed or merged bot pull request and its review comments, into the journal."""

from __future__ import annotations

import functools

from bot.github.action.session import (
    Outputs,
    Session,
    journal_synced,
    outputs,
)
from bot.github.commands import has_permission
from bot.github.events import PullRequestEvent
from bot.github.outcomes import outcome_of_closed, outcomes_of_comments
from bot.github.step_files import append_step_summary


def record_outcome(session: Session, event: PullRequestEvent) -> Outputs:
    """Journal a closed or merged bot PR: the verdict plus the review comments of users with at least
    ``github.allowed_commenters`` (nobody else's text reaches the journal, and so the Analyzer).

    The records go to the journal branch, where the next run's Analyzer reads them (best-first,
    with the verdict and the comments as quoted feedback). Returns the step outputs.

    Raises:
        GitHubError: the PR or its comments cannot be read, or the journal branch cannot be written.
    """
    prefix = session.config.github.branch_prefix
    verdict = outcome_of_closed(event, prefix)
    if verdict is None:
        print(f"pull request #{event.number} is not a GrowthHacker PR: no outcome to record")
        return outputs(pr_number=event.number)
    publisher = session.publisher
    allowed = session.config.github.allowed_commenters
    trusted = functools.cache(lambda login: has_permission(publisher.repo, login, allowed))
    comments = outcomes_of_comments(publisher.list_comments(event.number), publisher.pull_info(event.number),
                                    prefix, trusted)
    with journal_synced(session) as sync:
        for outcome in [*comments, verdict]:
            sync.journal.append(outcome)
    iteration = "" if verdict.iteration is None else f", iteration {verdict.iteration}"
    append_step_summary(
        session.context.step_summary,
        f"Recorded: pull request #{event.number} {verdict.event} (run `{verdict.run_id}`{iteration}), "
        f"with {len(comments)} review comment(s), in the journal branch.",
    )
    return outputs(pr_number=event.number)
