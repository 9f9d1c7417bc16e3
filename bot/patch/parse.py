"""Reading diffs: finding one in an agent's answer, and parsing it (through ``unidiff``) into files,
hunks and lines.

:func:`extract_diff` is re-exported by :mod:`bot.patch`; the rest is private to it. Paths here are
as the diff wrote them, minus the git ``a/`` ``b/`` prefixes; the path policy and normalisation
happen in :mod:`bot.patch.paths` and :mod:`bot.patch`.
"""

from __future__ import annotations

import codecs
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchedFile, PatchSet

from bot.errors import PatchError
from bot.patch.headers import NormalisedDiff, normalise_hunks

NO_NEWLINE = "\\ No newline at end of file"
_DEV_NULL = "/dev/null"
_MODE_CHANGE = re.compile(r"^(old|new) mode \d+")
_NEW_FILE_MODE = re.compile(r"^new file mode (\d+)")
_ANY_MODE = re.compile(r"^(?:new file mode|deleted file mode|old mode|new mode|index \S+) (\d{6})$")
_BINARY = re.compile(r"^(GIT binary patch|Binary files? .* differ)")
_RENAME = re.compile(r"^rename (from|to) (.+?)\s*$")
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_DIFF_START = re.compile(r"^(diff --git |--- |\+\+\+ |@@ )")


@dataclass(frozen=True)
class HunkLine:
    """One body line of a hunk: ``kind`` is " " (context), "-" or "+"; ``eol`` "" means none at EOF."""

    kind: str
    text: str
    eol: str
    diff_line: int | None


@dataclass(frozen=True)
class Hunk:
    """One hunk of one file, numbered from 1 in the order the diff gives them.

    ``header`` is the header as the agent wrote it; ``source_start`` the old-side start after
    normalisation; ``anchored`` is False when the header gave no start line to trust.
    """

    index: int
    header: str
    source_start: int
    lines: tuple[HunkLine, ...]
    anchored: bool = True

    @property
    def before(self) -> list[HunkLine]:
        """The lines the hunk expects in the file: context and removed lines, in order."""
        return [line for line in self.lines if line.kind != "+"]

    @property
    def stated_index(self) -> int:
        """0-based index in the original file where the header says the hunk's "before" lines start."""
        # "-N,0" means "insert after line N", every other header "starts at line N".
        return max(self.source_start - 1 if self.before else self.source_start, 0)


@dataclass(frozen=True)
class FileDiff:
    """One file's entry in a diff. ``source``/``target`` are ``None`` for /dev/null (create/delete)."""

    source: str | None
    target: str | None
    hunks: tuple[Hunk, ...] = ()
    binary: bool = False
    symlink: bool = False
    submodule: bool = False
    executable: bool = False

    @property
    def paths(self) -> list[str]:
        """Every path the entry touches (source first), without duplicates."""
        return list(dict.fromkeys(p for p in (self.source, self.target) if p is not None))


@dataclass
class _Tracker:
    """Feeds lines to unidiff and remembers where it was, so parse errors can name a line."""

    lines: list[str]
    current: int = 0
    last_file: str | None = None

    def __iter__(self) -> Iterator[str]:
        for number, line in enumerate(self.lines, 1):
            self.current = number
            if line.startswith("+++ "):
                self.last_file = line[4:].strip()
            yield line


def extract_diff(text: str) -> str:
    """The diff inside an agent's answer; returns it as text.

    A text that starts with a diff header is returned as it is. Otherwise, with Markdown code
    fences: the concatenation of the fenced blocks that look like diffs (duplicates dropped);
    without: everything from the first "diff --git" line, or "--- " line followed by "+++ ", on.

    Raises:
        PatchError: ``empty_diff`` if there is no diff in ``text``.
    """
    lines = text.split("\n")
    start = next(
        (
            i
            for i, line in enumerate(lines)
            if line.startswith("diff --git ")
            or (line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "))
        ),
        None,
    )
    # A bare diff is never searched for fences: a context line " ```" (a Markdown fence in the
    # patched file) would look like one.
    if start is not None and not any(line.strip() for line in lines[:start]):
        return "\n".join(lines[start:])
    blocks = [block for block in _fenced_blocks(text) if any(map(_DIFF_START.match, block.splitlines()))]
    if blocks:
        return "".join(block if block.endswith("\n") else block + "\n" for block in dict.fromkeys(blocks))
    if start is not None:
        return "\n".join(lines[start:])
    raise PatchError(
        "empty_diff",
        "No unified diff found in the answer: reply with one ```diff block holding '--- a/<path>' / "
        "'+++ b/<path>' headers and @@ hunks.",
    )


def _fenced_blocks(text: str) -> Iterator[str]:
    """Contents of Markdown fenced code blocks (an unclosed fence runs to the end of the text)."""
    opened: tuple[str, str] | None = None  # (indent, fence)
    body: list[str] = []
    for line in text.split("\n"):
        match = _FENCE.match(line.rstrip("\r"))
        if opened is None:
            if match and "`" not in match.group(3):
                opened, body = (match.group(1), match.group(2)), []
            continue
        indent, fence = opened
        if (
            match
            and match.group(1) == indent
            and match.group(2)[0] == fence[0]
            and len(match.group(2)) >= len(fence)
            and not match.group(3).strip()
        ):
            yield "".join(part + "\n" for part in body)
            opened = None
            continue
        # Content of an indented fence is indented too (e.g. inside a Markdown list).
        body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip(" "))
    if opened is not None:
        yield "".join(part + "\n" for part in body)


def parse_diff(diff: str) -> list[FileDiff]:
    """Parse a unified diff (plain or git-style) into :class:`FileDiff` entries, in diff order.

    Raises:
        PatchError: ``parse_error`` (with the line number where known) or ``empty_diff``.
    """
    normalised = normalise_hunks(_plain_deletes(list(io.StringIO(diff))))  # "\r" stays in a line
    tracker = _Tracker(normalised.lines)
    try:
        patch = PatchSet(tracker)
    except UnidiffParseError as exc:
        message = _parse_message(exc, normalised.origins[tracker.current - 1] if tracker.current else 0)
        raise PatchError("parse_error", message, _strip_b(tracker.last_file)) from exc
    if not patch:
        raise PatchError(
            "empty_diff",
            "The text holds no file changes: write a unified diff with '--- a/<path>' and '+++ b/<path>' "
            "headers followed by @@ hunks.",
        )
    return [_file_diff(patched, normalised) for patched in patch]


def _plain_deletes(lines: list[str]) -> list[str]:
    """Blank the "diff --git" line of a deletion that lacks its "deleted file mode" line.

    unidiff refuses such an entry ("Target without source: +++ /dev/null"); as a plain diff it
    reads fine. Blanking (not removing) the line keeps line numbers in messages right.
    """
    starts = [i for i, line in enumerate(lines) if line.startswith("diff --git ")]
    for start, end in itertools.pairwise([*starts, len(lines)]):
        header = list(itertools.takewhile(lambda line: not line.startswith("@@"), lines[start:end]))
        deletes = any(line.rstrip() == "+++ /dev/null" for line in header)
        if deletes and not any(line.startswith("deleted file mode") for line in header):
            lines[start] = "\n"
    return lines


def _parse_message(exc: UnidiffParseError, line: int) -> str:
    return (
        f"The diff cannot be parsed (line {line}; unidiff: {str(exc).strip()}). Write each file as "
        "'--- a/<path>' (or /dev/null), '+++ b/<path>' (or /dev/null), then its @@ hunks, and start "
        "every hunk line with ' ' (context), '+' (added) or '-' (removed)."
    )


def _strip_b(name: str | None) -> str | None:
    if name is None or name == _DEV_NULL:
        return None
    return name[2:] if name.startswith("b/") else name


def _file_diff(patched: PatchedFile, normalised: NormalisedDiff) -> FileDiff:
    info = [line.rstrip("\r\n") for line in (patched.patch_info or [])]
    source, target = _paths(_clean(patched.source_file), _clean(patched.target_file))
    renames = {m.group(1): m.group(2) for m in map(_RENAME.match, info) if m}
    if "from" in renames and "to" in renames:
        source, target = _unquote(renames["from"]), _unquote(renames["to"])
    label = target or source
    if source is None and target is None:
        raise PatchError("parse_error", "A file entry has /dev/null on both sides; name the file it changes.")
    if any(line.startswith("copy from ") for line in info):
        raise PatchError(
            "parse_error", f"Copying files is not supported ({label}); write the copy as a new file.", label
        )
    # Modes are read from the git header lines here rather than from unidiff's attributes, which
    # only recent unidiff versions have.
    modes = {m.group(1) for m in map(_ANY_MODE.match, info) if m}
    new_modes = [int(m.group(1), 8) for m in map(_NEW_FILE_MODE.match, info) if m]
    return FileDiff(
        source=source,
        target=target,
        hunks=tuple(_hunks(patched, normalised)),
        binary=bool(patched.is_binary_file) or any(_BINARY.match(line) for line in info),
        symlink="120000" in modes,
        submodule="160000" in modes,
        executable=any(_MODE_CHANGE.match(line) for line in info) or any(m & 0o111 for m in new_modes),
    )


def _clean(name: str | None) -> str | None:
    if name is None:
        return None
    name = _unquote(name.rstrip())
    return None if name == _DEV_NULL else name


def _unquote(name: str) -> str:
    """Undo git's C-style quoting of unusual path names ("a/t\\303\\251st.py")."""
    if len(name) < 2 or not (name[0] == name[-1] == '"'):
        return name
    try:
        return codecs.escape_decode(name[1:-1].encode("utf-8"))[0].decode("utf-8")
    except (UnicodeDecodeError, ValueError) as exc:
        raise PatchError("parse_error", f"Cannot read the quoted path {name}; write it unquoted.") from exc


def _paths(source: str | None, target: str | None) -> tuple[str | None, str | None]:
    """Strip git's ``a/``/``b/`` prefixes the way ``git apply -p1`` would, but only when they are there."""
    has_a = source is None or source.startswith("a/")
    has_b = target is None or target.startswith("b/")
    stripped_source = source[2:] if source is not None and source.startswith("a/") else source
    stripped_target = target[2:] if target is not None and target.startswith("b/") else target
    if has_a and has_b:
        return stripped_source, stripped_target
    # Mixed headers ("--- a/x" / "+++ x"): strip only if that makes both sides name the same file,
    # otherwise a directory that happens to be called "a" or "b" would be mangled.
    if stripped_source == stripped_target:
        return stripped_source, stripped_target
    return source, target


def _hunks(patched: PatchedFile, normalised: NormalisedDiff) -> Iterator[Hunk]:
    """The file's hunks, with the header and line numbers as the agent wrote them."""
    for index, hunk in enumerate(patched, 1):
        numbers = [line.diff_line_no for line in hunk if line.diff_line_no is not None]
        # The normaliser writes every header right above its body and drops bodiless hunks.
        header_line = min(numbers) - 1
        lines: list[HunkLine] = []
        for line in hunk:
            if line.line_type in (" ", "-", "+"):
                origin = normalised.origins[line.diff_line_no - 1] if line.diff_line_no else None
                lines.append(_hunk_line(line.line_type, line.value, origin))
            elif line.line_type == "\\" and lines:
                # "\ No newline at end of file" belongs to the line before it.
                last = lines[-1]
                lines[-1] = HunkLine(last.kind, last.text + last.eol.removesuffix("\n"), "", last.diff_line)
        yield Hunk(
            index=index,
            header=normalised.headers.get(header_line, "@@")[:80],
            source_start=hunk.source_start,
            lines=tuple(lines),
            anchored=header_line not in normalised.unanchored,
        )


def _hunk_line(kind: str, value: str, diff_line: int | None) -> HunkLine:
    if value.endswith("\r\n"):
        return HunkLine(kind, value[:-2], "\r\n", diff_line)
    return HunkLine(kind, value.removesuffix("\n"), "\n", diff_line)


def diff_summary(diff: str) -> str:
    """One line like "ope_pipeline/estimators.py (+3 −1)" per file of ``diff``, joined by ", ".

    Returns "" for an empty or unreadable diff (a summary is for display; it never raises).
    """
    try:
        patch_set = PatchSet(normalise_hunks(list(io.StringIO(diff))).lines)
    except (UnidiffParseError, PatchError):
        return ""
    return ", ".join(f"{f.path} (+{f.added} −{f.removed})" for f in patch_set)
