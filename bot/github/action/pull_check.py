"""The pull-request check: a PR's base and head evaluated (:func:`bot.verify.evaluate_refs`) and the
deltas posted as the sticky comment and a check run.

Fork pull requests are verified the same way, but nothing is written back to them: the result goes
to the job summary only.
"""

from __future__ import annotations

from pathlib import Path

from bot.git import git
from bot.github.action.session import Outputs, Session, outputs
from bot.github.events import PullRequestEvent
from bot.github.git_remote import LOCAL_NAMESPACE
from bot.github.publish import STOP_LABEL
from bot.github.render import check_report, verify_comment
from bot.github.step_files import append_step_summary
from bot.report import md_escape
from bot.verify import evaluate_refs


def restored_note(restored: tuple[str, ...]) -> str:
    """A markdown note naming the protected files measured at their base version ("" if none)."""
    if not restored:
        return ""
    names = ", ".join(f"`{md_escape(path)}`" for path in restored)
    return (
        f"> [!NOTE]\n> This change touches protected files ({names}); they were evaluated at their base "
        "version, so the deltas measure the pipeline change under the base's harness."
    )


def _ensure_commits(session: Session, event: PullRequestEvent) -> None:
    """Fetch the PR's base branch and head (``refs/pull/N/head``, forks included) if not present."""
    repo = session.repo
    if not _has_commit(repo, event.base_sha):
        session.remote.fetch_branch(event.base_ref)
    if not _has_commit(repo, event.head_sha):
        session.remote.fetch_ref(f"refs/pull/{event.number}/head", f"{LOCAL_NAMESPACE}/pull/{event.number}")


def _has_commit(repo: Path, sha: str) -> bool:
    return bool(git(repo, "rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}", check=False).strip())


def verify_pull_request(session: Session, event: PullRequestEvent) -> Outputs:
    """Evaluate the PR's base and head commits and post the deltas.

    The comparison always goes to the job summary. Only for pull requests from this repository is it
    also posted as the sticky comment and as a check run on the head commit; a fork's PR gets no
    write-back (its workflow has a read-only token and no secrets anyway). A PR stopped with
    ``/growthhacker stop`` is skipped. Returns the step outputs (``best-metric`` is the head's mean).

    Raises:
        GitHubError: a commit cannot be fetched, or posting failed.
        WorkspaceError, EvaluationError: see :func:`evaluate_refs`.
    """
    if STOP_LABEL in event.labels:
        print(f"pull request #{event.number} has the {STOP_LABEL} label: not verified")
        return outputs(pr_number=event.number)
    _ensure_commits(session, event)
    config, context = session.config, session.context
    result = evaluate_refs(session.repo, config, event.base_sha, event.head_sha, environ=session.eval_environ)
    report = check_report(result.base, result.head, config)
    body = verify_comment(
        result.base, result.head, config, base_sha=result.base_sha, head_sha=result.head_sha,
        run_url=context.run_url,
    )
    note = restored_note(result.restored)
    if note:
        body = f"{body.rstrip()}\n\n{note}\n"
    append_step_summary(context.step_summary, body)
    if event.is_fork:
        print(f"pull request #{event.number} comes from a fork: results are in the job summary only")
    else:
        session.publisher.upsert_sticky_comment(event.number, body)
        session.publisher.publish_check(event.head_sha, report, details_url=context.run_url)
    metric = config.evaluate.objective.metric
    return outputs(event.number, result.head.mean(metric), result.improvement(config))
