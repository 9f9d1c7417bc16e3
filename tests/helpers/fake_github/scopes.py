"""Token scopes as GitHub gives them to a workflow job: exactly the job's ``permissions:``.

A job's ``GITHUB_TOKEN`` carries the scopes its ``permissions:`` block names (the workflow's when the
job has none); a scope left out is ``none``, and ``metadata: read`` is always there. Pull requests
from forks get at most ``read`` on every scope. :class:`Grant` answers whether a token may call an
operation, given the scopes the operation accepts (GitHub documents, per endpoint, which
fine-grained permission it needs; issue comments on a pull request accept either ``issues`` or
``pull-requests``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

RANK = {"none": 0, "read": 1, "write": 2}
#: Every scope a workflow's ``permissions:`` may name.
SCOPES = (
    "actions", "attestations", "checks", "contents", "deployments", "discussions", "id-token", "issues",
    "models", "packages", "pages", "pull-requests", "repository-projects", "security-events", "statuses",
)
#: What a job gets when no ``permissions:`` applies: the "restricted" default of new repositories.
RESTRICTED_DEFAULT = {"contents": "read", "packages": "read"}
#: (scope, level) alternatives: any one of them lets the call through; empty means metadata only.
Needs = tuple[tuple[str, str], ...]


def scopes_of(permissions: Any, *, read_only: bool = False) -> dict[str, str]:
    """The scopes of a ``permissions:`` value (``None`` when absent, ``read-all``, ``write-all`` or a
    mapping); ``read_only`` caps every scope at ``read`` (a fork's pull request).

    Raises:
        ValueError: an unknown scope or level (the workflow would not load on GitHub).
    """
    if permissions is None:
        scopes = dict(RESTRICTED_DEFAULT)
    elif permissions in ("read-all", "write-all"):
        scopes = dict.fromkeys(SCOPES, permissions.split("-")[0])
    elif isinstance(permissions, Mapping):
        scopes = {}
        for scope, level in permissions.items():
            if scope not in SCOPES or level not in RANK:
                raise ValueError(f"permissions: {scope}: {level} is not a scope and level GitHub knows")
            scopes[str(scope)] = str(level)
    else:
        raise ValueError(f"permissions: {permissions!r} is neither read-all, write-all nor a mapping")
    if read_only:
        scopes = {scope: "read" if level == "write" else level for scope, level in scopes.items()}
    return {scope: level for scope, level in scopes.items() if level != "none"}


@dataclass(frozen=True)
class Grant:
    """What one token may do, and the account it acts as."""

    scopes: Mapping[str, str] = field(default_factory=dict)
    login: str = "github-actions[bot]"

    def level(self, scope: str) -> str:
        """``none``, ``read`` or ``write``."""
        return self.scopes.get(scope, "none")

    def allows(self, needs: Sequence[tuple[str, str]]) -> bool:
        """True if one of the (scope, level) alternatives in ``needs`` is granted (or none is needed)."""
        return not needs or any(RANK[self.level(scope)] >= RANK[level] for scope, level in needs)


def accepted_header(needs: Needs) -> str:
    """GitHub's ``X-Accepted-GitHub-Permissions`` value for ``needs`` (``issues=write; …``)."""
    return "; ".join(f"{scope.replace('-', '_')}={level}" for scope, level in needs)


FULL_ACCESS = Grant(dict.fromkeys(SCOPES, "write"))
