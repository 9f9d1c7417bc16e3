"""``github.max_open_prs``: where an optimize run's winner goes when bot PRs are already open.

Below the limit, a winner opens its own PR (``<branch_prefix><run-id>``). At the limit it updates the
newest open bot PR that only the bot pushed to and that holds the run's base: one commit on top of
its head (a fast-forward, never forced) whose tree is the new candidate, so the PR's diff becomes
the new candidate's. A PR with a commit by anyone else is a human's work in progress and is never
built on by a scheduled run; with no such PR to update, nothing is pushed and the run says why
(its records still reach the journal branch).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.git import git
from bot.github.action.session import Session, is_ancestor
from bot.github.journal_branch import JOURNAL_BRANCH
from bot.github.publish import PullInfo
from bot.workspace import BOT_EMAIL, BOT_IDENTITY


@dataclass(frozen=True)
class Slot:
    """Where the winner goes: a new PR (``pull`` and ``blocked`` None), an open PR to update, or
    nowhere (``blocked`` says why)."""

    pull: PullInfo | None = None
    #: The head of ``pull`` as fetched (the update's parent).
    head: str | None = None
    blocked: str | None = None


def bot_pulls(session: Session, base_branch: str) -> list[PullInfo]:
    """The open PRs into ``base_branch`` from this repository's bot branches, oldest first.

    Raises:
        GitHubError: the API failed.
    """
    prefix = session.config.github.branch_prefix
    return [pull for pull in session.publisher.open_pulls(base_branch)
            if pull.head_ref.startswith(prefix) and pull.head_ref != JOURNAL_BRANCH and not pull.is_fork]


def _others(session: Session, tip: str, head: str) -> list[str]:
    """Who else (author or committer e-mail) made a commit of ``head`` that ``tip`` lacks."""
    log = git(session.repo, "log", "--format=%ae%n%ce", f"{tip}..{head}")
    return sorted({email for email in log.split() if email != BOT_EMAIL})


def find_slot(session: Session, base_branch: str, tip: str, run_base: str) -> Slot:
    """Where a winner of a run from ``run_base`` goes (module docstring); ``tip`` is the base branch's.

    Raises:
        GitHubError: the API or a fetch failed.
    """
    limit = session.config.github.max_open_prs
    open_pulls = bot_pulls(session, base_branch)
    if len(open_pulls) < limit:
        return Slot()
    reasons = []
    for pull in reversed(open_pulls):  # the newest first
        fetched = session.remote.fetch_branch(pull.head_ref)
        head = git(session.repo, "rev-parse", f"{fetched}^{{commit}}").strip()
        others = _others(session, tip, head)
        if others:
            reasons.append(f"#{pull.number} has commits by {', '.join(others)}")
        elif not is_ancestor(session.repo, run_base, head):
            reasons.append(f"#{pull.number} was opened from an older {base_branch}")
        else:
            return Slot(pull=pull, head=head)
    numbers = ", ".join(f"#{pull.number}" for pull in open_pulls)
    return Slot(blocked=(
        f"{len(open_pulls)} GrowthHacker PR(s) into {base_branch} are open ({numbers}; "
        f"github.max_open_prs is {limit}) and none can take this run's candidate ({'; '.join(reasons)}): "
        "nothing was pushed. Merge or close one, or raise github.max_open_prs"
    ))


def update_commit(session: Session, candidate: str, parent: str) -> str:
    """A commit on top of ``parent`` (a bot PR's head) with ``candidate``'s tree and message, as the bot.

    Raises:
        WorkspaceError: git failed.
    """
    message = git(session.repo, "log", "-1", "--format=%B", candidate)
    return git(session.repo, *BOT_IDENTITY, "commit-tree", f"{candidate}^{{tree}}", "-p", parent, "-F", "-",
               input=message.encode("utf-8")).strip()
