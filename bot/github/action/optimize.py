"""The optimize mode: the loop from the tip of the base branch, its winner proposed as a pull request."""

from __future__ import annotations

from bot.git import git
from bot.github.action.session import (
    Outputs,
    RunLoop,
    Session,
    journal_synced,
    outputs,
    publish_plot,
)
from bot.github.render import check_report, pr_body, pr_title, run_comment
from bot.github.step_files import append_step_summary
from bot.report import render_markdown
from bot.selection import judge_confirmation


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
    head = session.remote.push_branch(summary.branch, source=f"refs/heads/{summary.branch}")
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
