"""Why a process failed, from its output: the exception and its last frames, not the banners above.

An evaluation's output often starts with library noise (gym's NumPy-2 notice, deprecation and
convergence warnings) that says nothing about the failure. A failure reason built from the head of
that output, or clipped from its head later, loses the one line that matters. :func:`crash_summary`
puts the exception line first, then the innermost frames of the last traceback; output without a
traceback keeps its last lines, warnings dropped. Pure functions; nothing here runs a process.
"""

from __future__ import annotations

import re

#: Frames of the last traceback kept (innermost last).
LAST_FRAMES = 3
_EXCEPTION_LINES = 6
_EXCEPTION_CHARS = 600
_TAIL_LINES = 12
_TRACEBACK = "Traceback (most recent call last):"
_FRAME = re.compile(r'^\s+File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<name>.+))?$')
#: "path:12: UserWarning: text" (``warnings`` output) and "FutureWarning: text".
_WARNING = re.compile(r"^(?:\S+:\d+: )?\w*Warning: ")


def crash_summary(output: str, root: str | None = None) -> str:
    """The cause of a failure in ``output``: exception line(s) first, then the last frames.

    Paths under ``root`` are shown relative to it, paths inside ``site-packages`` from the package
    on. Without a traceback, returns the last lines of ``output`` without warning lines. Returns
    "(no output)" for empty output; never raises.
    """
    lines = output.rstrip().splitlines()
    start = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip() == _TRACEBACK), None)
    if start is None:
        kept = _without_warnings(lines)[-_TAIL_LINES:]
        return "\n".join(kept).strip() or "(no output)"
    frames, exception = _read_traceback(lines[start + 1 :])
    shown = [_frame_text(frame, root) for frame in frames[-LAST_FRAMES:]]
    message = "\n".join(exception[:_EXCEPTION_LINES])[:_EXCEPTION_CHARS].strip() or "(no exception line)"
    if not shown:
        return message
    return f"{message}\nlast frames (innermost last):\n" + "\n".join(shown)


def _read_traceback(lines: list[str]) -> tuple[list[list[str]], list[str]]:
    """(frames, each its "File …" line and source lines; the exception lines after them)."""
    frames: list[list[str]] = []
    for index, line in enumerate(lines):
        if _FRAME.match(line):
            frames.append([line])
        elif frames and line.startswith(" ") and line.strip():
            frames[-1].append(line)
        elif line.strip():
            return frames, [line, *_without_warnings(lines[index + 1 :])]
    return frames, []


def _frame_text(frame: list[str], root: str | None) -> str:
    match = _FRAME.match(frame[0])
    assert match is not None  # frames start with a matching line
    path = _short_path(match.group("path"), root)
    name = f", in {match.group('name')}" if match.group("name") else ""
    where = f'  File "{path}", line {match.group("line")}{name}'
    # Source lines and the ^^^ markers under them, without their varying indentation.
    source = [f"    {line.strip()}" for line in frame[1:] if line.strip().strip("^~ ")]
    return "\n".join([where, *source[:2]])


def _short_path(path: str, root: str | None) -> str:
    if root and path.startswith(root.rstrip("/") + "/"):
        return path[len(root.rstrip("/")) + 1 :]
    marker = "site-packages/"
    return path[path.index(marker) + len(marker) :] if marker in path else path


def _without_warnings(lines: list[str]) -> list[str]:
    """``lines`` without warning lines and the indented source line ``warnings`` prints below each."""
    kept: list[str] = []
    skip_source = False
    for line in lines:
        if _WARNING.match(line):
            skip_source = True
            continue
        if skip_source and line.startswith(" "):
            skip_source = False
            continue
        skip_source = False
        kept.append(line)
    return kept
