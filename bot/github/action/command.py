"""Slash commands, in the jobs of the command workflow.

``receive`` (a write job that runs no repository code) acknowledges the comment, checks the
commenter's permission and does everything that needs neither the loop nor a push (help, status,
stop, refusals; see :func:`bot.github.handle.receive_command`); it records the command in the
journal and tells the workflow, through its outputs ``work`` and ``head-sha``, which job runs next:

- ``iterate`` runs the loop in the read-only ``search`` job from the PR's head (the hint reaches the
  Analyzer only as quoted data) and the ``publish`` job commits its proposal on top of the branch
  (:func:`bot.github.action.propose.publish_iterate`);
- ``undo`` runs in its own write job (:func:`undo`): it reverts the bot's last commit with a new
  commit on top, which runs no repository code either.

Both build on top of the branch and never force-push. The PR description always names the candidate
at the head of the branch (its hidden run marker is what a merge or close is credited to, see
:mod:`bot.github.outcomes`): ``iterate`` rewrites it for the new commit, and ``undo`` for the bot
commit that is the newest again (read from the ``(run <id>, iteration <n>)`` line the loop writes
into every candidate commit message).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ActionEnvironmentError, GitHubError, GrowthHackerError, JournalError, WorkspaceError
from bot.git import git
from bot.github.action.session import (
    JournalSync,
    Outputs,
    Session,
    is_ancestor,
    journal_synced,
    outputs,
    plot_url,
)
from bot.github.commands import ensure_permission, parse_command
from bot.github.events import IssueCommentEvent
from bot.github.handle import finish_command, not_actionable, receive_command
from bot.github.journal_branch import plot_path
from bot.github.outcomes import run_of
from bot.github.publish import PullInfo
from bot.github.render import pr_body, replace_run_marker, run_comment
from bot.report import md_escape
from bot.workspace import BOT_EMAIL, BOT_IDENTITY, Workspace, parse_candidate_tag

_REVERTS = "This reverts commit "


def receive(session: Session, event: IssueCommentEvent) -> Outputs:
    """Receive the ``/growthhacker`` command in ``event``; record it; say which job works on it.

    Returns the step outputs plus ``work`` (``iterate``, ``undo`` or empty) and ``head-sha`` (the
    head of the PR's branch the work starts from).

    Raises:
        GitHubError: GitHub could not be reached, the PR's branch is gone (replied first), or the
            journal branch cannot be written.
    """
    publisher = session.publisher
    receipt = receive_command(publisher, event, session.config.github)
    result = {**outputs(pr_number=event.pr_number), "work": "", "head-sha": ""}
    if receipt is None:
        return result
    if receipt.outcome is not None:
        with journal_synced(session) as sync:
            sync.journal.append(receipt.outcome)
    if receipt.needs_work and receipt.pull is not None:
        verb = receipt.command.verb
        try:
            head = publisher.branch_head(receipt.pull.head_ref)  # a clear error if it was deleted
        except GitHubError as exc:
            failure = md_escape(session.scrub(str(exc)))
            finish_command(publisher, event, ok=False, message=f"`{verb}` failed: {failure}")
            raise
        result |= {"work": verb, "head-sha": head}
    return result


def accepted_command(session: Session, event: IssueCommentEvent, verb: str) -> None:
    """Check again what the receive job accepted before this job works on it: the comment is a
    ``verb`` command and its author has the permission (the workflow's ``if:`` is the gate; this
    keeps a workflow edited without it from obeying anyone).

    Raises:
        ActionEnvironmentError: the comment is not that command (this job runs only after receive).
        PermissionDenied: the author lost the permission meanwhile.
    """
    command = parse_command(event.body)
    if command is None or command.verb != verb:
        raise ActionEnvironmentError(
            f"this job does `/growthhacker {verb}`, but the comment says otherwise: run it only after the "
            "receive job (the workflows `growthhacker init` writes do)"
        )
    ensure_permission(session.publisher.repo, event.author, session.config.github.allowed_commenters)


@dataclass(frozen=True)
class BotCommit:
    """A commit the bot made on a PR branch, and the (run id, iteration) it came from if it says."""

    sha: str
    subject: str
    run: tuple[str, int] | None = None


def last_bot_commit(repo: Path, base: str, head: str) -> BotCommit | None:
    """The newest commit by the bot on ``base..head`` that is not a revert and not reverted yet.

    Returns None when there is none (e.g. everything the bot did is already undone).
    """
    log = git(repo, "log", "--first-parent", "--format=%H%x1f%ae%x1f%s%x1f%b%x1e", f"{base}..{head}")
    entries = [e.strip("\n").split("\x1f") for e in log.split("\x1e") if e.strip()]
    reverted = {
        line[len(_REVERTS):].split()[0].rstrip(".")
        for *_, body in entries
        for line in body.splitlines()
        if line.startswith(_REVERTS)
    }
    for sha, email, subject, body in entries:
        if email == BOT_EMAIL and _REVERTS not in body and sha not in reverted:
            return BotCommit(sha, subject, parse_candidate_tag(f"{subject}\n{body}"))
    return None


def revert_on_top(repo: Path, head: str, commit: BotCommit, requested_by: str) -> str:
    """A new commit on top of ``head`` that reverts ``commit``; returns its sha (nothing is pushed).

    Raises:
        WorkspaceError: later commits changed the same lines, so the revert does not apply cleanly.
    """
    workspace = Workspace.open(repo, f"undo-{secrets.token_hex(3)}", head)
    try:
        try:
            git(workspace.root, "revert", "--no-commit", commit.sha)
        except WorkspaceError as exc:
            git(workspace.root, "revert", "--abort", check=False)
            raise WorkspaceError(
                f"cannot revert {commit.sha[:7]} cleanly: later commits change the same lines; "
                "revert it by hand"
            ) from exc
        message = (
            f'Revert "{commit.subject}"\n\n{_REVERTS}{commit.sha}.\n'
            f"Requested by @{requested_by} with /growthhacker undo.\n"
        )
        git(workspace.root, *BOT_IDENTITY, "commit", "-q", "--no-verify", "-F", "-",
            input=message.encode("utf-8"))
        return git(workspace.root, "rev-parse", "HEAD").strip()
    finally:
        workspace.remove()


def undo(session: Session, event: IssueCommentEvent) -> Outputs:
    """Revert the bot's last (not yet reverted) commit on the PR branch with a new commit, and push;
    reply on the PR (🚀, or 😕 with the reason).

    The PR description is then rewritten for the candidate that is the head's again (see
    :func:`restore_description`); nothing is pushed when the bot has no commit left to undo.
    Returns the step outputs.

    Raises:
        GitHubError: the branch is gone, or fetching/pushing failed (a human push in between); the
            failure is replied first.
        WorkspaceError: the revert does not apply cleanly (replied first).
    """
    publisher = session.publisher
    try:
        accepted_command(session, event, "undo")
        pull = publisher.pull_info(event.pr_number)
        problem = not_actionable(pull, session.config.github)
        if problem is not None:
            finish_command(publisher, event, ok=False, message=f"I cannot `undo` here: {problem}.")
            return outputs(pr_number=event.pr_number)
        with journal_synced(session) as sync:
            ok, message = _undo(session, sync, pull, event.author)
    except GrowthHackerError as exc:
        failure = md_escape(session.scrub(str(exc)))
        finish_command(publisher, event, ok=False, message=f"`undo` failed: {failure}")
        raise
    finish_command(publisher, event, ok=ok, message=message)
    return outputs(pr_number=pull.number)


def _undo(session: Session, sync: JournalSync, pull: PullInfo, requested_by: str) -> tuple[bool, str]:
    session.publisher.branch_head(pull.head_ref)
    head = git(session.repo, "rev-parse", f"{session.remote.fetch_branch(pull.head_ref)}^{{commit}}").strip()
    base = session.remote.fetch_branch(pull.base_ref)
    target = last_bot_commit(session.repo, base, head)
    if target is None:
        nothing = f"Nothing to undo: `{pull.head_ref}` has no GrowthHacker commit that is not reverted yet."
        return False, nothing
    reverted = revert_on_top(session.repo, head, target, requested_by)
    pushed = session.remote.push_branch(pull.head_ref, source=reverted)
    described = restore_description(session, sync, pull, base, pushed)
    message = (
        f"Reverted `{target.sha[:7]}` ({md_escape(target.subject)}) with `{pushed[:7]}` on top of "
        f"`{pull.head_ref}`; the history is kept (no force-push). {described} `/growthhacker undo` "
        "again reverts the bot's commit before it."
    )
    return True, message


def restore_description(session: Session, sync: JournalSync, pull: PullInfo, base: str, head: str) -> str:
    """Point the PR description at the bot candidate that is newest on ``base..head`` after an undo.

    With that candidate's run in the journal, the description is rendered again from it (marker,
    hypothesis, deltas, plot) and so is the sticky comment; otherwise only the run marker is changed.
    With no bot candidate left, the marker names the branch's run without an iteration, so a merge
    is not credited to a candidate that is no longer in the PR. Returns a sentence for the reply.

    Raises:
        GitHubError: the description or the comment cannot be updated.
    """
    publisher = session.publisher
    current = last_bot_commit(session.repo, base, head)
    if current is None or current.run is None:
        owner = run_of(pull.head_ref, "", session.config.github.branch_prefix)
        run_id = owner[0] if owner else pull.head_ref
        publisher.edit_pull_body(pull.number, replace_run_marker(pull.body, run_id, None))
        return "No GrowthHacker candidate is left on the branch; the PR description no longer names one."
    run_id, iteration = current.run
    try:
        summary = sync.journal.summary(run_id)
    except JournalError:
        summary = None
    if summary is None or summary.best is None or summary.best.iteration != iteration:
        publisher.edit_pull_body(pull.number, replace_run_marker(pull.body, run_id, iteration))
        return f"The PR description now names run `{run_id}`, iteration {iteration} again."
    plot = plot_url(session, run_id) if sync.on_branch(plot_path(run_id)) else None
    from_base = is_ancestor(session.repo, summary.base_commit, base)
    # No workflow-run link: this job is the undo, not the run that measured the candidate (the
    # journal does not keep that run's URL).
    body = pr_body(summary, plot_url=plot, previous_head=None if from_base else summary.base_commit)
    publisher.edit_pull_body(pull.number, body)
    publisher.upsert_sticky_comment(pull.number, run_comment(summary, plot_url=plot))
    return f"The PR description and the comment above describe run `{run_id}`, iteration {iteration} again."
