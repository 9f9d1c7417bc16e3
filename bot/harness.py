"""What the agents may read but not edit: how the evaluation harness calls the editable code.

The editable files alone do not say how many rows, actions, policies and seeds go into the metric,
the reward type, or what the entry point passes in and reads back. :func:`read_only_context` reads
that from the code: the scripts ``evaluate.command`` runs, the local modules they import that are
not editable, and in each the functions that call into the editable code (with the harness's own
helpers they call and its module-level constants). Files listed in ``edit.context`` are added whole.
Everything is clipped; nothing here is ever offered for editing. A literal assigned to a name that
sounds like the answer (``GROUND_TRUTH = 0.43``) is hidden: an agent must not be able to hard-code it.

Paths are repository-relative (as in diffs); the project may be a subdirectory (``prefix``).
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Local modules followed from an entry script, at most.
_MAX_FILES = 12
_MAX_FILE_BYTES = 300_000
_HELPER_DEPTH = 1
#: An assignment to a name that sounds like the answer: ``GROUND_TRUTH = 0.43``, ``true_value: float =``.
_TRUTH = re.compile(
    r"^\s*[\w.]*?(?:truth|ground|oracle|optimal|answer|true_value|expected_value)\w*"
    r"\s*(?::[^=]*)?=(?!=)",
    re.IGNORECASE,
)
_Lines = tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class ReadOnlyExcerpt:
    """Lines of a file the agents may read but not edit, and why they are shown.

    ``lines`` are (1-based line number, text) pairs in order; a gap between numbers is an omission.
    """

    path: str
    why: str
    lines: _Lines
    total_lines: int

    def render(self, limit: int) -> str:
        """Numbered lines (``"  12 | text"``), "…" for omissions, cut to about ``limit`` characters."""
        rows: list[str] = []
        used, previous = 0, 0
        for number, text in self.lines:
            row = (
                "     …\n" if previous and number != previous + 1 else ""
            ) + f"{number:>5} | {text}".rstrip()
            if used + len(row) > limit:
                rows.append(f"     … (cut for length; {self.total_lines} lines in the file)")
                break
            rows.append(row)
            used, previous = used + len(row) + 1, number
        return "\n".join(rows)


def read_only_context(
    project: Path,
    command: str,
    editable: Collection[str],
    context: Sequence[str] = (),
    prefix: str = "",
) -> list[ReadOnlyExcerpt]:
    """The harness's calls into the editable code, then the ``context`` files; returns the excerpts.

    ``editable`` holds repository-relative paths, ``command`` is ``evaluate.command``, ``context``
    holds project-relative paths or glob patterns. Unreadable files are skipped; never raises.
    """
    base = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    local = {path[len(base) :] for path in editable if path.startswith(base)}
    excerpts: list[ReadOnlyExcerpt] = []
    entries = _entry_scripts(project, command)
    for rel in _harness_files(project, entries, local):
        excerpt = _call_sites(project, rel, local)
        if excerpt is not None:
            excerpts.append(ReadOnlyExcerpt(base + rel, *excerpt))
    if not excerpts:
        for rel in entries:
            if rel not in local and (text := _read(project / rel)) is not None:
                numbered = tuple(enumerate(text.splitlines(), 1))
                why = "the evaluation entry point (no call into the editable files was recognised)"
                excerpts.append(ReadOnlyExcerpt(base + rel, why, numbered, len(numbered)))
    shown = {e.path for e in excerpts}
    for rel in _context_files(project, context):
        if base + rel in shown or rel in local or (text := _read(project / rel)) is None:
            continue
        numbered = tuple(enumerate(text.splitlines(), 1))
        excerpts.append(ReadOnlyExcerpt(base + rel, "listed in edit.context", numbered, len(numbered)))
    return excerpts


def _read(path: Path) -> str | None:
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > _MAX_FILE_BYTES:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _entry_scripts(project: Path, command: str) -> list[str]:
    """Project-relative paths of the Python files ``command`` runs (``x.py`` or ``-m pkg.mod``)."""
    try:
        words = shlex.split(command.replace("{seed}", "0").replace("{metrics_path}", "metrics.json"))
    except ValueError:
        return []
    found: list[str] = []
    for index, word in enumerate(words):
        if word.endswith(".py") and (project / word).is_file():
            found.append(Path(word).as_posix().removeprefix("./"))
        elif word == "-m" and index + 1 < len(words):
            found += _module_files(project, [project], words[index + 1])[:1]
    return list(dict.fromkeys(found))


def _module_files(project: Path, roots: Sequence[Path], module: str) -> list[str]:
    """Project-relative files ``module`` may name, looked up under each of ``roots``."""
    parts = module.split(".")
    out: list[str] = []
    for root in roots:
        for candidate in (
            Path(*parts).with_suffix(".py"),
            Path(*parts, "__main__.py"),
            Path(*parts, "__init__.py"),
        ):
            full = root / candidate
            if full.is_file() and full.resolve().is_relative_to(project.resolve()):
                out.append(full.resolve().relative_to(project.resolve()).as_posix())
    return out


def _imports(tree: ast.Module) -> Iterator[tuple[str, str | None, str, int]]:
    """(module, imported name or None, local name, relative level) of every import in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, alias.asname or alias.name.split(".")[0], 0
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                yield node.module or "", alias.name, alias.asname or alias.name, node.level


def _targets(project: Path, rel: str, module: str, name: str | None, level: int) -> list[str]:
    """Project-relative files an import in ``rel`` may load (the module, or ``module.name``)."""
    here = (project / rel).parent
    if level:
        root = here
        for _ in range(level - 1):
            root = root.parent
        roots = [root]
    else:
        roots = [here, project]
    names = [module] if module else []
    if name is not None and name != "*":
        names.append(f"{module}.{name}" if module else name)
    return [f for n in names for f in _module_files(project, roots, n)]


def _parse(project: Path, rel: str) -> ast.Module | None:
    text = _read(project / rel)
    if text is None:
        return None
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


def _harness_files(project: Path, entries: list[str], editable: set[str]) -> list[str]:
    """The entry scripts and the local, non-editable modules they import (breadth first)."""
    queue = [rel for rel in entries if rel not in editable]
    seen: list[str] = []
    while queue and len(seen) < _MAX_FILES:
        rel = queue.pop(0)
        if rel in seen:
            continue
        seen.append(rel)
        tree = _parse(project, rel)
        if tree is None:
            continue
        for module, name, _, level in _imports(tree):
            queue += [t for t in _targets(project, rel, module, name, level) if t not in editable]
    return seen


def _editable_names(project: Path, rel: str, tree: ast.Module, editable: set[str]) -> set[str]:
    """Local names of ``rel`` bound to editable modules or to things imported from them."""
    names: set[str] = set()
    packages = {str(Path(path).parent.as_posix()) + "/" for path in editable}
    for module, name, local, level in _imports(tree):
        for target in _targets(project, rel, module, name, level):
            package = str(Path(target).parent.as_posix()) + "/"
            if target in editable or (target.endswith("__init__.py") and package in packages):
                names.add(local)
    return names


def _call_sites(project: Path, rel: str, editable: set[str]) -> tuple[str, _Lines, int] | None:
    """(why, lines, total) of the parts of ``rel`` that call into ``editable``; None if there are none."""
    tree = _parse(project, rel)
    text = _read(project / rel)
    names = _editable_names(project, rel, tree, editable) if tree is not None else set()
    if tree is None or text is None or not names:
        return None
    functions = {
        node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    plain = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
    callers: list[ast.stmt] = [node for node in functions.values() if _uses(node, names)]
    callers += [node for node in tree.body if not isinstance(node, plain) and _uses(node, names)]
    if not callers:
        return None
    shown = list(callers)
    for _ in range(_HELPER_DEPTH):  # the harness's own helpers the callers use (building the data)
        called = {
            n.func.id
            for node in shown
            for n in ast.walk(node)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        }
        shown += [
            functions[name] for name in sorted(called) if name in functions and functions[name] not in shown
        ]
    constants = [
        node for node in tree.body if isinstance(node, ast.Assign | ast.AnnAssign) and _is_constant(node)
    ]
    shown += constants
    lines = text.splitlines()
    keep: set[int] = set()
    hidden = {node.lineno for node in constants if _TRUTH.match(lines[node.lineno - 1])}
    for node in shown:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        keep.update(
            range(first, node.lineno + 1 if node.lineno in hidden else (node.end_lineno or node.lineno) + 1)
        )
    numbered = tuple((n, _hide_truth(lines[n - 1], n in hidden)) for n in sorted(keep) if n <= len(lines))
    why = (
        f"harness (protected): the code that calls into the editable files ({', '.join(sorted(names))}), "
        "with its own helpers and constants"
    )
    return why, numbered, len(lines)


def _hide_truth(line: str, always: bool = False) -> str:
    """``line`` with the value hidden if it assigns a number (or, ``always``, anything) to a name
    that sounds like the answer: a ground truth written into the harness as a literal would let an
    agent hard-code it."""
    match = _TRUTH.match(line)
    if match is None or not (always or re.search(r"\d", line[match.end() :])):
        return line
    return f"{line[: match.end()]} … (hidden: looks like the answer the metric is scored against)"


def _uses(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _is_constant(node: ast.Assign | ast.AnnAssign) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    if not all(isinstance(t, ast.Name) and t.id.isupper() for t in targets) or node.value is None:
        return False
    try:
        ast.literal_eval(node.value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _context_files(project: Path, patterns: Sequence[str]) -> list[str]:
    """Project-relative files matching ``patterns`` (paths or pathlib globs), in pattern order."""
    found: list[str] = []
    root = project.resolve()
    for pattern in patterns:
        matches = sorted(project.glob(pattern)) if any(c in pattern for c in "*?[") else [project / pattern]
        for path in matches:
            try:
                resolved = path.resolve()
            except OSError:
                continue
            rel = resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else None
            if rel is not None and path.is_file() and not rel.startswith((".git/", ".growthhacker/")):
                found.append(rel)
    return list(dict.fromkeys(found))
