"""What every mode of ``growthhacker action`` works with: the event, the config, GitHub, the remote.

:func:`prepare` reads the GitHub Actions environment once, takes the config (a pull request's from
its base commit) and decides the mode; when there is work it builds a :class:`Session` (the
collaborators the modes take as arguments). :func:`journal_synced` brackets a writing job's work with
the journal branch: fetched before, merged and pushed after (and whenever the work needs its files
there sooner, :meth:`JournalSync.publish`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import Config, load_config
from bot.git import git, run_git
from bot.github.client import connect
from bot.github.events import (
    ActionContext,
    Event,
    ModeDecision,
    PullRequestEvent,
    decide_mode,
    load_action_context,
    load_event,
)
from bot.github.git_remote import RemoteGit, remote_url
from bot.github.journal_branch import JournalBranch, Published, Snapshot, file_url, plot_path
from bot.github.publish import Publisher
from bot.journal import JOURNAL_FILE, Journal
from bot.redact import scrub, secret_values
from bot.results import RunSummary
from bot.workspace import config_at, project_dir, state_dir

#: Runs the inner loop from ``base_ref`` with human ``hints``; returns the summary and run directory.
#: The CLI binds it to its options; it is the only way a mode gets an agent (only search calls it).
RunLoop = Callable[[str, list[str]], tuple[RunSummary, Path]]
#: The action's step outputs (``pr-number``, ``best-metric``, ``improvement``; ``receive`` adds ``work``
#: and ``head-sha``), "" when not applicable.
Outputs = dict[str, str]
OUTPUT_NAMES = ("pr-number", "best-metric", "improvement")


def outputs(pr_number: int | None = None, best_metric: float | None = None,
            improvement: float | None = None) -> Outputs:
    """All three step outputs; absent or non-finite values are empty strings."""

    def text(value: float | None) -> str:
        return "" if value is None or not math.isfinite(value) else f"{value:.6g}"

    return {
        "pr-number": "" if pr_number is None else str(pr_number),
        "best-metric": text(best_metric),
        "improvement": text(improvement),
    }


@dataclass(frozen=True)
class Session:
    """The collaborators of one action invocation (no secrets besides the token it must use)."""

    repo: Path
    config: Config
    context: ActionContext
    publisher: Publisher
    #: The repository on GitHub, authenticated with the job's token (fetches and pushes).
    remote: RemoteGit
    #: The environment for the evaluation subprocess (the evaluator scrubs it again).
    eval_environ: Mapping[str, str]
    #: Secret values of the bot's environment, scrubbed from anything posted.
    secrets: tuple[str, ...]
    #: The directory of the artifact this job writes (read-only modes) or reads (the writing ones).
    artifact: Path
    #: The config file given with ``--config`` (None: the project's ``.growthhacker.yml``), for
    #: reading it at other commits.
    config_file: Path | None = None

    @property
    def journal_path(self) -> Path:
        """The local journal file the loop appends to."""
        return state_dir(self.repo) / JOURNAL_FILE

    @property
    def remote_url(self) -> str:
        """The HTTPS URL of the repository (no credentials in it)."""
        return self.remote.remote

    def scrub(self, text: str) -> str:
        """``text`` with every secret value of the environment replaced by ``***``."""
        return scrub(text, self.secrets)


@dataclass(frozen=True)
class Prepared:
    """The event, what it asks for, and the session (None when there is nothing to do)."""

    event: Event
    decision: ModeDecision
    session: Session | None


def prepare(
    repo: Path,
    environ: Mapping[str, str],
    *,
    config_path: Path | None,
    requested: str = "",
    eval_environ: Mapping[str, str],
    artifact: Path,
    bot_login: str | None = None,
    pause_s: float = 1.0,
) -> Prepared:
    """Read the Actions environment and the config; decide the mode; connect when there is work.

    The config of a pull-request event is the one committed at the PR's base (fetched if the
    checkout lacks it), never the checkout's: on ``pull_request`` the checkout is the PR's own merge
    commit. A PR whose base has no config needs nothing. Other events work from a checkout of the
    default branch (or, for iterate, of the PR's head) and read the config there.

    ``pause_s`` is the pause between GitHub write requests (GitHub's advice against secondary rate
    limits; reads pause a quarter of it).

    Raises:
        ActionEnvironmentError: not in GitHub Actions, a malformed event, a mode that does not fit
            the event, or no ``GITHUB_TOKEN``.
        ConfigError: the config is missing or invalid.
        WorkspaceError: ``repo`` is not a git repository.
    """
    context = load_action_context(environ)
    event = load_event(context)
    root = project_dir(repo)
    token = environ.get("GITHUB_TOKEN", "")
    remote = RemoteGit(root, remote_url(context.server_url, context.repository), token)
    if isinstance(event, PullRequestEvent):
        if not has_commit(root, event.base_sha):
            remote.fetch_branch(event.base_ref)
        found = config_at(root, event.base_sha, config_path)
        if found is None:
            reason = (f"the base commit {event.base_sha[:7]} of #{event.number} has no GrowthHacker config: "
                      "nothing to measure against")
            return Prepared(event, ModeDecision(None, None, reason), None)
        config = found
    else:
        config = load_config(root, config_path)
    decision = decide_mode(event, config.github.branch_prefix, requested)
    if decision.mode is None:
        return Prepared(event, decision, None)
    gh = connect(token, api_url=context.api_url, seconds_between_writes=pause_s,
                 seconds_between_requests=pause_s / 4)
    session = Session(
        repo=root,
        config=config,
        context=context,
        publisher=Publisher(gh, context.repository, bot_login=bot_login),
        remote=remote,
        eval_environ=eval_environ,
        secrets=tuple(secret_values(environ)),
        artifact=artifact,
        config_file=config_path,
    )
    return Prepared(event, decision, session)


def has_commit(repo: Path, sha: str) -> bool:
    """True if ``sha`` names a commit ``repo`` has."""
    return bool(git(repo, "rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}", check=False).strip())


def is_ancestor(repo: Path, commit: str, of: str) -> bool:
    """True if ``commit`` is ``of`` or in its history (False if either is unknown)."""
    return run_git(repo, "merge-base", "--is-ancestor", commit, of).ok


@dataclass
class JournalSync:
    """The journal of one piece of work, kept in step with the journal branch by :func:`journal_synced`."""

    journal: Journal
    branch: JournalBranch
    #: The journal branch as fetched before the work.
    fetched: Snapshot
    message: str
    #: Files to store on the branch with the next push (path → bytes).
    files: dict[str, bytes] = field(default_factory=dict)

    def attach(self, path: str, data: bytes) -> None:
        """Store ``data`` at ``path`` of the journal branch with the next :meth:`publish`."""
        self.files[path] = data

    def on_branch(self, path: str) -> bool:
        """True if ``path`` was on the journal branch when it was fetched, or is attached since."""
        return path in self.files or path in self.fetched.files

    def publish(self, message: str | None = None) -> Published:
        """Merge the journal and the attached files into the branch and push them now.

        Raises:
            GitHubError: the journal branch cannot be read or written.
        """
        return self.branch.publish(self.journal, message or self.message, self.files)


@contextmanager
def journal_synced(session: Session) -> Iterator[JournalSync]:
    """Fetch the journal branch into the local journal, yield it, then merge and push it back.

    The push also happens when the work fails or is interrupted (its records are the memory of what
    was tried); a failure to push then is reported on stderr and the work's own error propagates.

    Raises:
        GitHubError: the journal branch cannot be read, or (after successful work) written.
    """
    branch = JournalBranch(session.remote)
    fetched = branch.fetch()
    journal = Journal(session.journal_path)
    branch.pull_into(journal, fetched)
    message = f"journal: {session.context.event_name} {session.context.run_id}"
    sync = JournalSync(journal, branch, fetched, message)
    try:
        yield sync
    except BaseException:  # KeyboardInterrupt too: a cancelled or timed-out job still pushes
        try:
            sync.publish("journal: records of a failed run")
        except Exception as exc:  # keep the work's own error; this one is secondary
            print(f"warning: the journal branch was not updated: {session.scrub(str(exc))}", file=sys.stderr)
        raise
    sync.publish()


def plot_url(session: Session, run_id: str) -> str:
    """Where the plot of ``run_id`` is served from the journal branch (the publish job stores it there
    before anything links to it)."""
    context = session.context
    return file_url(context.server_url, context.repository, plot_path(run_id))
