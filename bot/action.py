"""``growthhacker action``: one GitHub Actions event in, the matching mode of the bot out.

=========  =================================  ==============================================================
mode       event                              what happens
=========  =================================  ==============================================================
optimize   ``schedule``, ``workflow_dispatch``  loop from the base branch → winner branch pushed → PR opened
                                              or updated → sticky comment → check run → outputs + summary
verify     ``pull_request`` (not closed)      base and head evaluated in this job → job summary; sticky
                                              comment + check run only for PRs from this repository
command    ``issue_comment`` on a PR          ``/growthhacker`` iterate / undo / stop / status / help
outcome    a bot PR closed or merged          the human verdict and review comments → journal branch
=========  =================================  ==============================================================

Every mode takes its collaborators as arguments (:class:`~bot.action_session.Session`, and the
:data:`~bot.action_session.RunLoop` the CLI binds to its options); only optimize and iterate ever call
the loop, so verify and outcome never build an agent. The journal branch is fetched before and pushed
after every mode that adds records.
"""

from __future__ import annotations

from bot.action_command import handle_command
from bot.action_session import Outputs, Prepared, RunLoop, Session, journal_synced, outputs, publish_plot
from bot.action_verify import verify_pull_request
from bot.errors import GitHubError
from bot.github.events import DispatchEvent, IssueCommentEvent, PullRequestEvent, ScheduleEvent
from bot.github.git_remote import push_branch
from bot.github.outcomes import outcome_of_closed, outcomes_of_comments
from bot.github.render import check_report, pr_body, pr_title, run_comment
from bot.github.step_files import append_step_summary, write_outputs
from bot.journal import OutcomeRecorded
from bot.report import render_markdown
from bot.selection import judge_confirmation
from bot.workspace import git


def perform(prepared: Prepared, run_loop: RunLoop) -> Outputs:
    """Run the mode ``prepared`` decided on and write the step outputs; returns them.

    Raises:
        GitHubError: the event does not fit the mode, or GitHub/git failed.
        GrowthHackerError: the loop or the evaluation could not run (config, workspace, agent …).
    """
    session, event, mode = prepared.session, prepared.event, prepared.decision.mode
    if session is None or mode is None:
        return outputs()
    result: Outputs
    if mode == "optimize" and isinstance(event, DispatchEvent | ScheduleEvent):
        result = optimize(session, run_loop)
    elif mode == "verify" and isinstance(event, PullRequestEvent):
        result = verify_pull_request(session, event)
    elif mode == "outcome" and isinstance(event, PullRequestEvent):
        result = record_outcome(session, event)
    elif mode == "command" and isinstance(event, IssueCommentEvent):
        result = handle_command(session, event, run_loop)
    else:
        raise GitHubError(f"mode {mode!r} does not apply to a {event.kind} event")
    write_outputs(session.context.output, result)
    return result


def optimize(session: Session, run_loop: RunLoop) -> Outputs:
    """Optimise from the tip of ``github.base`` and propose the winner as a pull request.

    With a winner: its plot goes to the journal branch, its branch ``<branch_prefix><run-id>`` is
    pushed (never forced), the PR opened (or updated; the body shows the plot and links the workflow
    run and its artifacts), labelled, given the sticky comment, and its head gets a check run with
    the held-out deltas. Without one: only the job summary and outputs. The journal branch gets the
    run's records either way. Returns the step outputs.

    Raises:
        GitHubError: the base branch cannot be fetched, or pushing/posting failed.
        GrowthHackerError: the loop could not run.
    """
    config, context, publisher = session.config, session.context, session.publisher
    base_branch = config.github.base
    fetched = session.remote.fetch_branch(base_branch)
    base = git(session.repo, "rev-parse", f"{fetched}^{{commit}}").strip()
    with journal_synced(session) as sync:
        summary, run_dir = run_loop(base, [])
        plot_url = publish_plot(session, sync, summary, run_dir)
    report = render_markdown(summary, plot_name=None)
    best = summary.best
    if best is None or best.confirm is None or summary.baseline_confirm is None or summary.branch is None:
        append_step_summary(context.step_summary, report)
        return outputs()
    head = push_branch(session.repo, summary.branch, session.remote_url, token=session.token,
                       source=f"refs/heads/{summary.branch}")
    pull = publisher.ensure_pull_request(
        head=summary.branch,
        base=base_branch,
        title=pr_title(summary),
        body=pr_body(summary, run_url=context.run_url, plot_url=plot_url),
        labels=list(config.github.labels),
    )
    comment = run_comment(summary, run_url=context.run_url, plot_url=plot_url)
    publisher.upsert_sticky_comment(pull.number, comment)
    check = check_report(summary.baseline_confirm, best.confirm, config)
    publisher.publish_check(head, check, details_url=context.run_url)
    verb = "opened" if pull.created else "updated"
    append_step_summary(context.step_summary, f"Pull request {verb}: {pull.url}\n\n{report}")
    gain = judge_confirmation(summary.baseline_confirm, best.confirm, config).improvement
    return outputs(pull.number, best.confirm.mean(config.evaluate.objective.metric), gain)


def record_outcome(session: Session, event: PullRequestEvent) -> Outputs:
    """Journal a closed or merged bot PR: the verdict plus the human review comments on it.

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
    comments = outcomes_of_comments(publisher.list_comments(event.number), publisher.pull_info(event.number),
                                    prefix)
    with journal_synced(session) as sync:
        for outcome in [*comments, verdict]:
            sync.journal.append(OutcomeRecorded(**outcome.model_dump()))
    iteration = "" if verdict.iteration is None else f", iteration {verdict.iteration}"
    append_step_summary(
        session.context.step_summary,
        f"Recorded: pull request #{event.number} {verdict.event} (run `{verdict.run_id}`{iteration}), "
        f"with {len(comments)} review comment(s), in the journal branch.",
    )
    return outputs(pr_number=event.number)
