"""Slash commands that change a bot pull request: ``iterate`` (more iterations from the PR's head) and
``undo`` (revert the bot's last commit). Both build on top of the branch and never force-push.

Receiving the command (👀, the permission check, help/status/stop, refusals) is
:func:`bot.github.handle.receive_command`; this module does the work that needs the loop or git, then
reports with :func:`bot.github.handle.finish_command` (🚀 when something was pushed, 😕 otherwise).
The hint of ``iterate`` reaches the Analyzer only as quoted data (``AnalyzerContext.hints``).

The PR description always names the candidate at the head of the branch (its hidden run marker is
what a merge or close is credited to, see :mod:`bot.github.outcomes`): ``iterate`` rewrites it for
the new commit, and ``undo`` rewrites it for the bot commit that is the newest again (read from the
``(run <id>, iteration <n>)`` line the loop writes into every candidate commit message).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from bot.errors import GrowthHackerError, JournalError, WorkspaceError
from bot.git import git
from bot.github.action.session import (
    JournalSync,
    Outputs,
    RunLoop,
    Session,
    journal_synced,
    outputs,
    plot_url,
    publish_plot,
)
from bot.github.events import IssueCommentEvent
from bot.github.handle import finish_command, receive_command
from bot.github.journal_branch import plot_path
from bot.github.outcomes import run_of
from bot.github.publish import PullInfo
from bot.github.render import check_report, pr_body, replace_run_marker, run_comment
from bot.report import md_escape
from bot.selection import judge_confirmation
from bot.workspace import BOT_EMAIL, BOT_IDENTITY, Workspace, parse_candidate_tag

_REVERTS = "This reverts commit "
#: The run a candidate commit came from, as :mod:`bot.loop` writes it in the commit message.


@dataclass(frozen=True)
class Done:
    """The result of a command's work: whether something was pushed, the reply, the step outputs."""

    ok: bool
    message: str
    outputs: Outputs


def handle_command(session: Session, event: IssueCommentEvent, run_loop: RunLoop) -> Outputs:
    """Run the ``/growthhacker`` command in ``event`` and reply on the PR.

    The command and its outcome go to the journal branch. A failure is replied (😕) and re-raised.
    Returns the step outputs.

    Raises:
        GrowthHackerError: the work failed (after replying), or GitHub could not be reached.
    """
    publisher = session.publisher
    receipt = receive_command(publisher, event, session.config.github)
    if receipt is None or (receipt.outcome is None and not receipt.needs_work):
        return outputs(pr_number=event.pr_number)
    replied = False
    try:
        with journal_synced(session) as sync:
            if receipt.outcome is not None:
                sync.journal.append(receipt.outcome)
            if not receipt.needs_work or receipt.pull is None:
                return outputs(pr_number=event.pr_number)
            if receipt.command.verb == "iterate":
                done = iterate(session, sync, receipt.pull, receipt.command.hint, run_loop)
            else:
                done = undo(session, sync, receipt.pull, event.author)
            finish_command(publisher, event, ok=done.ok, message=done.message)
            replied = True
            return done.outputs
    except GrowthHackerError as exc:
        if receipt.needs_work and not replied:
            failure = md_escape(session.scrub(str(exc)))
            finish_command(publisher, event, ok=False, message=f"`{receipt.command.verb}` failed: {failure}")
        raise


def iterate(session: Session, sync: JournalSync, pull: PullInfo, hint: str | None, run_loop: RunLoop) -> Done:
    """More iterations starting from the PR's current head, steered by ``hint``.

    A confirmed better candidate is committed on top of the head and pushed to the PR branch (a
    fast-forward: a human push in between makes the push fail rather than be overwritten); its plot
    goes to the journal branch; the PR description is rewritten for it (run marker, hypothesis,
    deltas against the earlier head, the commands), and the sticky comment and a check run on the
    new head show its deltas. Returns what happened.

    Raises:
        GitHubError: the branch is gone, or fetching/pushing/posting failed.
        GrowthHackerError: the loop could not run (config, workspace, evaluation harness, agent).
    """
    publisher, config = session.publisher, session.config
    publisher.branch_head(pull.head_ref)  # a clear error if the branch was deleted
    fetched = session.remote.fetch_branch(pull.head_ref)
    head = git(session.repo, "rev-parse", f"{fetched}^{{commit}}").strip()
    summary, run_dir = run_loop(head, [hint] if hint else [])
    best = summary.best
    if best is None or best.confirm is None or summary.baseline_confirm is None or summary.branch is None:
        message = f"No confirmed better candidate from `{head[:7]}`; nothing was pushed. {summary.reason}"
        return Done(False, md_escape(message), outputs(pr_number=pull.number))
    plot = publish_plot(session, sync, summary, run_dir)
    pushed = session.remote.push_branch(pull.head_ref, source=f"refs/heads/{summary.branch}")
    run_url = session.context.run_url
    description = pr_body(summary, run_url=run_url, plot_url=plot, previous_head=head)
    publisher.edit_pull_body(pull.number, description)
    publisher.upsert_sticky_comment(pull.number, run_comment(summary, run_url=run_url, plot_url=plot))
    report = check_report(summary.baseline_confirm, best.confirm, config)
    publisher.publish_check(pushed, report, details_url=run_url)
    gain = judge_confirmation(summary.baseline_confirm, best.confirm, config).improvement
    metric = config.evaluate.objective.metric
    message = (
        f"Pushed `{pushed[:7]}` on top of `{head[:7]}`: {md_escape(best.hypothesis)} "
        f"({md_escape(metric)} {gain:+.1%} on the held-out seeds; run `{summary.run_id}`, "
        f"iteration {best.iteration}). The PR description now describes this candidate; the comment "
        "above has the deltas."
    )
    return Done(True, message, outputs(pull.number, best.confirm.mean(metric), gain))


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


def undo(session: Session, sync: JournalSync, pull: PullInfo, requested_by: str) -> Done:
    """Revert the bot's last (not yet reverted) commit on the PR branch with a new commit, and push.

    The PR description is then rewritten for the candidate that is the head's again (see
    :func:`restore_description`). Returns what happened; nothing is pushed when the bot has no
    commit left to undo.

    Raises:
        GitHubError: the branch is gone, or fetching/pushing failed (a human push in between).
        WorkspaceError: the revert does not apply cleanly.
    """
    session.publisher.branch_head(pull.head_ref)
    head = git(session.repo, "rev-parse", f"{session.remote.fetch_branch(pull.head_ref)}^{{commit}}").strip()
    base = session.remote.fetch_branch(pull.base_ref)
    target = last_bot_commit(session.repo, base, head)
    if target is None:
        message = f"Nothing to undo: `{pull.head_ref}` has no GrowthHacker commit that is not reverted yet."
        return Done(False, message, outputs(pr_number=pull.number))
    reverted = revert_on_top(session.repo, head, target, requested_by)
    pushed = session.remote.push_branch(pull.head_ref, source=reverted)
    described = restore_description(session, sync, pull, base, pushed)
    message = (
        f"Reverted `{target.sha[:7]}` ({md_escape(target.subject)}) with `{pushed[:7]}` on top of "
        f"`{pull.head_ref}`; the history is kept (no force-push). {described} `/growthhacker undo` "
        "again reverts the bot's commit before it."
    )
    return Done(True, message, outputs(pr_number=pull.number))


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
    from_base = _is_ancestor(session.repo, summary.base_commit, base)
    # No workflow-run link: this job is the undo, not the run that measured the candidate (the
    # journal does not keep that run's URL).
    body = pr_body(summary, plot_url=plot, previous_head=None if from_base else summary.base_commit)
    publisher.edit_pull_body(pull.number, body)
    publisher.upsert_sticky_comment(pull.number, run_comment(summary, plot_url=plot))
    return f"The PR description and the comment above describe run `{run_id}`, iteration {iteration} again."


def _is_ancestor(repo: Path, commit: str, of: str) -> bool:
    """True if ``commit`` is in the history of ``of`` (False also when git does not know ``commit``)."""
    found = git(repo, "merge-base", commit, of, check=False).strip()
    return bool(found) and found == git(repo, "rev-parse", "--verify", "--quiet", commit, check=False).strip()
