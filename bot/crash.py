"""A crashed evaluation, read from its output: the cause as text, and the exception as data.

An evaluation's output often starts with library noise (gym's NumPy-2 notice, deprecation and
convergence warnings) that says nothing about the failure, and a Python traceback is the only place
the cause exists. It is read once, when the evaluation fails, two ways:

- :func:`crash_summary`, the failure's *reason*: the exception line first, then the innermost frames
  of the last traceback (warnings dropped), so no clipping of the reason can lose the line that matters;
- :func:`read_crash`, a :class:`Crash` stored on the seed's result: the exception type, its message and
  the frames inside the project, so the agents of the next iterations use it without parsing prose.

Pure functions; nothing here runs a process.
"""

from __future__ import annotations

import ast
import contextlib
import re
from collections.abc import Collection
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field

#: Frames kept (the innermost ones inside the project), and the longest message kept.
MAX_FRAMES = 8
MAX_MESSAGE = 300
#: Frames of the last traceback a crash summary shows (innermost last).
LAST_FRAMES = 3
_EXCEPTION_LINES = 6
_EXCEPTION_CHARS = 600
_TAIL_LINES = 12

_TRACEBACK = "Traceback (most recent call last):"
_FRAME = re.compile(r'^\s+File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<function>.+))?$')
_EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<message>.*))?$")
#: "path:12: UserWarning: text" (``warnings`` output) and "FutureWarning: text".
_WARNING = re.compile(r"^(?:\S+:\d+: )?\w*Warning: ")


class Frame(BaseModel):
    """One frame of a traceback inside the project: the file relative to where the evaluation ran."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int
    function: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" + (f" in {self.function}" if self.function else "")


class Crash(BaseModel):
    """The exception that ended an evaluation, and the project frames it went through (innermost last)."""

    model_config = ConfigDict(frozen=True)

    #: As Python printed it: ``KeyError``, ``ValueError``, ``obp.errors.SomeError``.
    exception: str
    #: The first line of its message, bounded ("" when it has none).
    message: str = ""
    frames: list[Frame] = Field(default_factory=list)

    @property
    def key(self) -> str | None:
        """The missing key of a ``KeyError`` whose key is a string (``KeyError: 'ipw'``), else None."""
        if self.exception.rsplit(".", 1)[-1] != "KeyError":
            return None
        try:
            value = ast.literal_eval(self.message.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None
        return value if isinstance(value, str) else None

    def last_frame_in(self, paths: Collection[str]) -> Frame | None:
        """The innermost frame in one of ``paths`` (repository- or project-relative), or None."""
        for frame in reversed(self.frames):
            if any(p == frame.file or p.endswith("/" + frame.file) for p in paths):
                return frame
        return None

    def describe(self, paths: Collection[str] = ()) -> str:
        """One line: ``KeyError: 'ipw' (last frame in an editable file: pkg/x.py:12 in run)``; the last
        project frame when none is in ``paths``."""
        text = f"{self.exception}: {self.message}" if self.message else self.exception
        frame = self.last_frame_in(paths) if paths else None
        if frame is not None:
            return f"{text} (last frame in an editable file: {frame})"
        if self.frames:
            return f"{text} (last frame in the project: {self.frames[-1]})"
        return text


def read_crash(output: str, cwd: Path) -> Crash | None:
    """The last Python traceback in ``output`` as a :class:`Crash`, or None if there is none.

    Frames in files under ``cwd`` (the directory the evaluation ran in) are kept with paths relative
    to it; frames elsewhere (the libraries, the interpreter) are left out.
    """
    start = output.rfind(_TRACEBACK)
    if start == -1:
        return None
    frames: list[Frame] = []
    roots = _roots(cwd)
    for line in output[start + len(_TRACEBACK):].splitlines():
        match = _FRAME.match(line)
        if match:
            file = _relative(match["file"], roots)
            if file is not None:
                frames.append(Frame(file=file, line=int(match["line"]), function=match["function"] or ""))
            continue
        if not line or line[0].isspace():
            continue  # source lines, caret markers, notes
        exc = _EXCEPTION.match(line)
        if exc is None:
            return None
        message = (exc["message"] or "").strip()
        return Crash(exception=exc["type"], message=message[:MAX_MESSAGE], frames=frames[-MAX_FRAMES:])
    return None


def _roots(cwd: Path) -> list[str]:
    roots = {cwd.as_posix().rstrip("/")}
    with contextlib.suppress(OSError):
        roots.add(cwd.resolve().as_posix().rstrip("/"))
    return sorted(roots, key=len, reverse=True)


def _relative(file: str, roots: list[str]) -> str | None:
    """``file`` relative to the project, or None when it lies outside (a library, ``<frozen …>``)."""
    if file.startswith("<"):
        return None
    path = PurePosixPath(file)
    if not path.is_absolute():
        return None if ".." in path.parts else path.as_posix()
    for root in roots:
        if file.startswith(root + "/"):
            return file[len(root) + 1:]
    return None


# --------------------------------------------------------------------------- the cause, as text
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
    path = _short_path(match.group("file"), root)
    name = f", in {match.group('function')}" if match.group("function") else ""
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
