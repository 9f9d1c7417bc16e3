"""Reading a candidate diff's added code for ways around the harness (:func:`check_diff`), and the
user's checkout fingerprint (:func:`checkout_fingerprint`). The rules are :mod:`bot.integrity.rules`."""

from __future__ import annotations

import ast
import hashlib
import re
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bot.git import git
from bot.integrity.rules import Finding, Scanner

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass
class _FileChange:
    path: str
    added: set[int]
    #: (first new-file line number, post-image lines) per hunk, for when the full file is not known.
    hunks: list[tuple[int, list[str]]]


def check_diff(
    applied_diff: str,
    protected: tuple[str, ...],
    metrics_hint: str | None,
    files: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Scan the code a candidate diff ADDS to Python files for metric gaming.

    ``protected`` are the protected globs (harness, config, CI); ``metrics_hint`` is the config's
    ``evaluate.metrics`` (a repo-relative path, or ``{metrics_path}``/None when the bot picks the file,
    in which case any path named like ``metrics*.json`` counts). ``files`` maps paths to their full
    text after the patch; without it each hunk's post-image is parsed on its own.

    Returns:
        The findings in file and line order (empty when nothing is suspicious). Raises nothing:
        text that does not parse is scanned line by line.
    """
    harness = _harness_modules(protected)
    findings: list[Finding] = []
    for change in _changes(applied_diff):
        if not change.path.endswith(".py") or not change.added:
            continue
        scanner = Scanner(change.path, protected, metrics_hint, harness)
        text = files.get(change.path) if files is not None else None
        for tree, offset in _trees(text, change):
            scanner.scan(tree, offset, change.added)
        findings.extend(scanner.findings)
    unique = {(f.path, f.line, f.code, f.message): f for f in findings}
    return sorted(unique.values(), key=lambda f: (f.path, f.line, f.code))


def checkout_fingerprint(repo: Path) -> str:
    """A digest of what the user sees in the checkout at ``repo``: HEAD, ``git status`` and the size and
    modification time of every changed or untracked file. The bot's own state (``.growthhacker/``) is
    git-ignored and not part of it, so an evaluation that leaves the fingerprint unchanged did not
    write into the user's checkout. Read-only: git takes no index lock (the user may run git too).

    Returns:
        A hex digest. Raises WorkspaceError if git fails.
    """
    head = git(repo, "rev-parse", "HEAD", "--symbolic-full-name", "HEAD")
    status = git(repo, "--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all")
    digest = hashlib.sha256((head + status).encode())
    for entry in sorted(e for e in status.split("\0") if e):
        target = repo / entry[3:]
        if target.is_file() and not target.is_symlink():
            info = target.stat()
            digest.update(f"{entry[3:]}:{info.st_size}:{info.st_mtime_ns}".encode())
    return digest.hexdigest()


def _changes(diff: str) -> Iterator[_FileChange]:
    """Added line numbers and hunk post-images per target file of a unified diff."""
    change: _FileChange | None = None
    line_no = 0
    post: list[str] | None = None
    for raw in diff.splitlines():
        if raw.startswith("+++ "):
            if change is not None:
                yield change
            target = raw[4:].strip().split("\t")[0]
            path = target[2:] if target.startswith("b/") else target
            change = None if path == "/dev/null" else _FileChange(path, set(), [])
            post = None
        elif raw.startswith("--- ") and post is None:
            continue
        elif change is not None and (match := _HUNK.match(raw)):
            line_no = int(match.group(1))
            post = []
            change.hunks.append((line_no, post))
        elif change is not None and post is not None and raw[:1] in ("+", " "):
            if raw[:1] == "+":
                change.added.add(line_no)
            post.append(raw[1:])
            line_no += 1
    if change is not None:
        yield change


def _trees(text: str | None, change: _FileChange) -> Iterator[tuple[ast.AST, int]]:
    """ASTs to scan with the line offset that maps their line numbers to the new file."""
    if text is not None:
        try:
            yield ast.parse(text), 0
            return
        except (SyntaxError, ValueError):
            pass  # fall back to the hunks: a candidate that does not compile fails its gate anyway
    for start, lines in change.hunks:
        block = textwrap.dedent("\n".join(lines))
        try:
            yield ast.parse(block), start - 1
            continue
        except (SyntaxError, ValueError):
            pass
        for index, line in enumerate(lines):  # a partial block: judge each added line alone
            if start + index in change.added:
                try:
                    yield ast.parse(line.strip()), start + index - 1
                except (SyntaxError, ValueError):
                    continue


def _harness_modules(protected: tuple[str, ...]) -> frozenset[str]:
    """Module names under which the protected Python files can be imported (plus ``__main__``)."""
    names = {"__main__"}
    for glob in protected:
        if glob.endswith(".py") and not any(c in glob for c in "*?["):
            parts = PurePosixPath(glob[:-3]).parts
            names.update(".".join(parts[i:]) for i in range(len(parts)))
    return frozenset(names)


