"""Checking and applying a whole diff: the path policy before any file is read, then all-or-nothing.

:func:`plan_patch` extracts the diff from an agent's answer, parses it, checks every path of every
file against the :class:`PathPolicy` (and symlinks, binary content, file modes) before reading any
file, then applies the hunks tolerantly in memory (see :mod:`bot.patch.hunks`). :func:`apply_patch`
writes the result all-or-nothing. The :class:`AppliedPatch` carries a normalised diff
(:func:`make_diff`) of what was really applied, which re-applies exactly to the original tree.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import os
import secrets
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.errors import PatchError
from bot.patch.hunks import apply_hunks, split_lines
from bot.patch.parse import NO_NEWLINE, FileDiff, extract_diff, parse_diff
from bot.patch.paths import PathPolicy, normalise_path

# --- results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileEdit:
    """One file's change: ``before`` None = created, ``after`` None = deleted, ``old_path`` = renamed from."""

    path: str
    old_path: str | None
    before: str | None
    after: str | None


@dataclass(frozen=True)
class AppliedPatch:
    """What a diff does (or did) to the tree, and the normalised diff of exactly that."""

    edits: tuple[FileEdit, ...]
    diff: str

    @property
    def paths(self) -> list[str]:
        """Every path touched (for renames both old and new), sorted."""
        return sorted({p for edit in self.edits for p in (edit.path, edit.old_path) if p is not None})

    def summary(self) -> str:
        """One line like "ope_pipeline/estimators.py (+3 −1)", files joined by ", "."""
        parts = []
        for edit in self.edits:
            added, removed = _count_changes(edit.before, edit.after)
            name = f"{edit.old_path} → {edit.path}" if edit.old_path else edit.path
            parts.append(f"{name} (+{added} −{removed})")
        return ", ".join(parts)


def _count_changes(before: str | None, after: str | None) -> tuple[int, int]:
    old, new = _raw_lines(before), _raw_lines(after)
    added = removed = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new).get_opcodes():
        if tag in ("replace", "delete"):
            removed += i2 - i1
        if tag in ("replace", "insert"):
            added += j2 - j1
    return added, removed


def _raw_lines(content: str | None) -> list[str]:
    return [text + eol for text, eol in split_lines(content or "")]


# --- planning --------------------------------------------------------------------------------------


def plan_patch(text: str, root: Path, policy: PathPolicy) -> AppliedPatch:
    """Work out what the diff in ``text`` would do to the tree at ``root``, writing nothing.

    Every path (source and target of every file) is checked against ``policy``, for symlinks, binary
    content and file modes before any file is read. Returns the planned :class:`AppliedPatch`.

    Raises:
        PatchError: on the first problem, with a stable ``code`` (see :data:`bot.errors.PatchErrorCode`).
    """
    diff = extract_diff(text)
    if "\x00" in diff:
        raise PatchError("binary", "The diff contains NUL bytes; only text files can be patched.")
    lines = diff.split("\n")[:-1]
    if lines and all(line.endswith("\r") for line in lines):
        diff = diff.replace("\r\n", "\n")  # the whole answer went through a CRLF conversion
    files = parse_diff(diff)
    normal = [_checked(file, root, policy) for file in files]
    tree = _Tree(root)
    for file, (source, target) in zip(files, normal, strict=True):
        tree.apply(file, source, target)
    return tree.result()


def _checked(file: FileDiff, root: Path, policy: PathPolicy) -> tuple[str | None, str | None]:
    """Check one file entry against the policy; returns its normalised (source, target) paths."""
    for path in file.paths:
        policy.check(path)
    label = normalise_path(file.target or file.source or "")
    if file.symlink:
        raise PatchError(
            "symlink", f"The diff makes or changes {label} as a symlink; patch regular files only.", label
        )
    if file.binary or file.submodule:
        raise PatchError(
            "binary", f"The diff changes {label} as a binary file or submodule; only text files.", label
        )
    if file.executable:
        raise PatchError(
            "executable",
            f"The diff sets an executable or changed file mode on {label}; "
            "drop the 'old mode'/'new mode' lines and use mode 100644.",
            label,
        )
    source = normalise_path(file.source) if file.source is not None else None
    target = normalise_path(file.target) if file.target is not None else None
    for path in dict.fromkeys(p for p in (source, target) if p is not None):
        _check_no_symlink(root, path)
    return source, target


def _check_no_symlink(root: Path, path: str) -> None:
    current = root
    for part in path.split("/"):
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return
        if stat.S_ISLNK(mode):
            inside = current.relative_to(root).as_posix()
            raise PatchError(
                "symlink",
                f"{inside} is a symlink, so {path} cannot be patched safely; edit the real file instead.",
                path,
            )


class _Tree:
    """The files a diff touches, read lazily from disk, changed in memory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.original: dict[str, str | None] = {}
        self.current: dict[str, str | None] = {}
        self.renames: list[tuple[str, str]] = []

    def get(self, path: str) -> str | None:
        if path not in self.current:
            self.original[path] = self.current[path] = _read_text(self.root, path)
        return self.current[path]

    def apply(self, file: FileDiff, source: str | None, target: str | None) -> None:
        if source is not None and source == target:
            if self.get(source) is None and file.hunks and all(not h.before for h in file.hunks):
                source = None  # "@@ -0,0" on a missing file: a create whose "--- /dev/null" got lost
            elif not file.hunks:
                raise PatchError(
                    "parse_error",
                    f"The entry for {target} has no hunks; add @@ -start,count +start,count @@ hunks.",
                    target,
                )
        if target is None:
            if source is not None:
                self._delete(file, source)
            return
        if source is None:
            self._check_creatable(target)
            self.current[target] = apply_hunks("", file.hunks, target)
            return
        old = self._existing(source)
        if source != target:
            self._check_creatable(target)
            self.current[source] = None
            self.renames.append((source, target))
        self.current[target] = apply_hunks(old, file.hunks, target) if file.hunks else old

    def _delete(self, file: FileDiff, path: str) -> None:
        old = self._existing(path)
        if file.hunks and (remaining := apply_hunks(old, file.hunks, path)):
            raise PatchError(
                "context_mismatch",
                f"The diff deletes {path} but its hunks leave {len(split_lines(remaining))} line(s); "
                "a deletion must remove every line of the current file.",
                path,
            )
        self.current[path] = None

    def _existing(self, path: str) -> str:
        content = self.get(path)
        if content is None:
            raise PatchError(
                "file_missing",
                f"{path} does not exist; patch an existing file or create it with '--- /dev/null'.",
                path,
            )
        return content

    def _check_creatable(self, path: str) -> None:
        full = self.root / path
        if path not in self.current and os.path.lexists(full) and not full.is_file():
            raise PatchError("file_exists", f"{path} already exists as a directory; pick another name.", path)
        if self.get(path) is not None:
            raise PatchError(
                "file_exists", f"{path} already exists; write a diff that modifies it instead.", path
            )
        parent = self.root
        for part in path.split("/")[:-1]:
            parent = parent / part
            if os.path.lexists(parent) and not parent.is_dir():
                raise PatchError(
                    "file_exists",
                    f"{parent.relative_to(self.root).as_posix()} is a file, so {path} cannot be created.",
                    path,
                )

    def result(self) -> AppliedPatch:
        renamed = {
            new: old
            for old, new in self.renames
            if self.original[old] is not None
            and self.current[old] is None
            and self.original[new] is None
            and self.current[new] is not None
        }
        edits = []
        for path in sorted(self.current):
            if path in renamed.values():
                continue
            old_path = renamed.get(path)
            before = self.original[old_path if old_path else path]
            if old_path or before != self.current[path]:
                edits.append(FileEdit(path, old_path, before, self.current[path]))
        if not edits:
            raise PatchError(
                "no_change",
                f"The diff applies to {', '.join(sorted(self.current))} but changes nothing; "
                "make the '+' lines differ from the '-' lines.",
                next(iter(sorted(self.current)), None),
            )
        return AppliedPatch(tuple(edits), make_diff(self.original, self.current))


def _read_text(root: Path, path: str) -> str | None:
    """The UTF-8 text of ``root/path``; ``None`` if it does not exist."""
    full = root / path
    try:
        mode = os.lstat(full).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise PatchError("file_missing", f"{path} is {kind}; a diff can only patch regular files.", path)
    data = full.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PatchError("binary", f"{path} is not UTF-8 text, so it cannot be patched.", path) from exc
    if "\x00" in text:
        raise PatchError("binary", f"{path} contains NUL bytes (binary), so it cannot be patched.", path)
    return text


# --- writing ---------------------------------------------------------------------------------------


def apply_patch(text: str, root: Path, policy: PathPolicy) -> AppliedPatch:
    """:func:`plan_patch`, then write every file; returns the :class:`AppliedPatch`.

    Files are written via a temporary file and ``os.replace``; new files get their parent
    directories; deleted files are unlinked. If writing fails mid-way, the files already written
    are restored to their previous content before the error is re-raised.

    Raises:
        PatchError: the diff was refused (nothing was written).
        OSError: the file system failed while writing (the tree was restored).
    """
    applied = plan_patch(text, root, policy)
    _write_edits(root, applied.edits)
    return applied


def _write_edits(root: Path, edits: tuple[FileEdit, ...]) -> None:
    undo: list[Callable[[], None]] = []
    try:
        for edit in edits:
            _write_edit(root, edit, undo)
    except OSError:
        for step in reversed(undo):
            # Keep restoring the other files; the original error is the one worth reporting.
            with contextlib.suppress(OSError):
                step()
        raise


def _write_edit(root: Path, edit: FileEdit, undo: list[Callable[[], None]]) -> None:
    target = root / edit.path
    source = root / (edit.old_path or edit.path)
    mode = stat.S_IMODE(os.lstat(source).st_mode) if edit.before is not None else None
    if edit.after is None:
        os.unlink(target)
        undo.append(functools.partial(_atomic_write, target, edit.before or "", mode))
        return
    if edit.before is None or edit.old_path:
        _make_parents(root, target, undo)
        _atomic_write(target, edit.after, mode)
        undo.append(functools.partial(_unlink_if_exists, target))
    else:
        _atomic_write(target, edit.after, mode)
        undo.append(functools.partial(_atomic_write, target, edit.before, mode))
    if edit.old_path and edit.before is not None:
        os.unlink(source)
        undo.append(functools.partial(_atomic_write, source, edit.before, mode))


def _make_parents(root: Path, target: Path, undo: list[Callable[[], None]]) -> None:
    """Create the missing parent directories of ``target``, each recorded in ``undo`` once made."""
    missing = []
    parent = target.parent
    while parent not in (root, parent.parent) and not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        directory.mkdir()
        undo.append(functools.partial(os.rmdir, directory))


def _unlink_if_exists(path: Path) -> None:
    path.unlink(missing_ok=True)


def _atomic_write(path: Path, content: str, mode: int | None) -> None:
    temporary = path.with_name(f".gh-{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content.encode("utf-8"))
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


# --- normalised diffs ------------------------------------------------------------------------------


def make_diff(before: Mapping[str, str | None], after: Mapping[str, str | None]) -> str:
    """A normalised unified diff from ``before`` to ``after`` (path → content, ``None`` = absent).

    Files are sorted by path; each has a "diff --git" line (so empty files can be created and
    deleted), "--- a/p" / "+++ b/p" headers ("/dev/null" for create/delete) and difflib hunks with
    3 lines of context and "\\ No newline at end of file" markers, so the diff re-applies exactly.
    Unchanged files are omitted. Returns "" if nothing changed.
    """
    parts = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old != new:
            parts.append(_file_diff(path, old, new))
    return "".join(parts)


def _file_diff(path: str, old: str | None, new: str | None) -> str:
    head = f"diff --git a/{path} b/{path}\n"
    if old is None:
        head += "new file mode 100644\n"
    elif new is None:
        head += "deleted file mode 100644\n"
    a, b = _raw_lines(old), _raw_lines(new)
    if not a and not b:
        return head  # creating or deleting an empty file: git writes no hunk either
    body = difflib.unified_diff(
        a, b, f"a/{path}" if old is not None else "/dev/null", f"b/{path}" if new is not None else "/dev/null"
    )
    return head + "".join(line if line.endswith("\n") else f"{line}\n{NO_NEWLINE}\n" for line in body)
