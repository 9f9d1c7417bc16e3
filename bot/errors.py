"""Every error GrowthHacker raises on purpose, and what the CLI does with it.

The tree (each class carries the process ``exit_code`` the CLI uses)::

    GrowthHackerError (1)          base class; message says what to do next
    ├── ConfigError (2)            .growthhacker.yml missing, unreadable or invalid
    ├── WorkspaceError (3)         git failed: not a repo, dirty worktree, missing base commit
    ├── PatchError (4)             a diff was malformed, violated the path policy or did not apply;
    │                              ``code`` is a stable machine-readable reason (see PatchErrorCode)
    ├── EvaluationError (5)        the eval harness itself could not run (never a candidate failure;
    │                              those are recorded as failed candidates, not raised)
    ├── JournalError (6)           the journal is unreadable beyond a torn last line
    ├── AgentError (7)             an agent could not produce an analysis or a diff
    │   └── BudgetExceeded (8)     the next call could exceed the token or dollar budget
    ├── GitHubError (9)            the GitHub API failed after retries
    │   └── PermissionDenied (10)  a commenter lacks the permission a command needs
    └── ResumeError (11)           ``--resume`` found nothing to resume
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
    """The configuration file is missing, not YAML, or fails validation."""

    exit_code = 2


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
    """The journal file is corrupt beyond a torn final line."""

    exit_code = 6


class AgentError(GrowthHackerError):
    """An agent failed to produce a usable analysis or diff."""

    exit_code = 7


class BudgetExceeded(AgentError):
    """Starting another LLM call could exceed the configured token or dollar budget."""

    exit_code = 8


class GitHubError(GrowthHackerError):
    """A GitHub API call failed after retries."""

    exit_code = 9


class PermissionDenied(GitHubError):
    """A user without the required permission tried to command the bot."""

    exit_code = 10


class ResumeError(GrowthHackerError):
    """``--resume`` was asked for but the journal holds no unfinished run."""

    exit_code = 11
