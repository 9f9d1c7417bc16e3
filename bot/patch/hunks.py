"""Applying one file's hunks tolerantly: shifted line numbers, whitespace drift, CRLF, missing EOF newline.

Private to :mod:`bot.patch`. Each hunk's "before" lines (context and removed) are located in the
current content by, in order: (1) an exact match at the stated line, shifted by what earlier hunks
moved; (2) an exact match anywhere — the only one, or the nearest if it lies within
:data:`WINDOW` lines of the stated line; (3) the same comparing ``line.strip()``, re-indenting added
lines by the indentation drift seen on the matched lines. Matched context lines keep the file's text.
A hunk whose header gave no start line (see :mod:`bot.patch.headers`) must match in one place only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.errors import PatchError
from bot.patch.parse import Hunk, HunkLine

#: How far from the stated line the nearest of several equal matches may lie and still be taken.
WINDOW = 3
#: A file line: (text without line ending, line ending: "\n", "\r\n" or "" for none at EOF).
Line = tuple[str, str]
_Reindent = Callable[[str], str]


def split_lines(content: str) -> list[Line]:
    """Split ``content`` on "\\n" only; returns (text, ending) pairs that join back to ``content``."""
    parts = content.split("\n")
    lines: list[Line] = []
    for part in parts[:-1]:
        lines.append((part[:-1], "\r\n") if part.endswith("\r") else (part, "\n"))
    if parts[-1]:
        lines.append((parts[-1], ""))
    return lines


def apply_hunks(content: str, hunks: Sequence[Hunk], path: str) -> str:
    """Apply ``hunks`` (in order) to ``content``; returns the new content.

    Raises:
        PatchError: ``context_mismatch`` or ``ambiguous_context``, naming the hunk and what was found.
    """
    lines = split_lines(content)
    terminated = [eol for _, eol in lines if eol]
    crlf = bool(terminated) and all(eol == "\r\n" for eol in terminated)
    # A diff that carries "\r\n" itself (git, make_diff) is taken literally; one without (LLMs) gets
    # the CRLF file's line ending on its added lines.
    literal = any(line.eol == "\r\n" for hunk in hunks for line in hunk.lines)
    default_eol = "\r\n" if crlf else "\n"
    added_eol = "\r\n" if crlf and not literal else "\n"
    regions: list[tuple[int, int]] = []  # [start, end) of lines changed by applied hunks (no context)
    shift = 0
    for hunk in hunks:
        before = hunk.before
        expected = hunk.stated_index + shift
        position, loose = _locate(lines, before, expected, regions, hunk, path, len(hunks))
        end = position + len(before)
        reindent = _reindenter(before, lines[position:end]) if loose else _same
        new, changed = _replacement(hunk.lines, lines[position:end], reindent, added_eol)
        lines[position:end] = new
        delta = len(new) - len(before)
        regions = [(s + delta, e + delta) if s >= end else (s, e) for s, e in regions]
        regions.append((position + changed[0], position + changed[1]))
        # An unanchored hunk says nothing about how the diff's line numbers drift from the file's.
        shift = position - hunk.stated_index + delta if hunk.anchored else shift + delta
    # Only the last line may lack a line ending (a hunk may have appended after an unterminated line).
    fixed = [(text, eol or default_eol) for text, eol in lines[:-1]] + lines[-1:]
    return "".join(text + eol for text, eol in fixed)


def _same(text: str) -> str:
    return text


def _replacement(
    hunk_lines: Sequence[HunkLine], matched: list[Line], reindent: _Reindent, eol: str
) -> tuple[list[Line], tuple[int, int]]:
    """The lines replacing ``matched``, and the [start, end) span of changed lines among them."""
    out: list[Line] = []
    changed: list[int] = []
    matched_iter = iter(matched)
    for line in hunk_lines:
        if line.kind == " ":
            out.append(next(matched_iter))
            continue
        changed.append(len(out))
        if line.kind == "-":
            next(matched_iter)
        else:
            out.append((reindent(line.text), eol if line.eol == "\n" else line.eol))
            changed.append(len(out))
    return out, (min(changed, default=0), max(changed, default=0))


def _overlaps(start: int, length: int, regions: list[tuple[int, int]]) -> bool:
    # Works for empty spans too: an insertion point strictly inside a region overlaps it, and a span
    # strictly containing an empty region (a pure deletion) overlaps it.
    return any(start < e and s < start + length for s, e in regions)


def _locate(
    lines: list[Line],
    before: list[HunkLine],
    expected: int,
    regions: list[tuple[int, int]],
    hunk: Hunk,
    path: str,
    total: int,
) -> tuple[int, bool]:
    """Where the hunk's "before" lines are; returns (index, whether whitespace-insensitive)."""
    size = len(before)
    if size == 0 and not hunk.anchored and lines:
        raise PatchError(
            "context_mismatch",
            f"Hunk {hunk.index}/{total} ({hunk.header}) of {path} has neither context nor removed lines "
            "and its header gives no start line, so nothing says where to insert it. Add two or three "
            "unchanged lines from around the insertion point as context.",
            path,
        )
    if size == 0:  # pure insertion (a new file, or a hunk without context)
        return min(max(expected, 0), len(lines)), False
    for loose in (False, True):
        wanted = [_key(line.text, loose) for line in before]

        def matches(start: int, wanted: list[str] = wanted, loose: bool = loose) -> bool:
            return all(_key(lines[start + i][0], loose) == w for i, w in enumerate(wanted))

        if (
            hunk.anchored
            and 0 <= expected <= len(lines) - size
            and not _overlaps(expected, size, regions)
            and matches(expected)
        ):
            return expected, loose
        found = [
            start
            for start in range(len(lines) - size + 1)
            if not _overlaps(start, size, regions) and matches(start)
        ]
        if len(found) == 1:
            return found[0], loose
        if found:
            ranked = sorted(found, key=lambda start: abs(start - expected))
            nearest = abs(ranked[0] - expected)
            if hunk.anchored and nearest <= WINDOW and abs(ranked[1] - expected) > nearest:
                return ranked[0], loose
            places = ", ".join(str(start + 1) for start in found[:6]) + (", …" if len(found) > 6 else "")
            if not hunk.anchored:
                raise PatchError(
                    "ambiguous_context",
                    f"Hunk {hunk.index}/{total} ({hunk.header}) of {path} matches the file in "
                    f"{len(found)} places (lines {places}) and its header gives no start line. Add more "
                    "unchanged context lines around the change, so that they occur only once.",
                    path,
                )
            raise PatchError(
                "ambiguous_context",
                f"Hunk {hunk.index}/{total} ({hunk.header}) of {path} matches the file in "
                f"{len(found)} places (lines {places}), none within {WINDOW} lines of the stated line "
                f"{expected + 1}. Add more "
                "unchanged context lines around the change, or correct the line numbers in the @@ header.",
                path,
            )
    raise PatchError("context_mismatch", _mismatch(lines, before, expected, regions, hunk, path, total), path)


def _key(text: str, loose: bool) -> str:
    return text.strip() if loose else text


def _mismatch(
    lines: list[Line],
    before: list[HunkLine],
    expected: int,
    regions: list[tuple[int, int]],
    hunk: Hunk,
    path: str,
    total: int,
) -> str:
    """Explain which hunk line was not found, with the file lines nearest to where it should be."""
    wanted = [line.text.strip() for line in before]
    best_start, best_count = max(expected, 0), 0
    for start in range(len(lines)):
        count = 0
        while count < len(wanted) and start + count < len(lines):
            if lines[start + count][0].strip() != wanted[count]:
                break
            count += 1
        closer = abs(start - expected) < abs(best_start - expected)
        if count > best_count or (count == best_count and count > 0 and closer):
            best_start, best_count = start, count
    head = f"Hunk {hunk.index}/{total} ({hunk.header}) does not apply to {path}"
    if best_count == len(wanted):
        return (
            f"{head}: its lines are only found where an earlier hunk already changed the file (line "
            f"{best_start + 1}). Merge overlapping hunks into one, or drop the duplicate hunk."
        )
    missing = before[best_count]
    at = best_start + best_count
    where = f"diff line {missing.diff_line}" if missing.diff_line else f"hunk line {best_count + 1}"
    occurs = [str(i + 1) for i, (text, _) in enumerate(lines) if text.strip() == missing.text.strip()]
    elsewhere = f"it occurs at line(s) {', '.join(occurs[:5])}" if occurs else "it occurs nowhere in the file"
    if best_count:
        after = f" after {best_count} matching line(s) starting at line {best_start + 1}"
    elif not hunk.anchored:
        after = " anywhere in the file"
    elif expected >= len(lines):
        after = f" at the stated line {expected + 1} (the file has {len(lines)} lines)"
    else:
        after = f" near the stated line {expected + 1}"
    low = max(min(at, len(lines)) - 2, 0)
    excerpt = "\n".join(
        f"{'>' if i == at else ' '} {i + 1:5} | {lines[i][0][:120]}"
        for i in range(low, min(low + 5, len(lines)))
    )
    return (
        f"{head}: the expected line {missing.text.strip()[:120]!r} ({where}) was not found{after}; "
        f"{elsewhere}. "
        f"The file has there:\n{excerpt or '  (the file is empty)'}\n"
        "Copy the context and '-' lines exactly from the current file content and regenerate the hunk."
    )


def _indent(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" \t"))]


def _reindenter(before: list[HunkLine], matched: list[Line]) -> _Reindent:
    """A function fixing the indentation of added lines by the drift seen on the matched lines."""
    pairs = [
        (_indent(diff.text), _indent(text))
        for diff, (text, _) in zip(before, matched, strict=True)
        if diff.text.strip() and text.strip()
    ]
    if all(d == f for d, f in pairs):
        return _same
    rule = _prefix_rule(pairs) or _unit_rule(pairs) or _table_rule(pairs)
    if rule is None:
        return _same

    def reindent(text: str) -> str:
        indent = _indent(text)  # the whole of a blank line: drifted blank lines lose the drift too
        return rule(indent) + text[len(indent) :]

    return reindent


def _prefix_rule(pairs: list[tuple[str, str]]) -> _Reindent | None:
    """Drift by a constant prefix: e.g. every diff line has two extra spaces, or one tab too few."""
    for d0, f0 in dict.fromkeys(pairs):
        common = _common_prefix(d0[::-1], f0[::-1])
        strip, add = d0[: len(d0) - common], f0[: len(f0) - common]
        if all(d.startswith(strip) and add + d[len(strip) :] == f for d, f in pairs):
            return _prefix_replacer(strip, add)
    return None


def _prefix_replacer(strip: str, add: str) -> _Reindent:
    # An added line indented less than the drift loses what it has of it.
    return lambda indent: add + indent[_common_prefix(indent, strip) :]


def _common_prefix(a: str, b: str) -> int:
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count


def _unit_rule(pairs: list[tuple[str, str]]) -> _Reindent | None:
    """Spaces in the diff where the file has tabs (or the reverse), at a constant width per tab."""
    spaces_to_tabs = all(set(d) <= {" "} and set(f) <= {"\t"} for d, f in pairs)
    tabs_to_spaces = all(set(d) <= {"\t"} and set(f) <= {" "} for d, f in pairs)
    if not (spaces_to_tabs or tabs_to_spaces):
        return None
    counts = [(len(d), len(f)) if spaces_to_tabs else (len(f), len(d)) for d, f in pairs]  # (spaces, tabs)
    indented = [(spaces, tabs) for spaces, tabs in counts if spaces or tabs]
    if not indented or any(tabs == 0 or spaces % tabs for spaces, tabs in indented):
        return None
    widths = {spaces // tabs for spaces, tabs in indented}
    if len(widths) != 1 or 0 in widths:
        return None
    width = widths.pop()

    def to_tabs(indent: str) -> str:
        columns = len(indent.expandtabs(width))
        return "\t" * (columns // width) + " " * (columns % width)

    return to_tabs if spaces_to_tabs else (lambda indent: indent.replace("\t", " " * width))


def _table_rule(pairs: list[tuple[str, str]]) -> _Reindent | None:
    """Fallback: each diff indentation seen maps to exactly one file indentation."""
    table: dict[str, str] = {}
    for d, f in pairs:
        if table.setdefault(d, f) != f:
            return None
    return lambda ind: table.get(ind, ind)
