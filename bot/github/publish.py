"""Writing to GitHub through the API: pull requests, labels, the sticky comment, check runs or commit
statuses, reactions and replies (pushes are in :mod:`bot.github.git_remote`).

:class:`Publisher` wraps one repository of a PyGithub client (see :func:`bot.github.client.connect`);
every method turns API failures into :class:`~bot.errors.GitHubError` with a message that says what
to do.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from typing import Literal

from github import Github
from github.GithubException import GithubException, UnknownObjectException
from github.GithubObject import NotSet
from github.Issue import Issue
from github.IssueComment import IssueComment
from github.PullRequest import PullRequest

from bot.errors import GitHubError
from bot.github.client import api_message, github_errors
from bot.github.render import STICKY_MARKER, VERIFY_MARKER, CheckReport, truncate_body

Reaction = Literal["eyes", "rocket", "confused", "+1", "-1", "hooray"]
#: ``user.type`` of GitHub accounts that only an app can post as (``github-actions[bot]``, ``<app>[bot]``).
BOT_TYPE = "Bot"
#: Label that marks a PR the bot must not run on again (``/growthhacker stop``).
STOP_LABEL = "growthhacker:stopped"
_STATUS_STATE = {"success": "success", "neutral": "success", "failure": "failure"}


@dataclass(frozen=True)
class PullRequestRef:
    """A pull request the bot created or updated."""

    number: int
    url: str
    created: bool


@dataclass(frozen=True)
class PullInfo:
    """What the bot needs to know about a pull request before acting on it."""

    number: int
    state: str
    merged: bool
    title: str
    body: str
    author: str
    head_ref: str
    head_sha: str
    head_repo: str | None
    base_ref: str
    base_repo: str
    labels: tuple[str, ...]

    @property
    def is_fork(self) -> bool:
        """True if the head branch lives in another (or a deleted) repository."""
        return self.head_repo != self.base_repo

    @property
    def stopped(self) -> bool:
        """True after ``/growthhacker stop``."""
        return STOP_LABEL in self.labels


@dataclass(frozen=True)
class CommentInfo:
    """One conversation comment on a pull request."""

    id: int
    author: str
    author_type: str
    body: str
    created_at: str


class Publisher:
    """GitHub writes for one repository (``owner/name``).

    The sticky comment is only ever a comment by the bot: by ``bot_login`` when given (needed for a
    personal access token, whose comments are by a ``User``), else by any ``Bot`` account, which no
    human can post as (the Actions token posts as ``github-actions[bot]``, a GitHub App as
    ``<app>[bot]``). So a human who pastes the marker can neither get a comment edited nor hide the
    bot's. The login is not looked up from the token: ``GET /user`` refuses installation tokens.
    """

    def __init__(self, gh: Github, repository: str, *, bot_login: str | None = None) -> None:
        """``bot_login``: the account the bot posts as; None accepts any ``Bot`` account (see above)."""
        self.gh = gh
        self.repository = repository
        self.bot_login = bot_login
        self.repo = gh.get_repo(repository)

    # ---- pull requests -----------------------------------------------------------------------
    def ensure_pull_request(
        self, *, head: str, base: str, title: str, body: str, labels: list[str] | None = None
    ) -> PullRequestRef:
        """Open a PR from branch ``head`` into ``base``, or update the open one (title, body).

        Returns the PR and whether it was created. Handles the race where the PR already exists
        (GitHub answers 422 "A pull request already exists"). Adds ``labels``.

        Raises:
            GitHubError: ``head`` or ``base`` does not exist on GitHub (push first), or the API failed.
        """
        body = truncate_body(body)
        with github_errors(f"opening the pull request {head} → {base} on {self.repository}"):
            try:
                pull = self.repo.create_pull(base=base, head=head, title=title, body=body)
                created = True
            except GithubException as exc:
                message = api_message(exc)
                if exc.status != 422:
                    raise
                if "already exists" not in message:
                    raise GitHubError(
                        f"cannot open a PR from {head!r} into {base!r} on {self.repository}: {message}; "
                        "does the branch exist there (push it first) and differ from the base?"
                    ) from exc
                pull = self._open_pull(head, base, message)
                pull.edit(title=title, body=body)
                created = False
            number, url = pull.number, pull.html_url
        if labels:
            self.add_labels(number, labels)
        return PullRequestRef(number=number, url=url, created=created)

    def _open_pull(self, head: str, base: str, message: str) -> PullRequest:
        owner = self.repository.split("/")[0]
        existing = list(self.repo.get_pulls(state="open", head=f"{owner}:{head}", base=base))
        if not existing:
            raise GitHubError(
                f"GitHub says a PR from {head} exists ({message}), but none is open into {base}"
            )
        return existing[0]

    def pull_info(self, number: int) -> PullInfo:
        """The current state of PR ``number``.

        Raises:
            GitHubError: the PR does not exist, or the API failed.
        """
        with github_errors(f"reading pull request #{number} of {self.repository}"):
            return _info(self.repo.get_pull(number))

    def open_pulls(self, base: str) -> list[PullInfo]:
        """The open pull requests into ``base``, oldest first.

        Raises:
            GitHubError: the API failed.
        """
        with github_errors(f"listing the open pull requests into {base} of {self.repository}"):
            pulls = [_info(pull) for pull in self.repo.get_pulls(state="open", base=base)]
        return sorted(pulls, key=lambda pull: pull.number)

    def edit_pull_body(self, number: int, body: str, title: str | None = None) -> None:
        """Replace the description of PR ``number`` with ``body`` (cut to GitHub's limit), and its
        title with ``title`` if given.

        Raises:
            GitHubError: the PR does not exist, or the API failed.
        """
        with github_errors(f"updating the description of pull request #{number}"):
            pull = self.repo.get_pull(number)
            if title is None:
                pull.edit(body=truncate_body(body))
            else:
                pull.edit(title=title, body=truncate_body(body))

    def branch_head(self, branch: str) -> str:
        """The commit sha ``branch`` points to on GitHub.

        Raises:
            GitHubError: the branch does not exist (deleted after merge or close?), or the API failed.
        """
        with github_errors(f"reading branch {branch} of {self.repository}"):
            try:
                return self.repo.get_git_ref(f"heads/{branch}").object.sha
            except UnknownObjectException as exc:
                raise GitHubError(
                    f"branch {branch!r} no longer exists on {self.repository} (deleted after the PR was "
                    "merged or closed?); nothing to iterate on or undo: start a new run instead"
                ) from exc

    def add_labels(self, number: int, labels: list[str]) -> None:
        """Add ``labels`` to issue/PR ``number`` (GitHub creates missing labels).

        Raises:
            GitHubError: the API failed.
        """
        # PyGithub's add_to_labels sends a bare JSON array, which GitHub's published description no
        # longer documents; send the documented {"labels": [...]} form through its public requester.
        with github_errors(f"labelling #{number} with {', '.join(labels)}"):
            self.gh.requester.requestJsonAndCheck(
                "POST", f"{self.repo.url}/issues/{number}/labels", input={"labels": labels}
            )

    # ---- comments ----------------------------------------------------------------------------
    def list_comments(self, number: int) -> list[CommentInfo]:
        """All conversation comments on PR ``number``, oldest first.

        Raises:
            GitHubError: the API failed.
        """
        with github_errors(f"listing the comments of #{number}"):
            return [
                CommentInfo(
                    id=c.id,
                    author=c.user.login if c.user is not None else "",
                    author_type=c.user.type if c.user is not None else "",
                    body=c.body or "",
                    created_at=c.created_at.isoformat() if c.created_at else "",
                )
                for c in self.repo.get_issue(number).get_comments()
            ]

    def upsert_sticky_comment(self, number: int, body: str, marker: str = STICKY_MARKER) -> int:
        """Create or edit in place the one bot comment on PR ``number`` marked by ``marker``
        (:data:`STICKY_MARKER` for runs, :data:`VERIFY_MARKER` for the verify workflow).

        Returns the comment id. Duplicates left by runs racing are deleted (the oldest is kept), both
        before editing and right after posting a new one, and a sticky comment deleted meanwhile is
        re-created.

        Raises:
            GitHubError: the API failed.
        """
        if marker not in (STICKY_MARKER, VERIFY_MARKER):
            raise ValueError(f"unknown sticky-comment marker {marker!r}")
        text = body if body.lstrip().startswith(marker) else f"{marker}\n{body}"
        text = truncate_body(text)
        with github_errors(f"updating the GrowthHacker comment on #{number}"):
            issue = self.repo.get_issue(number)
            stickies = sorted((c for c in issue.get_comments() if self._is_sticky(c, marker)),
                              key=lambda c: c.id)
            for duplicate in stickies[1:]:
                with contextlib.suppress(UnknownObjectException):  # a concurrent run deleted it first
                    duplicate.delete()
            if stickies:
                try:
                    stickies[0].edit(text)
                    return stickies[0].id
                except UnknownObjectException:
                    pass  # deleted since we listed it: fall through and post a fresh one
            posted = issue.create_comment(text)
            if not self._is_sticky(posted, marker):
                author = posted.user.login if posted.user is not None else "?"
                expected = self.bot_login or "a Bot account"
                print(
                    f"warning: the token posts as {author}, not {expected}, so the next run cannot "
                    f"recognise this comment and will post another: pass --bot-login {author} "
                    "(GROWTHHACKER_BOT_LOGIN)",
                    file=sys.stderr,
                )
            return self._settle_sticky(issue, posted.id, text, marker)

    def _settle_sticky(self, issue: Issue, created: int, text: str, marker: str) -> int:
        """After posting a sticky comment, keep only the oldest if a concurrent run posted one too.

        Two runs that listed the PR's comments before either posted would otherwise leave two
        sticky comments. Each keeps the oldest, deletes the rest (already deleted by the other run
        is fine) and writes its text into the one kept, so the last run to finish is what shows.
        """
        stickies = sorted((c for c in issue.get_comments() if self._is_sticky(c, marker)), key=lambda c: c.id)
        if len(stickies) <= 1:
            return created
        for duplicate in stickies[1:]:
            with contextlib.suppress(UnknownObjectException):
                duplicate.delete()
        with contextlib.suppress(UnknownObjectException):
            if stickies[0].id != created:
                stickies[0].edit(text)
        return stickies[0].id

    def _is_sticky(self, comment: IssueComment, marker: str) -> bool:
        """True for the bot's own comment starting with ``marker`` (see the class docstring)."""
        if comment.user is None or not (comment.body or "").lstrip().startswith(marker):
            return False
        if self.bot_login is not None:
            return bool(comment.user.login == self.bot_login)
        return bool(comment.user.type == BOT_TYPE)

    def reply(self, number: int, body: str) -> int:
        """Post a new comment on PR ``number``; returns its id.

        Raises:
            GitHubError: the API failed.
        """
        with github_errors(f"replying on #{number}"):
            return self.repo.get_issue(number).create_comment(truncate_body(body)).id

    def react(self, number: int, comment_id: int, reaction: Reaction) -> None:
        """Add ``reaction`` to comment ``comment_id`` on PR ``number`` (idempotent).

        Raises:
            GitHubError: the comment is gone, or the API failed.
        """
        with github_errors(f"reacting {reaction} to comment {comment_id}"):
            self.repo.get_issue(number).get_comment(comment_id).create_reaction(reaction)

    # ---- checks ------------------------------------------------------------------------------
    def publish_check(
        self,
        head_sha: str,
        report: CheckReport,
        *,
        name: str = "GrowthHacker",
        details_url: str | None = None,
    ) -> Literal["check_run", "status"]:
        """Show ``report`` on commit ``head_sha`` as a completed check run.

        Falls back to a commit status when the token may not create check runs (GitHub allows check
        runs only for GitHub Apps, e.g. the Actions token; a personal token gets 403). Returns which
        one was created.

        Raises:
            GitHubError: neither could be created.
        """
        output: dict[str, str | list[dict[str, str | int]]] = {
            "title": report.title,
            "summary": report.summary,
        }
        with github_errors(f"creating the {name} check run on {head_sha[:12]}"):
            try:
                self.repo.create_check_run(
                    name=name,
                    head_sha=head_sha,
                    status="completed",
                    conclusion=report.conclusion,
                    output=output,
                    details_url=details_url or NotSet,
                )
                return "check_run"
            except GithubException as exc:
                if exc.status != 403:
                    raise
            # A status has no "neutral" and a 140-character description.
            self.repo.get_commit(head_sha).create_status(
                state=_STATUS_STATE[report.conclusion],
                description=report.title[:140],
                context=name,
                target_url=details_url or NotSet,
            )
            return "status"


def _info(pull: PullRequest) -> PullInfo:
    head_repo = pull.head.repo.full_name if pull.head.repo is not None else None
    return PullInfo(
        number=pull.number,
        state=pull.state,
        merged=bool(pull.merged),
        title=pull.title or "",
        body=pull.body or "",
        author=pull.user.login if pull.user is not None else "",
        head_ref=pull.head.ref,
        head_sha=pull.head.sha,
        head_repo=head_repo,
        base_ref=pull.base.ref,
        base_repo=pull.base.repo.full_name,
        labels=tuple(label.name for label in pull.labels),
    )
