"""Path policy for diffs: gitignore-like globs, editable and protected paths, path normalisation.

Re-exported by :mod:`bot.patch`; other modules import :func:`glob_match` and :class:`PathPolicy`
from there.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config import ALWAYS_PROTECTED
from bot.errors import PatchError

if TYPE_CHECKING:
    from bot.config import EditConfig


@functools.lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    segments = pattern.strip("/").split("/") if pattern.strip("/") else [""]
    if pattern.endswith("/") and segments[-1] != "**":
        segments.append("**")  # "dir/" means everything below dir
    regex, joined = "", False  # joined: the last piece already ends with a "/"
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        sep = "" if (i == 0 or joined) else "/"
        if segment == "**":
            regex += (sep + ".+") if last else (sep + "(?:[^/]+/)*")
            joined = not last
        else:
            regex += sep + _segment_regex(segment)
            joined = False
    return re.compile(regex)


def _segment_regex(segment: str) -> str:
    out, i = "", 0
    while i < len(segment):
        char = segment[i]
        close = segment.find("]", i + 2) if char == "[" else -1
        if char == "*":
            out += "[^/]*"
            while segment[i + 1 : i + 2] == "*":
                i += 1
        elif char == "?":
            out += "[^/]"
        elif close != -1:  # "[abc]", "[a-z]", "[!abc]"
            body = segment[i + 1 : close]
            negate = body[0] in "!^" and len(body) > 1
            escaped = "".join(c if c == "-" else re.escape(c) for c in (body[1:] if negate else body))
            out += f"[^/{escaped}]" if negate else f"[{escaped}]"
            i = close
        else:
            out += re.escape(char)
        i += 1
    return out


def glob_match(pattern: str, path: str) -> bool:
    """Whether repo-relative POSIX ``path`` matches the gitignore-like glob ``pattern``.

    Patterns are anchored at the repository root. ``**`` matches zero or more directories
    ("a/**/*.py" matches "a/x.py" and "a/b/c/x.py"; "**/*.py" matches "x.py"); ``*``, ``?`` and
    ``[...]`` never cross "/"; a pattern ending in "/**" (or "/") matches everything below that
    directory. Matching is case-sensitive. Returns ``True`` on a match.
    """
    return _glob_regex(pattern).fullmatch(path) is not None


def normalise_path(path: str) -> str:
    """``path`` with "\\" read as "/" and empty and "." segments dropped (``..`` is rejected earlier)."""
    return "/".join(part for part in re.split(r"[/\\]", path) if part not in ("", "."))


@dataclass(frozen=True)
class PathPolicy:
    """Which repo-relative paths a diff may touch: ``editable`` globs minus ``protected`` globs."""

    editable: tuple[str, ...]
    protected: tuple[str, ...]

    @classmethod
    def from_config(cls, edit: EditConfig, prefix: str = "") -> PathPolicy:
        """The policy of ``edit.paths`` and ``edit.all_protected()`` (config plus always-protected).

        ``prefix`` is the project's directory inside the git repository ("" at the top): the
        config's globs are relative to it, diffs are relative to the repository root. The
        repository's own ``.github/**`` and ``.git/**`` stay protected wherever the project is.
        """
        base = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        protected = [base + g for g in edit.all_protected()]
        if base:
            protected += [g for g in ALWAYS_PROTECTED if g.startswith((".github/", ".git/"))]
        return cls(editable=tuple(base + g for g in edit.paths), protected=tuple(dict.fromkeys(protected)))

    def check(self, path: str) -> None:
        """Return if ``path`` may be edited.

        Raises:
            PatchError: ``absolute_path``, ``parent_traversal``, ``protected_path`` or ``outside_editable``.
        """
        if path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path):
            raise PatchError(
                "absolute_path",
                f"{path} is an absolute path; write paths relative to the repository root "
                "(e.g. '--- a/<dir>/<file>').",
                path,
            )
        if ".." in re.split(r"[/\\]", path):
            raise PatchError(
                "parent_traversal",
                f"{path} contains '..'; name files by their plain path inside the repository.",
                path,
            )
        normal = normalise_path(path)
        if any(glob_match(pattern, normal) for pattern in self.protected):
            raise PatchError(
                "protected_path",
                f"{normal} is protected and may not be changed; limit the diff to {self._editable_text()}.",
                normal,
            )
        if not any(glob_match(pattern, normal) for pattern in self.editable):
            raise PatchError(
                "outside_editable",
                f"{normal or path!r} is outside the editable paths; "
                f"limit the diff to {self._editable_text()}.",
                normal or path,
            )

    def allows(self, path: str) -> bool:
        """Whether :meth:`check` accepts ``path``; returns ``True`` if it may be edited."""
        try:
            self.check(path)
        except PatchError:
            return False
        return True

    def _editable_text(self) -> str:
        return "files matching " + ", ".join(self.editable)
