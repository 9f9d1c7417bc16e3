"""Text edits on Python source: rewrite one call, find a call again, add an import.

Every function changes only the characters it must, so formatting, comments and everything else
in the file stay as the author left them (the diff a reviewer sees is the change, nothing more).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Mapping

from bot.ope.scan import CallSite, LineIndex

#: Longest import line kept on one line when a name is added (black/ruff's default is 88, many use 99+).
MAX_IMPORT_LINE = 99


def rewrite_call(
    call: CallSite,
    *,
    callee: str | None = None,
    values: Mapping[str, str] | None = None,
    positional_names: Mapping[int, str] | None = None,
    drop: Collection[str] = (),
) -> str:
    """The new source text of ``call`` (the call only, not the file).

    ``callee`` renames the function, ``values`` sets keyword values (replacing or appending),
    ``positional_names`` turns the i-th positional argument into ``name=value``, and ``drop``
    removes keyword arguments (the call is then written on one line).
    """
    pending = dict(values or {})
    names = positional_names or {}
    if drop:
        parts: list[str] = []
        for i, arg in enumerate(call.args):
            name = arg.keyword if arg.keyword is not None else names.get(i)
            if name is not None and name in drop:
                continue
            value = pending.pop(name, arg.value) if name else arg.value
            parts.append(f"{name}={value}" if name else value)
        parts += [f"{k}={v}" for k, v in pending.items()]
        return f"{callee or call.callee}({', '.join(parts)})"
    base = call.start
    ops: list[tuple[int, int, str]] = []
    if callee:
        ops.append((0, call.func_end - base, callee))
    for i, arg in enumerate(call.args):
        name = arg.keyword if arg.keyword is not None else names.get(i)
        if arg.keyword is None and name:
            ops.append((arg.start - base, arg.start - base, f"{name}="))
        if name in pending:
            ops.append((arg.value_start - base, arg.value_end - base, pending.pop(name)))
    if pending:
        ops.append(_append(call, [f"{k}={v}" for k, v in pending.items()]))
    text = call.text
    # Right to left; at one position a replacement goes before an insertion.
    for start, end, new in sorted(ops, key=lambda op: (op[0], op[1]), reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _append(call: CallSite, new: list[str]) -> tuple[int, int, str]:
    """Where and what to insert to add keyword arguments to ``call``."""
    close = len(call.text) - 1
    if not call.args:
        return close, close, ", ".join(new)
    last = call.args[-1]
    return _after_last(call.text, last.start - call.start, last.end - call.start, close, new)


def _after_last(text: str, start: int, end: int, limit: int, new: list[str]) -> tuple[int, int, str]:
    """An insertion of ``new`` items after the last item ``text[start:end]`` of a comma-separated
    list ending before ``limit``, following the list's layout (one per line with a trailing comma,
    or inline)."""
    tail = text[end:limit]
    if not tail.lstrip().startswith(","):
        return end, end, "".join(f", {n}" for n in new)
    comma = end + tail.index(",") + 1
    line_start = text.rfind("\n", 0, start)
    indent = text[line_start + 1 : start]
    if line_start != -1 and not indent.strip():
        return comma, comma, "".join(f"\n{indent}{n}," for n in new)
    return comma, comma, "".join(f" {n}," for n in new)


def locate(text: str, old: str, start: int) -> tuple[int, int] | None:
    """Where ``old`` is in ``text``: at ``start`` if it is still there, else the unique (or nearest)
    occurrence, else a whitespace-insensitive match; None if it is gone."""
    if text[start : start + len(old)] == old:
        return start, start + len(old)
    spans = [(m.start(), m.end()) for m in re.finditer(re.escape(old), text)]
    if not spans:
        chunks = [re.escape(chunk) for chunk in old.split()]
        spans = [(m.start(), m.end()) for m in re.finditer(r"\s*".join(chunks), text)] if chunks else []
    if not spans:
        return None
    return min(spans, key=lambda span: abs(span[0] - start))


def add_import(text: str, module: str, name: str) -> str:
    """``text`` with ``from module import name`` available at module level.

    Extends the last top-level ``from module import …`` if there is one, else adds a line after the
    last top-level import (or after the module docstring). Returns ``text`` unchanged if the name is
    already imported from that module. Raises SyntaxError if ``text`` does not parse.
    """
    tree = ast.parse(text)
    same = [
        node for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == module and node.level == 0
        and all(a.name != "*" for a in node.names)
    ]
    if any(a.name == name and a.asname is None for node in same for a in node.names):
        return text
    index = LineIndex(text)
    if same:
        node = same[-1]
        start, end = index.span(node.names[-1])
        stmt_start, stmt_end = index.span(node)
        pos, _, insert = _after_last(text, start, end, stmt_end, [name])
        extended = text[:pos] + insert + text[pos:]
        line_end = extended.find("\n", stmt_start)
        line = extended[stmt_start : line_end if line_end != -1 else len(extended)]
        if node.lineno == node.end_lineno and len(line) > MAX_IMPORT_LINE and "#" not in line:
            # Too long for one line: the parenthesised one-name-per-line form formatters produce.
            names = [text[slice(*index.span(a))] for a in node.names] + [name]
            block = f"from {module} import (\n" + "".join(f"    {n},\n" for n in names) + ")"
            return text[:stmt_start] + block + text[stmt_end:]
        return extended
    line = f"from {module} import {name}\n"
    imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    if imports:
        after = imports[-1].end_lineno or imports[-1].lineno
    elif tree.body and _is_docstring(tree.body[0]):
        after = tree.body[0].end_lineno or tree.body[0].lineno
    else:
        after = 0
    pos = index.starts[min(after, len(index.lines))]
    if pos > 0 and not text[:pos].endswith("\n"):
        line = "\n" + line
    return text[:pos] + line + text[pos:]


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(
        node.value.value, str
    )


def remove_unused_import(text: str, name: str) -> str:
    """``text`` without the top-level ``from … import name`` if ``name`` is no longer used anywhere.

    A name still mentioned elsewhere (code, ``__all__``, comments) is kept. Returns ``text``
    unchanged then. Raises SyntaxError if ``text`` does not parse.
    """
    tree = ast.parse(text)
    index = LineIndex(text)
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom):
            continue
        for i, alias in enumerate(node.names):
            if (alias.asname or alias.name) != name:
                continue
            start, end = index.span(node)
            rest = text[:start] + text[end:]
            if re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", rest):
                return text
            if len(node.names) == 1:
                line_start = index.starts[node.lineno - 1]
                line_end = index.starts[min(node.end_lineno or node.lineno, len(index.lines))]
                return text[:line_start] + text[line_end:]
            spans = [index.span(a) for a in node.names]
            # Cut the name with the separator that follows it, or (last name) the one before it.
            cut = (spans[i][0], spans[i + 1][0]) if i + 1 < len(spans) else (spans[i - 1][1], spans[i][1])
            return text[: cut[0]] + text[cut[1] :]
    return text


def merge_replacements(a: tuple[int, str, str], b: tuple[int, str, str]) -> tuple[int, str, str] | None:
    """Two overlapping replacements ``(start, old, new)`` of one text as one, or None on a conflict.

    The union of both ``old`` spans is rebuilt from the two, each replacement is reduced to the
    characters it really changes, and both are applied if those do not overlap (two insertions at one
    point go in order: ``a``'s first). None if the ``old`` texts disagree where they overlap or both
    change the same characters.
    """
    first, second = sorted((a, b), key=lambda r: r[0])
    start = first[0]
    offset = second[0] - start
    tail = offset + len(second[1]) - len(first[1])
    union = first[1] + (second[1][len(second[1]) - tail :] if tail > 0 else "")
    if union[offset : offset + len(second[1])] != second[1]:
        return None
    changes = [
        _changed(union, first[2] + union[len(first[1]) :]),
        _changed(union, union[:offset] + second[2] + union[offset + len(second[1]) :]),
    ]
    if first is not a:
        changes.reverse()  # the caller's order decides between two insertions at one point
    (s1, e1, t1), (s2, e2, t2) = changes
    if s1 < e2 and s2 < e1:
        return None
    if s1 == e1 == s2 == e2:
        return start, union, union[:s1] + t1 + t2 + union[s1:]
    merged = union
    # Right to left, so the earlier change's positions stay valid.
    for s, e, t in sorted(changes, key=lambda c: (c[0], c[1]), reverse=True):
        merged = merged[:s] + t + merged[e:]
    return start, union, merged


def _changed(old: str, new: str) -> tuple[int, int, str]:
    """The smallest ``(start, end, text)`` with ``old[:start] + text + old[end:] == new`` that starts
    and ends on token boundaries (``500`` → ``5000`` replaces the number, never appends a digit)."""
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    # A change that starts (ends) inside a token takes the whole token: a digit appended to a number
    # is a new number, not an insertion two other changes could both make.
    if any(_is_token_char(t[prefix : len(t) - suffix][:1]) for t in (old, new)):
        while prefix > 0 and _is_token_char(old[prefix - 1]):
            prefix -= 1
    if any(_is_token_char(t[prefix : len(t) - suffix][-1:]) for t in (old, new)):
        while suffix > 0 and _is_token_char(old[len(old) - suffix]):
            suffix -= 1
    return prefix, len(old) - suffix, new[prefix : len(new) - suffix]


def _is_token_char(char: str) -> bool:
    return char != "" and (char.isalnum() or char in "_.")
