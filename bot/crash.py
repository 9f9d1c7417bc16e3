"""A crashed evaluation, read: the exception that ended it and the frames of the project it ran through.

The evaluation's output is the only place this exists: a Python traceback on stderr. It is read once,
when the evaluation fails (:func:`read_crash`), and stored as data on the seed's result, so the agents
of the next iterations see the exception type, its message and the last frame in a file they may
edit, without parsing prose again.
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

_TRACEBACK = "Traceback (most recent call last):"
_FRAME = re.compile(r'^\s+File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<function>.+))?$')
_EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<message>.*))?$")


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
