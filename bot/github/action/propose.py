"""The publish job: the search job's proposal, checked, becomes a branch, a pull request, the sticky
comment, a check run and the run's journal records.

It runs no repository code: it reads the config committed at the proposal's base through git,
applies the diff with the patch engine in a private worktree (nothing of it runs), commits it as the
bot, and writes through the API and git. Nothing is written before every check has passed: the
artifact (:func:`~bot.github.action.proposal.read_proposal`), the base (a commit of the base
branch), the winner judged again under the base's config, and the diff applied to the base within
that config's editable paths. A run without a proposal (no candidate, or a search that failed) only
adds its records to the journal branch.
"""

from __future__ import annotations

from bot.config import Config
from bot.errors import ArtifactError, GitHubError, GrowthHackerError, PatchError
from bot.git import git
from bot.github.action.command import accepted_command
from bot.github.action.open_prs import Slot, find_slot, update_commit
from bot.github.action.proposal import Proposal, check_winner, read_proposal
from bot.github.action.session import Outputs, Session, is_ancestor, journal_synced, outputs, plot_url
from bot.github.events import IssueCommentEvent
from bot.github.handle import finish_command, not_actionable, stopped_text
from bot.github.journal_branch import plot_path
from bot.github.publish import PullInfo
from bot.github.render import check_report, pr_body, pr_title, run_comment
from bot.github.step_files import append_step_summary
from bot.report import md_escape, render_markdown
from bot.workspace import Workspace, candidate_message, config_at


def base_config(session: Session, base: str) -> Config:
    """The config committed at ``base``, which decides what a proposal may change.

    Raises:
        ArtifactError: ``base`` has no config.
        ConfigError: it is invalid.
    """
    config = config_at(session.repo, base, session.config_file)
    if config is None:
        raise ArtifactError(f"the artifact's base {base[:12]} has no GrowthHacker config: refused")
    return config


def commit_proposal(session: Session, proposal: Proposal, config: Config, gain: float, branch: str) -> str:
    """Commit the proposal's diff on top of its base as the local ``branch``; returns the commit.

    The diff goes through the patch engine with the path policy of ``config``: a path outside its
    editable paths, a protected path, a symlink, binary content or a mode change refuses it.

    Raises:
        ArtifactError: the diff is refused or does not apply to the base.
    """
    summary, base = proposal.summary, proposal.manifest.base_sha
    assert summary is not None and summary.best is not None
    best = summary.best
    message = candidate_message(best.hypothesis, config.evaluate.objective.metric, gain,
                                config.evaluate.seeds.confirm, summary.run_id, best.iteration)
    workspace = Workspace.open(session.repo, f"publish-{summary.run_id}", base)
    try:
        return workspace.commit_candidate(branch, proposal.diff, message, workspace.policy(config.edit))
    except PatchError as exc:
        raise ArtifactError(f"the artifact's diff does not go onto its base {base[:12]}: {exc}: "
                            "refused") from exc
    finally:
        workspace.remove()


def publish_optimize(session: Session) -> Outputs:
    """Publish an optimize run: its records to the journal branch, and a proposal as a pull request
    from ``<branch_prefix><run-id>`` into ``github.base`` with the sticky comment and a check run.

    Returns the step outputs.

    Raises:
        ArtifactError: the artifact is refused (then nothing is written).
        GitHubError: git or the API failed.
    """
    config, context = session.config, session.context
    prefix, base_branch = config.github.branch_prefix, config.github.base
    proposal = read_proposal(session.artifact, kind="optimize", repository=context.repository,
                             workflow_run=context.run_id, branch_prefix=prefix)
    base = proposal.manifest.base_sha
    tip = session.remote.fetch_branch(base_branch)
    if not is_ancestor(session.repo, base, tip):
        raise ArtifactError(f"the artifact's base {base[:12]} is not a commit of {base_branch}: refused")
    summary = proposal.summary
    trusted = base_config(session, base) if proposal.proposed else None
    head, gain, slot = None, 0.0, Slot()
    if trusted is not None and summary is not None:
        gain = check_winner(proposal, trusted)
        head = commit_proposal(session, proposal, trusted, gain, f"{prefix}{summary.run_id}")
        slot = find_slot(session, base_branch, tip, base)
    # Every check passed: from here on the job writes.
    with journal_synced(session) as sync:
        sync.journal.merge(proposal.lines)
        if head is not None and summary is not None and proposal.plot is not None and slot.blocked is None:
            sync.attach(plot_path(summary.run_id), proposal.plot)
    if head is None or trusted is None or summary is None or slot.blocked is not None:
        why = slot.blocked or proposal.manifest.reason or "no candidate"
        note = f"Nothing to publish: {md_escape(why)}" if summary is None else render_markdown(summary,
                                                                                               plot_name=None)
        if slot.blocked is not None:
            note = f"> [!NOTE]\n> {md_escape(slot.blocked)}.\n\n{note}"
        append_step_summary(context.step_summary, f"Recorded in the journal branch.\n\n{note}")
        print(f"nothing to propose ({why}); the run's records are on the journal branch")
        return outputs()
    best = summary.best
    assert best is not None and best.confirm is not None and summary.baseline_confirm is not None
    plot = plot_url(session, summary.run_id) if proposal.plot is not None else None
    body = pr_body(summary, run_url=context.run_url, plot_url=plot)
    if slot.pull is not None and slot.head is not None:  # github.max_open_prs reached: update that PR
        update = update_commit(session, head, slot.head)
        pushed = session.remote.push_branch(slot.pull.head_ref, source=update)
        session.publisher.edit_pull_body(slot.pull.number, body, title=pr_title(summary))
        number, url, verb = slot.pull.number, slot.pull.head_ref, "updated (github.max_open_prs reached)"
    else:
        branch = f"{prefix}{summary.run_id}"
        pushed = session.remote.push_branch(branch, source=head)
        try:
            pull = session.publisher.ensure_pull_request(
                head=branch, base=base_branch, title=pr_title(summary), body=body,
                labels=list(config.github.labels))
        except GitHubError:
            # No PR, no use for the branch (a 403 when Actions may not create PRs): do not leave it.
            try:
                session.remote.delete_branch(branch, pushed)
            except GitHubError as exc:  # keep the PR's error; this one is secondary
                print(f"warning: {session.scrub(str(exc))}")
            raise
        number, url, verb = pull.number, pull.url, "opened" if pull.created else "updated"
    comment = run_comment(summary, run_url=context.run_url, plot_url=plot)
    session.publisher.upsert_sticky_comment(number, comment)
    check = check_report(summary.baseline_confirm, best.confirm, trusted)
    session.publisher.publish_check(pushed, check, details_url=context.run_url)
    append_step_summary(context.step_summary, f"Pull request {verb}: #{number} {url}")
    return outputs(number, best.confirm.mean(trusted.evaluate.objective.metric), gain)


def publish_iterate(session: Session, event: IssueCommentEvent) -> Outputs:
    """Publish an iterate run on the PR it was asked on: its records to the journal branch and its
    proposal as a new commit on top of the PR's branch (a fast-forward, never forced), with the
    description, the sticky comment and a check run rewritten for it. Replies 🚀, or 😕 with why
    nothing was pushed. Returns the step outputs.

    Raises:
        ArtifactError: the artifact is refused (replied; nothing else is written).
        GitHubError: git or the API failed (replied first).
    """
    publisher = session.publisher
    try:
        accepted_command(session, event, "iterate")
        pull = publisher.pull_info(event.pr_number)
        problem = not_actionable(pull, session.config.github) or (stopped_text() if pull.stopped else None)
        if problem is not None:
            finish_command(publisher, event, ok=False, message=f"I cannot `iterate` here: {problem}.")
            return outputs(pr_number=pull.number)
        ok, message, result = _publish_iterate(session, event, pull)
    except GrowthHackerError as exc:
        failure = md_escape(session.scrub(str(exc)))
        finish_command(publisher, event, ok=False, message=f"`iterate` failed: {failure}")
        raise
    finish_command(publisher, event, ok=ok, message=message)
    return result


def _publish_iterate(
    session: Session, event: IssueCommentEvent, pull: PullInfo
) -> tuple[bool, str, Outputs]:
    context, prefix = session.context, session.config.github.branch_prefix
    proposal = read_proposal(session.artifact, kind="iterate", repository=context.repository,
                             workflow_run=context.run_id, branch_prefix=prefix, pr_number=pull.number)
    base = proposal.manifest.base_sha
    fetched = session.remote.fetch_branch(pull.head_ref)
    head = git(session.repo, "rev-parse", f"{fetched}^{{commit}}").strip()
    if not is_ancestor(session.repo, base, head):
        raise ArtifactError(f"the artifact's base {base[:12]} is not a commit of {pull.head_ref}: refused")
    summary = proposal.summary
    trusted = base_config(session, base) if proposal.proposed and base == head else None
    commit, gain = None, 0.0
    if trusted is not None and summary is not None:
        gain = check_winner(proposal, trusted)
        commit = commit_proposal(session, proposal, trusted, gain, f"{prefix}{summary.run_id}")
    # Every check passed: from here on the job writes.
    with journal_synced(session) as sync:
        sync.journal.merge(proposal.lines)
        if commit is not None and summary is not None and proposal.plot is not None:
            sync.attach(plot_path(summary.run_id), proposal.plot)
    if proposal.proposed and base != head:
        moved = (f"The branch moved while the search ran (it started from `{base[:7]}`, the branch is at "
                 f"`{head[:7]}`): nothing was pushed. Ask again to iterate from the new head.")
        return False, moved, outputs(pr_number=pull.number)
    if commit is None or trusted is None or summary is None:
        why = md_escape(proposal.manifest.reason or "no candidate")
        verb = "failed" if proposal.manifest.status == "failed" else "found nothing to push"
        return False, f"`iterate` {verb} from `{base[:7]}`: {why}", outputs(pr_number=pull.number)
    best = summary.best
    assert best is not None and best.confirm is not None and summary.baseline_confirm is not None
    plot = plot_url(session, summary.run_id) if proposal.plot is not None else None
    pushed = session.remote.push_branch(pull.head_ref, source=commit)
    session.publisher.edit_pull_body(pull.number, pr_body(summary, run_url=context.run_url, plot_url=plot,
                                                          previous_head=base))
    session.publisher.upsert_sticky_comment(pull.number, run_comment(summary, run_url=context.run_url,
                                                                     plot_url=plot))
    check = check_report(summary.baseline_confirm, best.confirm, trusted)
    session.publisher.publish_check(pushed, check, details_url=context.run_url)
    metric = trusted.evaluate.objective.metric
    message = (
        f"Pushed `{pushed[:7]}` on top of `{base[:7]}`: {md_escape(best.hypothesis)} "
        f"({md_escape(metric)} {gain:+.1%} on the held-out seeds; run `{summary.run_id}`, "
        f"iteration {best.iteration}). The PR description now describes this candidate; the comment "
        "above has the deltas."
    )
    return True, message, outputs(pull.number, best.confirm.mean(metric), gain)
