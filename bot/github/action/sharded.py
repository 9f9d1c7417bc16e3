"""The sharded optimize on GitHub: a matrix of ``shard`` jobs, then a ``gather`` job, both read-only.

Each ``shard`` job runs one search shard (:mod:`bot.shards`) and hands its shard directory on as an
artifact of its own; the ``gather`` job downloads them all, merges them into the journal, confirms
the finalists on the held-out seeds and writes exactly the artifact a single ``search`` job writes,
so the ``publish`` job after it is the same. Candidate code runs in both, so both hold a read-only
token; only the shards need the LLM key.

Every job of the matrix, and every attempt of it (GitHub's "Re-run failed jobs"), must agree on the
run without talking to each other, so both are taken from the workflow run itself:

- the run id is ``gh-<GITHUB_RUN_ID>``, which stays the same across attempts;
- the base is ``GITHUB_SHA``, the commit the workflow run was started on, which must be a commit of
  ``github.base`` (the publish job refuses anything else).

A run id the journal branch already holds means the run was gathered and published before (all of
its jobs re-run): the shard refuses rather than mixing two searches under one id.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.errors import ActionEnvironmentError
from bot.git import git
from bot.github.action.search import search
from bot.github.action.session import Outputs, Session, has_commit, is_ancestor, outputs
from bot.github.journal_branch import JournalBranch
from bot.journal import Journal
from bot.results import RunSummary
from bot.shards import ShardSpec, gathered_lines
from bot.workspace import check_run_id

#: Runs search shard ``spec`` into the directory ``out``; returns why it stopped early, or None.
RunShard = Callable[[ShardSpec, Path], str | None]
#: Gathers the shard directories (first) into the journal with the finished confirmations (second)
#: and selects post hoc; returns the summary and the run directory (as a single run's loop does).
GatherShards = Callable[[list[Path], list[Path]], tuple[RunSummary, Path]]
#: Confirms finalist ``index`` of the run in the shard directories into the directory ``out``;
#: returns its iteration, or None when the run has fewer finalists.
ConfirmFinalist = Callable[[list[Path], int, Path], int | None]


def sharded_run_id(session: Session) -> str:
    """``gh-<workflow run id>``: the same for every shard job and every attempt of the workflow run.

    Raises:
        WorkspaceError: the run id cannot name a directory (a malformed ``GITHUB_RUN_ID``).
    """
    return check_run_id(f"gh-{session.context.run_id}")


def shard_base(session: Session) -> str:
    """The commit the workflow run started on (``GITHUB_SHA``), checked to be on ``github.base``.

    Raises:
        ActionEnvironmentError: ``GITHUB_SHA`` is unset, unknown to the checkout, or not a commit of
            ``github.base`` (a dispatch on another branch).
        GitHubError: the base branch cannot be fetched.
    """
    sha, branch = session.context.sha, session.config.github.base
    if not sha:
        raise ActionEnvironmentError("GITHUB_SHA is unset: a sharded search starts every shard from the "
                                     "commit the workflow run started on")
    tip = session.remote.fetch_branch(branch)
    if not has_commit(session.repo, sha) or not is_ancestor(session.repo, sha, tip):
        raise ActionEnvironmentError(
            f"the workflow run started on {sha[:12]}, which is not a commit of {branch} (github.base): "
            f"run the sharded optimize on {branch} (workflow_dispatch: choose {branch})"
        )
    return git(session.repo, "rev-parse", f"{sha}^{{commit}}").strip()


def run_search_shard(session: Session, run_shard: RunShard, *, index: int, count: int,
                     iterations: int) -> Outputs:
    """Search shard ``index`` of ``count`` of this workflow run's optimize into the artifact directory.

    The journal branch is fetched first: it is the shard's memory (its journal view).

    Raises:
        ActionEnvironmentError: the shard index or count is missing or out of range, the base is not
            on ``github.base``, or the journal branch already holds this run (published before).
        GrowthHackerError: the shard could not run (config, workspace, agent, evaluation harness).
        GitHubError: the journal branch cannot be read.
    """
    if not 0 <= index < count:
        raise ActionEnvironmentError(f"shard {index} of {count}: the `shard` input must be 0 to shards-1 "
                                     "(the workflow's matrix) and `shards` the matrix's size")
    run_id = sharded_run_id(session)
    journal = Journal(session.journal_path)
    JournalBranch(session.remote).pull_into(journal)
    if any(True for _ in journal.by_run(run_id)):
        raise ActionEnvironmentError(
            f"the journal branch already holds run {run_id}: this workflow run was gathered and published "
            "before. Start a new workflow run instead of re-running all of this one's jobs"
        )
    spec = ShardSpec(run_id=run_id, index=index, count=count, base_commit=shard_base(session),
                     iterations=iterations)
    stopped = run_shard(spec, session.artifact)
    print(f"shard {index} of {count} of run {run_id} is in {session.artifact}"
          + (f" (stopped early: {stopped})" if stopped else ""))
    return outputs()


def confirm_search_finalist(session: Session, confirm: ConfirmFinalist, shards: Path, index: int) -> Outputs:
    """Confirm finalist ``index`` of the shard artifacts downloaded into ``shards`` (one directory
    each) into this job's artifact, which the gather job downloads: a matrix of these jobs confirms
    the finalists side by side instead of one after another in the gather.

    Raises:
        ActionEnvironmentError: no shard was downloaded.
        ShardError: a shard is missing, unfinished, of another run or damaged.
        GrowthHackerError: as the loop's held-out confirmation (evaluation harness, workspace).
    """
    directories = _downloaded(shards)
    iteration = confirm(directories, index, session.artifact)
    what = f"iteration {iteration}" if iteration is not None else "no iteration (fewer finalists)"
    print(f"finalist {index} ({what}) is in {session.artifact}")
    return outputs()


def gather_search(session: Session, gather: GatherShards, shards: Path,
                  confirmations: Path | None) -> Outputs:
    """Gather the shard artifacts downloaded into ``shards`` (one directory each), with the
    confirmation artifacts downloaded into ``confirmations`` (any there are), and write the artifact
    a single search job writes, for the publish job.

    Raises:
        ActionEnvironmentError: no shard was downloaded.
        ShardError: a shard is missing, unfinished, of another run or damaged (nothing is merged).
        GrowthHackerError: as the loop's selection (evaluation harness, workspace).
        GitHubError: the journal branch cannot be read.
    """
    directories = _downloaded(shards)
    confirmed = _subdirectories(confirmations) if confirmations is not None else []
    spec = gathered_lines(directories).spec  # checks every shard before anything is merged
    return search(session, lambda _base, _hints: gather(directories, confirmed), kind="optimize",
                  base=spec.base_commit, hints=[])


def _subdirectories(path: Path) -> list[Path]:
    return sorted(child for child in path.iterdir() if child.is_dir()) if path.is_dir() else []


def _downloaded(shards: Path) -> list[Path]:
    directories = _subdirectories(shards)
    if not directories:
        raise ActionEnvironmentError(
            f"no shard artifact was downloaded into {shards}: the search jobs' artifacts are named "
            "<artifact-name>-shard-<i> after the gather job's artifact-name; did they run?"
        )
    return directories
