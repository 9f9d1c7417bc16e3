"""Hunk headers rebuilt from their bodies, so a diff never fails on line-count bookkeeping.

Private to :mod:`bot.patch`. An agent sees file content without line numbers, yet every hunk of a
unified diff carries ``@@ -start,count +start,count @@`` counts that ``unidiff`` (like ``patch``)
enforces strictly. The counts carry no meaning the body does not: the context and removed lines
already locate the hunk (see :mod:`bot.patch.hunks`). :func:`normalise_hunks` therefore rewrites
every hunk header from its body before ``unidiff`` parses the text:

- stated counts that fit the body (a real ``git diff``) are kept; wrong or missing ones
  (``@@ -12 +12 @@``, even a bare ``@@``) are recounted: the body then runs to the next ``@@``,
  ``diff --git`` or ``--- ``/``+++ `` pair, or to a line that is no hunk line (prose after the
  diff), and blank lines at its end are separators; new-side starts are recomputed;
- a blank line in a body is a context line whose leading space was lost;
- a hunk whose header gives no old-side start is *unanchored*: the engine then requires its lines to
  be unique in the file instead of trusting a line number.

A non-blank line without a hunk prefix inside a body is still refused, naming the line: guessing
what it was would risk applying something the agent did not write. Without counts, two readings
remain ambiguous and are resolved one way: a removed line starting "-- " right above an added line
starting "++ " is read as the next file's headers, and blank lines at the end of a hunk as
separators (unless the hunk has no other line to locate it by).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import PatchError

_HEADER = re.compile(r"^@@+(?P<inner>.*?)(?:@@+(?P<section>.*))?$")
_OLD = re.compile(r"-\s*(\d+)(?:\s*,\s*(\d+))?")
_NEW = re.compile(r"\+\s*(\d+)(?:\s*,\s*(\d+))?")
_BULLET = re.compile(r"^[-+*] \S")
_VERSION = re.compile(r"^\d+(\.\d+)+")


@dataclass(frozen=True)
class NormalisedDiff:
    """Diff lines ready for ``unidiff``, and how they map back to what the agent wrote.

    ``origins[i]`` is the 1-based number, in the original text, of ``lines[i]``; ``headers`` maps the
    1-based number (in ``lines``) of every rewritten hunk header to the header as written;
    ``unanchored`` holds the numbers (in ``lines``) of headers that gave no old-side start.
    """

    lines: list[str]
    origins: list[int]
    headers: dict[int, str]
    unanchored: frozenset[int]


@dataclass(frozen=True)
class _Stated:
    old_start: int | None
    old_count: int | None
    new_count: int | None
    section: str


def normalise_hunks(lines: list[str]) -> NormalisedDiff:
    """Rewrite every hunk header of ``lines`` (each with its line ending) from the hunk's body.

    Returns the :class:`NormalisedDiff`. Lines outside hunks are kept as they are, except blank lines
    trailing a hunk (dropped) and headers of hunks without a body (dropped).

    Raises:
        PatchError: ``parse_error`` naming a line inside a hunk that starts with neither " ", "+",
            "-" nor "\\".
    """
    out: list[str] = []
    origins: list[int] = []
    headers: dict[int, str] = {}
    unanchored: set[int] = set()
    in_file = False
    delta = 0  # lines added minus removed by earlier hunks of the same file
    old_end: int | None = None  # where the previous hunk of the same file ended, on the old side
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.startswith("@@") or not in_file:
            if line.startswith("+++ "):
                in_file, delta, old_end = True, 0, None
            out.append(line)
            origins.append(index + 1)
            index += 1
            continue
        stated = _parse_header(line)
        stated_end = _stated_end(lines, index + 1, stated)
        if stated_end is not None:
            body, end = lines[index + 1 : stated_end], _skip_blank(lines, stated_end)
        else:
            end = _body_end(lines, index + 1)
            body = _trimmed(lines[index + 1 : end], stated)
        if body:
            old_count, new_count = _counts(body)
            anchored = stated.old_start is not None
            old_start = stated.old_start if stated.old_start is not None else (old_end or 1)
            new_start = max(old_start + delta + (old_count == 0) - (new_count == 0), 0)
            section = f" {stated.section}" if stated.section else ""
            out.append(f"@@ -{old_start},{old_count} +{new_start},{new_count} @@{section}{_ending(line)}")
            origins.append(index + 1)
            headers[len(out)] = line.rstrip("\r\n")
            if not anchored:
                unanchored.add(len(out))
            for offset, body_line in enumerate(body, index + 2):
                out.append(f" {body_line}" if _is_blank(body_line) else body_line)
                origins.append(offset)
            delta += new_count - old_count
            old_end = old_start + old_count
        index = end
    return NormalisedDiff(out, origins, headers, frozenset(unanchored))


def _parse_header(line: str) -> _Stated:
    """The numbers a header states; ``None`` where it states none."""
    match = _HEADER.match(line.rstrip("\r\n"))
    inner, section = (match.group("inner"), match.group("section") or "") if match else ("", "")
    old, new = _OLD.search(inner), _NEW.search(inner)
    return _Stated(
        old_start=int(old.group(1)) if old else None,
        old_count=(int(old.group(2)) if old.group(2) is not None else 1) if old else None,
        new_count=(int(new.group(2)) if new.group(2) is not None else 1) if new else None,
        section=section.strip(),
    )


def _is_blank(line: str) -> bool:
    return not line.strip("\r\n")


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :] or "\n"


def _starts_next_section(lines: list[str], index: int) -> bool:
    line = lines[index]
    if line.startswith(("@@", "diff --git ")):
        return True
    return line.startswith("--- ") and index + 1 < len(lines) and lines[index + 1].startswith("+++ ")


def _stated_end(lines: list[str], start: int, stated: _Stated) -> int | None:
    """Where the body ends by the header's counts, or ``None`` when they do not fit the body.

    They fit when they are used up before the next section, on hunk lines only, and what follows
    does not look like more of the hunk (after a blank line, "- text" is more likely a Markdown list
    below an unfenced diff: with counts that fit up to that blank line, it is taken as one).
    """
    if stated.old_count is None or stated.new_count is None:
        return None
    old, new, index = stated.old_count, stated.new_count, start
    while old > 0 or new > 0:
        if index >= len(lines) or _starts_next_section(lines, index):
            return None
        kind = " " if _is_blank(lines[index]) else lines[index][0]
        if kind not in " +-\\":
            return None
        old, new, index = old - (kind in " -"), new - (kind in " +"), index + 1
        if old < 0 or new < 0:
            return None
    while index < len(lines) and lines[index].startswith("\\"):
        index += 1
    following, skipped = index, False
    while following < len(lines) and _is_blank(lines[following]):
        following, skipped = following + 1, True
    if following < len(lines) and not _starts_next_section(lines, following):
        line = lines[following]
        more = line[0] in "+- "
        if more and not (skipped and _BULLET.match(line)) and not _is_signature(lines, following):
            return None
        # A context line that lost its leading space, right inside the hunk.
        after = lines[following + 1] if following + 1 < len(lines) else ""
        if line[0] not in " +-\\" and not skipped and _is_hunk_line(after) and not _BULLET.match(after):
            return None
    return index


def _body_end(lines: list[str], start: int) -> int:
    """The index of the first line after the hunk body starting at ``start``, read without counts.

    Raises:
        PatchError: ``parse_error`` for a line without a hunk prefix followed by more hunk lines.
    """
    for index in range(start, len(lines)):
        line = lines[index]
        if _starts_next_section(lines, index):
            return index
        if _is_blank(line):
            continue
        if _is_signature(lines, index):
            return index
        if line[0] in " +-\\":
            continue
        # Prose after the diff ends it; a hunk line after the prose means the prose was inside.
        for later in range(index + 1, len(lines)):
            if _starts_next_section(lines, later):
                break
            if _is_hunk_line(lines[later]):
                raise PatchError(
                    "parse_error",
                    f"Line {index + 1} of the diff ({line.rstrip()[:60]!r}) sits inside a hunk (line "
                    f"{later + 1} is a hunk line again) but starts with neither ' ' (context), '+' "
                    "(added) nor '-' (removed). Start every context line with one space.",
                )
        return index
    return len(lines)


def _is_hunk_line(line: str) -> bool:
    return line[:1] in (" ", "+", "-") and not _is_blank(line)


def _is_signature(lines: list[str], index: int) -> bool:
    """Whether ``lines[index]`` is the "-- " line git format-patch writes above its version."""
    following = lines[index + 1] if index + 1 < len(lines) else ""
    return lines[index].rstrip("\r\n") == "-- " and _VERSION.match(following) is not None


def _skip_blank(lines: list[str], index: int) -> int:
    while index < len(lines) and _is_blank(lines[index]):
        index += 1
    return index


def _trimmed(body: list[str], stated: _Stated) -> list[str]:
    """The body without the blank separator lines at its end.

    They are kept when the hunk would otherwise have no line to locate it by although its header
    says it has some.
    """
    core = len(body)
    while core and _is_blank(body[core - 1]):
        core -= 1
    if _counts(body[:core])[0] == 0 and stated.old_count:
        return body
    return body[:core]


def _counts(body: list[str]) -> tuple[int, int]:
    """(old-side lines, new-side lines) of a hunk body; blank lines are context."""
    old = new = 0
    for line in body:
        kind = " " if _is_blank(line) else line[0]
        old += kind in " -"
        new += kind in " +"
    return old, new
