"""The pull-request check, in two jobs: ``measure`` evaluates, ``report`` posts.

``measure`` runs the PR's code, so its token is read-only and it holds no secret. It takes the
config and the protected harness from the PR's **base commit** (never from its checkout, which is
the PR's merge commit): :func:`bot.workspace.config_at` reads ``.growthhacker.yml`` at the base,
and :func:`bot.verify.evaluate_refs` evaluates the base and the head in worktrees, the head with
every protected path put back to its base version. It writes the results as the job's artifact.

``report`` runs no code of the PR: it checks the artifact (see :mod:`bot.github.action.artifact`;
it must be about this PR's base and head), reads the config from the base commit again, renders
the deltas with it and posts the verify comment and a check run on the head. A fork's PR gets the
job summary only, and so does a PR whose token may not write (Dependabot's, a read-only
``permissions:``): GitHub's 403 is not an error of the check.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.config import Config
from bot.errors import ArtifactError, GitHubError
from bot.github.action.artifact import Manifest, read_artifact, write_artifact
from bot.github.action.session import Outputs, Session, has_commit, outputs
from bot.github.events import PullRequestEvent
from bot.github.git_remote import LOCAL_NAMESPACE
from bot.github.publish import STOP_LABEL
from bot.github.render import VERIFY_MARKER, check_report, verify_comment
from bot.github.step_files import append_step_summary
from bot.report import md_escape
from bot.results import EvalResult
from bot.stats import compare
from bot.verify import evaluate_refs

RESULTS = "results.json"
#: Per-seed metrics and short reasons: far below this even with hundreds of seeds.
RESULTS_LIMIT = 4_000_000

#: The name of verify's check run: distinct from the optimize run's "GrowthHacker" on the same head.
VERIFY_CHECK = "GrowthHacker verify"


class Measured(BaseModel):
    """The evaluation of a PR's base and head, as ``measure`` hands it to ``report``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base: EvalResult
    head: EvalResult
    #: Protected paths the head changed that were evaluated at their base version.
    restored: list[str]


def restored_note(restored: list[str]) -> str:
    """A markdown note naming the protected files measured at their base version ("" if none)."""
    if not restored:
        return ""
    names = ", ".join(f"`{md_escape(path, 200)}`" for path in restored[:20])
    more = f" and {len(restored) - 20} more" if len(restored) > 20 else ""
    return (
        f"> [!NOTE]\n> This change touches protected files ({names}{more}); they were evaluated at their "
        "base version, with the base's `.growthhacker.yml`, so the deltas measure the pipeline change "
        "under the base's harness."
    )


def _manifest(session: Session, event: PullRequestEvent, status: str, reason: str = "") -> Manifest:
    return Manifest.model_validate({
        "kind": "verify", "status": status, "reason": reason[:2000],
        "repository": session.context.repository, "workflow_run": session.context.run_id,
        "base_sha": event.base_sha, "head_sha": event.head_sha, "pr_number": event.number,
    })


def measure(session: Session, event: PullRequestEvent, artifact: Path) -> Outputs:
    """Evaluate the PR's base and head with the base's config and harness; write the artifact.

    A PR stopped with ``/growthhacker stop``, or whose base has no config, is not measured (the
    artifact says why). Returns the step outputs (``best-metric`` is the head's mean).

    Raises:
        GitHubError: a commit cannot be fetched.
        ConfigError: the base's config is invalid.
        WorkspaceError, EvaluationError: see :func:`evaluate_refs`.
    """
    if STOP_LABEL in event.labels:
        reason = f"pull request #{event.number} has the {STOP_LABEL} label: not verified"
        write_artifact(artifact, _manifest(session, event, "skipped", reason), {})
        print(reason)
        return outputs(pr_number=event.number)
    if not has_commit(session.repo, event.head_sha):
        session.remote.fetch_ref(f"refs/pull/{event.number}/head", f"{LOCAL_NAMESPACE}/pull/{event.number}")
    config = session.config
    result = evaluate_refs(session.repo, config, event.base_sha, event.head_sha, environ=session.eval_environ)
    measured = Measured(base=result.base, head=result.head, restored=list(result.restored))
    write_artifact(artifact, _manifest(session, event, "measured"),
                   {RESULTS: measured.model_dump_json().encode("utf-8")})
    append_step_summary(
        session.context.step_summary,
        f"Measured the base `{event.base_sha[:7]}` and the head `{event.head_sha[:7]}` of #{event.number} "
        f"on seeds {config.evaluate.seeds.search} with the base's config and harness; the report job "
        "posts the deltas.",
    )
    metric = config.evaluate.objective.metric
    return outputs(event.number, result.head.mean(metric), result.improvement(config))


def read_measured(artifact: Path, event: PullRequestEvent) -> tuple[Manifest, Measured | None]:
    """The measure job's artifact for ``event``: its manifest and results (None when it measured
    nothing: skipped).

    Raises:
        ArtifactError: missing, malformed, oversized, or about another PR or other commits.
    """
    manifest, files = read_artifact(artifact, {RESULTS: RESULTS_LIMIT})
    about = (manifest.kind, manifest.pr_number, manifest.base_sha, manifest.head_sha)
    if about != ("verify", event.number, event.base_sha, event.head_sha):
        raise ArtifactError(
            f"the artifact is about {manifest.kind} of #{manifest.pr_number} ({manifest.base_sha[:7]} → "
            f"{(manifest.head_sha or '?')[:7]}), not this event's #{event.number} "
            f"({event.base_sha[:7]} → {event.head_sha[:7]}): refused"
        )
    if manifest.status != "measured":
        return manifest, None
    if RESULTS not in files:
        raise ArtifactError(f"the artifact says it measured but has no {RESULTS}: refused")
    try:
        return manifest, Measured.model_validate_json(files[RESULTS])
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"]
        raise ArtifactError(f"{RESULTS} of the artifact is not valid: {problem}: refused") from exc


def report(session: Session, event: PullRequestEvent, artifact: Path) -> Outputs:
    """Post what ``measure`` found: the verify comment (not on a bot PR, whose sticky comment has the
    run's deltas) and a check run :data:`VERIFY_CHECK` on the head, rendered with the base's config;
    the job summary always gets the comment.

    Nothing is written back to a fork's PR; a 403 (a token that may not write) leaves the result in
    the job summary and is not an error. Returns the step outputs.

    Raises:
        ArtifactError: the artifact is missing, malformed or about something else.
        GitHubError: posting failed for another reason than a refusal.
    """
    manifest, measured = read_measured(artifact, event)
    context = session.context
    if measured is None:
        note = f"Not verified: {md_escape(manifest.reason)}"
        append_step_summary(context.step_summary, note)
        print(note)
        return outputs(pr_number=event.number)
    config = session.config
    base, head = measured.base, measured.head
    check = check_report(base, head, config)
    body = verify_comment(base, head, config, base_sha=event.base_sha, head_sha=event.head_sha,
                          run_url=context.run_url)
    note = restored_note(measured.restored)
    if note:
        body = f"{body.rstrip()}\n\n{note}\n"
    append_step_summary(context.step_summary, body)
    if event.is_fork:
        print(f"pull request #{event.number} comes from a fork: results are in the job summary only")
    else:
        try:
            # A bot PR's sticky comment already has the run's held-out deltas (a PR opened with an App
            # token triggers verify too): no second comment, and a check of verify's own name.
            if not event.head_ref.startswith(config.github.branch_prefix):
                session.publisher.upsert_sticky_comment(event.number, body, VERIFY_MARKER)
            session.publisher.publish_check(event.head_sha, check, name=VERIFY_CHECK,
                                            details_url=context.run_url)
        except GitHubError as exc:
            if exc.status != 403:
                raise
            why = f"the token may not write to #{event.number} ({exc}); the results are in the job summary"
            append_step_summary(context.step_summary, f"> [!NOTE]\n> Not posted: {md_escape(why)}")
            print(f"warning: {why}")
    metric = config.evaluate.objective.metric
    return outputs(event.number, head.mean(metric), _improvement(base, head, config))


def _improvement(base: EvalResult, head: EvalResult, config: Config) -> float:
    objective = config.evaluate.objective
    return compare(base, head, objective.metric, objective.goal).improvement
