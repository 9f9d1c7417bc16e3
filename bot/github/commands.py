"""Slash commands on GrowthHacker pull requests: a strict parser and the permission check.

Grammar (only the FIRST line of a comment counts; the rest of the comment is never read)::

    /growthhacker iterate [hint…]   more iterations from the PR's head; the hint is data for the Analyzer
    /growthhacker undo              revert the bot's last commit on the PR branch
    /growthhacker stop              no further runs on this PR
    /growthhacker status            reply with the PR's current state
    /growthhacker help              list the commands

The prefix and the verb are case-insensitive; anything else that starts with ``/growthhacker`` is
answered with the help text. The hint is kept as written (control characters dropped, backticks made
quotes so it cannot break out of markdown code, length capped):
it reaches the Analyzer only as quoted data, never as instructions.

Only users whose repository role is at least ``github.allowed_commenters`` may command the bot
(``GET /repos/{owner}/{repo}/collaborators/{username}/permission``); others get a 😕 reaction and
nothing else (no reply: anyone can comment, and the bot does not post for them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from bot.config import Permission
from bot.errors import PermissionDenied
from bot.text import strip_controls

if TYPE_CHECKING:
    from github.Repository import Repository

PREFIX = "/growthhacker"
MAX_HINT_CHARS = 500
Verb = Literal["iterate", "undo", "stop", "status", "help"]
_VERBS: tuple[Verb, ...] = ("iterate", "undo", "stop", "status", "help")
#: Repository roles from least to most privileged; custom roles fall back to their base permission.
ROLE_RANK: dict[str, int] = {"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}

HELP_LINES: tuple[str, ...] = (
    f"- `{PREFIX} iterate [hint]`: run more iterations from this PR's head; the hint guides the Analyzer",
    f"- `{PREFIX} undo`: revert the bot's last commit on this branch",
    f"- `{PREFIX} stop`: no further GrowthHacker runs on this PR",
    f"- `{PREFIX} status`: show what the bot is doing with this PR",
    f"- `{PREFIX} help`: show this list",
)


class Command(BaseModel):
    """A parsed slash command. ``problem`` says why a comment fell back to ``help``."""

    model_config = ConfigDict(frozen=True)

    verb: Verb
    hint: str | None = None
    problem: str | None = None


def parse_command(body: str) -> Command | None:
    """The command on the first line of ``body``, or None if that line is not a command.

    Unknown verbs and arguments to verbs that take none give ``Command(verb="help", problem=…)``.
    Raises nothing.
    """
    lines = body.lstrip("\ufeff").splitlines()
    if not lines:
        return None
    parts = lines[0].strip().split(maxsplit=2)
    if not parts or parts[0].lower() != PREFIX:
        return None
    word = parts[1].lower() if len(parts) > 1 else "help"
    rest = parts[2] if len(parts) > 2 else ""
    verb = next((v for v in _VERBS if v == word), None)
    if verb is None:
        return Command(verb="help", problem=f"unknown command `{_clean(parts[1], 40)}`")
    if verb == "iterate":
        return Command(verb="iterate", hint=_clean(rest, MAX_HINT_CHARS) or None)
    if rest and verb != "help":
        return Command(verb="help", problem=f"`{verb}` takes no arguments")
    return Command(verb=verb)


def _clean(text: str, limit: int) -> str:
    """``text`` without control/bidi characters and backticks, whitespace collapsed, cut to ``limit``."""
    flat = " ".join(strip_controls(text).replace("`", "'").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def help_text(problem: str | None = None) -> str:
    """The help reply (markdown), starting with ``problem`` when the comment was not understood."""
    head = f"Sorry, I did not understand that: {problem}.\n\n" if problem else ""
    return head + "GrowthHacker commands (first line of a comment):\n\n" + "\n".join(HELP_LINES)


def role_of(repo: Repository, login: str) -> str:
    """``login``'s role on ``repo`` (none, read, triage, write, maintain, admin).

    Custom roles map to their base permission. A user GitHub does not know has role ``none``.

    Raises:
        GitHubError: the permission endpoint failed for another reason (after retries).
    """
    # Imported here: PyGithub takes a second or more to import, and the parsing and help text of
    # this module are also used by commands (report rendering, `--help`) that never call GitHub.
    from github.GithubException import UnknownObjectException

    from bot.github.client import github_errors

    with github_errors(f"checking the repository permission of {login}"):
        try:
            role = repo.get_collaborator_role_name(login)
            if role not in ROLE_RANK:
                role = repo.get_collaborator_permission(login)
        except UnknownObjectException:
            return "none"
    return role if role in ROLE_RANK else "none"


def has_permission(repo: Repository, login: str, required: Permission) -> bool:
    """True if ``login``'s role on ``repo`` ranks at least ``required``.

    Raises:
        GitHubError: the permission could not be read.
    """
    return ROLE_RANK[role_of(repo, login)] >= ROLE_RANK[required]


def ensure_permission(repo: Repository, login: str, required: Permission) -> str:
    """Check that ``login`` may command the bot on ``repo``; returns their role.

    Raises:
        PermissionDenied: their role ranks below ``required``.
        GitHubError: the permission could not be read.
    """
    role = role_of(repo, login)
    if ROLE_RANK[role] < ROLE_RANK[required]:
        raise PermissionDenied(f"{login} has {role} access to the repository; commands need {required}")
    return role
