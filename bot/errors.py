"""Every error GrowthHacker raises on purpose, and what the CLI does with it.

The tree; ``(n)`` is the process ``exit_code`` the CLI exits with (README.md, "Exit codes", has the
same table with what to do). A class without a number never reaches the CLI: it is handled where it
is raised, and would exit with its parent's code if it ever escaped. Exit code 2 is click's own
usage error (an unknown option or a bad option value) and no class here uses it::

    GrowthHackerError              base class, never raised itself; message says what to do next
    ├── WorkspaceError (3)         git failed: not a repo, unknown base commit, a revert that conflicts
    ├── PatchError (4)             a diff was malformed, violated the path policy or did not apply;
    │                              ``code`` is a stable machine-readable reason (see PatchErrorCode).
    │                              An agent's diff is repaired or recorded as a failed iteration; it
    │                              reaches the CLI only for a diff from the journal (``--resume``)
    ├── EvaluationError (5)        the eval harness itself could not run (never a candidate failure;
    │                              those are recorded as failed candidates, not raised)
    ├── JournalError (6)           the journal cannot be read or written, or holds no baseline for the
    │   │                          run to report
    │   └── ShardError             a search shard's directory is missing, unfinished, of another run or
    │                              damaged: the gather refuses it and merges nothing
    ├── AgentError (7)             the agent cannot be started (an unusable agent command); during a
    │   │                          run an agent's failure is a failed iteration, not an exit
    │   └── BudgetExceeded         the next call could exceed the budget: the loop stops there and
    │                              still selects and reports the best candidate (exit 0)
    ├── ConfigError (8)            .growthhacker.yml missing or invalid, or an option value that the
    │   │                          command cannot use (files that ``--force`` would overwrite)
    │   └── ActionEnvironmentError (10)
    │                              `growthhacker action` is misconfigured: not inside GitHub Actions,
    │                              an unreadable or malformed event, a mode that does not fit the
    │                              event, no token
    ├── GitHubError (9)            the GitHub API (or a git push/fetch to GitHub) failed after retries
    │   │                          (``status``: GitHub's HTTP answer, 403 for a token without the scope)
    │   ├── PermissionDenied       a commenter lacks the permission a command needs: the bot reacts
    │   │                          with 😕 and the job succeeds (exit 0)
    │   └── ArtifactError          the artifact a read-only job handed on is missing, malformed or
    │                              tampered with: the writing job refuses it, writes nothing and
    │                              exits with GitHubError's 9
    └── RunNotFound (11)           the journal holds no run to act on (``report RUN_ID``)
        └── ResumeError            ``--resume`` found no unfinished run
"""

from __future__ import annotations

from typing import Literal

PatchErrorCode = Literal[
    "empty_diff",  # no file changes in the text
    "parse_error",  # not a unified diff unidiff can read
    "absolute_path",  # /etc/passwd
    "parent_traversal",  # ../x or a/../../x
    "outside_editable",  # path matches none of edit.paths
    "protected_path",  # path matches edit.protected (or a built-in protected path)
    "symlink",  # the target (or a parent) is a symlink, or the diff creates one
    "binary",  # binary patch or NUL bytes
    "executable",  # the diff sets an executable mode
    "file_missing",  # modify/delete of a file that does not exist
    "file_exists",  # create a file that already exists
    "context_mismatch",  # a hunk's context/removed lines are not found in the file
    "ambiguous_context",  # a hunk's context matches in more than one place
    "no_change",  # the diff applies but changes nothing
]


class GrowthHackerError(Exception):
    """Base class: a problem the user (or an agent) can act on."""

    exit_code = 1


class ConfigError(GrowthHackerError):
    """The configuration file is missing, not YAML, or fails validation; or an option cannot be used."""

    exit_code = 8


class ActionEnvironmentError(ConfigError):
    """`growthhacker action` cannot start: the Actions environment, the event or the mode is wrong."""

    exit_code = 10


class WorkspaceError(GrowthHackerError):
    """A git operation on the target repository failed."""

    exit_code = 3


class PatchError(GrowthHackerError):
    """A diff could not be accepted; ``code`` says why in one stable word, ``path`` where."""

    exit_code = 4

    def __init__(self, code: PatchErrorCode, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.code: PatchErrorCode = code
        self.path = path

    def as_feedback(self) -> str:
        """A one-paragraph explanation an LLM (or a human) can use to repair the diff."""
        where = f" in {self.path}" if self.path else ""
        return f"[{self.code}]{where}: {self}"


class EvaluationError(GrowthHackerError):
    """The evaluation harness could not run at all (bad command template, missing cwd)."""

    exit_code = 5


class JournalError(GrowthHackerError):
    """The journal file cannot be read or written (lines it cannot understand are skipped, not this)."""

    exit_code = 6


class ShardError(JournalError):
    """A search shard's directory cannot be gathered: missing, unfinished, of another run or damaged
    (the gather merges nothing; re-run the shard it names)."""


class AgentError(GrowthHackerError):
    """An agent cannot be started, or failed to produce a usable analysis or diff."""

    exit_code = 7


class BudgetExceeded(AgentError):
    """Starting another LLM call could exceed the configured token or dollar budget.

    The loop catches it and stops the run normally: no exit code of its own.
    """


class GitHubError(GrowthHackerError):
    """A GitHub API call failed after retries."""

    exit_code = 9

    def __init__(self, message: str, *, status: int | None = None) -> None:
        """``status``: the HTTP status GitHub answered with, when there was one (403: not allowed)."""
        super().__init__(message)
        self.status = status


class PermissionDenied(GitHubError):
    """A user without the required permission tried to command the bot.

    The command handler catches it and replies with the refusal: no exit code of its own.
    """


class ArtifactError(GitHubError):
    """The artifact a read-only job handed on is missing, malformed, oversized or outside its limits
    (the writing job refuses it and writes nothing)."""


class RunNotFound(GrowthHackerError):
    """The journal holds no run of the id asked for (or no run at all)."""

    exit_code = 11


class ResumeError(RunNotFound):
    """``--resume`` was asked for but the journal holds no unfinished run."""
