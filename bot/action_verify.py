"""Verify: evaluate two commits on the search seeds in the same job, and report the deltas.

Used by ``growthhacker verify`` (two local refs) and by the action on ``pull_request`` events (base and
head of the PR). No agent is built and nothing secret reaches the evaluation: the evaluator runs the
repository's own command with an allow-listed environment. Both commits are evaluated in private
worktrees, one after the other on the same runner, so a wall-time guardrail compares like with like.
The head is measured with the base's harness: protected paths (``edit.protected``, the evaluation
script, the config) that the head changes are put back to their base version first.

Fork pull requests are verified the same way, but nothing is written back to them: the result goes
to the job summary only.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.action_session import Outputs, Session, outputs
from bot.config import Config
from bot.evaluate import Evaluator
from bot.github.events import PullRequestEvent
from bot.github.journal_branch import LOCAL_NAMESPACE
from bot.github.publish import STOP_LABEL
from bot.github.render import CheckReport, check_report, verify_comment
from bot.github.step_files import append_step_summary
from bot.patch import glob_match
from bot.report import md_escape
from bot.results import EvalResult
from bot.stats import compare
from bot.workspace import Workspace, git, project_dir, state_dir


@dataclass(frozen=True)
class Verification:
    """Base and head evaluated on the same seeds in the same job, and the check they amount to."""

    base_sha: str
    head_sha: str
    base: EvalResult
    head: EvalResult
    report: CheckReport
    #: Protected paths the head changed that were evaluated at their base version.
    restored: tuple[str, ...] = ()

    def improvement(self, config: Config) -> float:
        """Relative change of the objective mean, positive = better (NaN if not comparable)."""
        objective = config.evaluate.objective
        return compare(self.base, self.head, objective.metric, objective.goal).improvement


def evaluate_refs(
    repo: Path, config: Config, base_ref: str, head_ref: str, *, environ: Mapping[str, str]
) -> Verification:
    """Evaluate ``base_ref`` and then ``head_ref`` of ``repo`` on the search seeds.

    ``environ`` is the environment the evaluator starts from (it keeps only allow-listed names).
    Evaluation failures are failed seeds in the results, not exceptions.

    Raises:
        WorkspaceError: ``repo`` is not a git repository, or a ref does not name a commit.
        EvaluationError: the evaluation command cannot run at all.
    """
    root = project_dir(repo)
    state = state_dir(root)
    evaluator = Evaluator(config.evaluate, state / "cache", environ=environ)
    label = f"verify-{secrets.token_hex(3)}"
    seeds = config.evaluate.seeds.search
    results: dict[str, EvalResult] = {}
    shas: dict[str, str] = {}
    restored: list[str] = []
    for side, ref in (("base", base_ref), ("head", head_ref)):
        workspace = Workspace.open(root, f"{label}-{side}", ref)
        try:
            if side == "head":
                restored = _harness_from(workspace, shas["base"], workspace.policy(config.edit).protected)
            shas[side] = workspace.base
            tree = workspace.tree_hash()
            results[side] = evaluator.evaluate(workspace.project_root, tree, seeds,
                                               state / "verify" / label / side)
        finally:
            workspace.remove()
    return Verification(
        base_sha=shas["base"],
        head_sha=shas["head"],
        base=results["base"],
        head=results["head"],
        report=check_report(results["base"], results["head"], config),
        restored=tuple(restored),
    )


def _harness_from(workspace: Workspace, base_sha: str, protected: tuple[str, ...]) -> list[str]:
    """Put protected paths the worktree changed relative to ``base_sha`` back to their base version."""
    changed = git(workspace.root, "diff", "--name-only", "--no-renames", "-z", base_sha, workspace.base)
    restored = []
    for path in (p for p in changed.split("\0") if p):
        if not any(glob_match(pattern, path) for pattern in protected):
            continue
        if _exists(workspace.root, base_sha, path):
            git(workspace.root, "checkout", "-q", base_sha, "--", path)
        else:
            (workspace.root / path).unlink(missing_ok=True)
        restored.append(path)
    return restored


def _exists(root: Path, sha: str, path: str) -> bool:
    listed = git(root, "ls-tree", "--name-only", sha, "--", path)
    return bool(listed.strip())


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
        session.publisher.publish_check(event.head_sha, result.report, details_url=context.run_url)
    metric = config.evaluate.objective.metric
    return outputs(event.number, result.head.mean(metric), result.improvement(config))
