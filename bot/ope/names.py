"""Result keys: the name an estimate is returned under, where the code reads it, how a swap keeps it.

obp's and scope-rl's ``OffPolicyEvaluation`` return their estimates keyed by each estimator's
``estimator_name`` ("ipw", "snipw", "tis" …), and reading ``estimate_policy_values(...)["ipw"]`` is
the most common idiom in both libraries' own examples. A swap from IPW to SNIPW changes that key, and
every read of ``"ipw"`` then ends in ``KeyError``. So a swap keeps the key wherever the project reads
it (:func:`keep_key`): it passes ``estimator_name="<old key>"`` to the new class when the class takes
one, or else rewrites the reads in the same diff (possible only where they are editable); a swap that
can do neither is not proposed.

A key counts as read when the project's code or configuration mentions it (:class:`KeyReads`): a
string literal anywhere in a Python file (a subscript, ``.get(…)``, an element of a list of names, a
constant), or the name as a token in a YAML/JSON/TOML/INI file the code loads; or when an earlier
evaluation crashed with ``KeyError`` on it (``learned``: a read computed at run time).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from bot.ope.proposal import Edit
from bot.ope.scan import CallSite, FileScan, LineIndex
from bot.ope.specs import Spec

#: The keyword that names an estimator in both libraries.
NAME_KEYWORD = "estimator_name"
#: Text files whose tokens may name an estimator the code looks up (configuration).
CONFIG_SUFFIXES = (".yaml", ".yml", ".json", ".toml", ".ini", ".cfg")


@dataclass(frozen=True)
class Lookup:
    """One mention of a result key: ``text`` (a Python string literal, or the bare token in a
    configuration file) at ``start``–``end`` of ``file``."""

    file: str
    line: int
    start: int
    end: int
    text: str
    #: The agents may edit the file (else only ``estimator_name`` can keep the key).
    editable: bool
    #: The line it is on, stripped and bounded, for the plan.
    shown: str

    def renamed(self, old: str, new: str) -> Edit | None:
        """The edit that makes this mention name ``new`` instead of ``old`` (None if not editable)."""
        if not self.editable:
            return None
        return Edit(self.file, self.start, self.end, self.text, self.text.replace(old, new, 1))


class KeyReads:
    """Every mention of candidate result keys in the project's files (editable and read-only)."""

    def __init__(
        self, editable: Mapping[str, str], readonly: Mapping[str, str], keys: Collection[str],
        learned: Collection[str] = (),
    ) -> None:
        self.learned = frozenset(learned)
        wanted = frozenset(keys) | self.learned
        found: list[Lookup] = []
        for files, is_editable in ((editable, True), (readonly, False)):
            for path, text in sorted(files.items()):
                if path.endswith(".py"):
                    found += _python_mentions(path, text, wanted, is_editable)
                elif path.endswith(CONFIG_SUFFIXES):
                    found += _token_mentions(path, text, wanted, is_editable)
        self._by_key: dict[str, tuple[Lookup, ...]] = {}
        for key in wanted:
            self._by_key[key] = tuple(m for m in found if _names(m, key))

    def of(self, key: str) -> tuple[Lookup, ...]:
        """The mentions of ``key``, by file then position."""
        return self._by_key.get(key, ())

    def read(self, key: str) -> bool:
        """True if the project mentions ``key`` or a crash showed it is read."""
        return bool(self.of(key)) or key in self.learned


@dataclass(frozen=True)
class KeyPlan:
    """How a swap keeps the result key: keyword values for the new call, edits of the reads, and a
    sentence for the plan ("" when the key needs no care)."""

    values: tuple[tuple[str, str], ...] = ()
    edits: tuple[Edit, ...] = ()
    note: str = ""
    #: The key the estimate is returned under after the swap.
    key: str = ""
    #: A subclass (defined by one of ``edits``) to construct instead of the target class.
    callee: str = ""


def current_key(call: CallSite) -> str | None:
    """The key ``call``'s estimate is returned under: its literal ``estimator_name``, or its class's
    default; None when the name is computed (``estimator_name=args.name``) or unknown."""
    arg = call.keyword(NAME_KEYWORD)
    if arg is None:
        return call.spec.result_key or None if call.spec is not None else None
    try:
        value = ast.literal_eval(arg.value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, str) else None


def keep_key(
    scan: FileScan, call: CallSite, target: Spec, local: str, reads: KeyReads, taken: Collection[str]
) -> KeyPlan | None:
    """How swapping ``call`` (in ``scan``) to ``target`` (named ``local`` in the file) keeps the key
    its estimate is read under, or None if it cannot.

    Per case: the explicit name is carried over, or ``estimator_name="<old key>"`` is passed (the
    class takes one), or the reads are renamed (all of them editable), or else a two-line subclass
    of ``target`` named by the old key is defined in the file and constructed instead (reads out of
    reach: a protected harness, a name computed at run time). ``taken`` are the keys of the file's
    other estimators: a new key equal to one of them would overwrite that estimate.
    """
    if call.spec is None or call.spec.role != "estimator":
        return KeyPlan()
    settable = NAME_KEYWORD in target.params
    old = current_key(call)
    if call.keyword(NAME_KEYWORD) is not None and settable:
        return KeyPlan(key=old or "")  # the swap carries the explicit name over
    new = target.result_key
    if old is None:
        # A computed name: carried when the class takes one, else whatever reads it would break.
        return None if call.keyword(NAME_KEYWORD) is not None else KeyPlan(key=new)
    if old == new or (not reads.read(old) and new not in taken):
        return KeyPlan(key=new)
    mentions = reads.of(old)
    where = _where(mentions)
    why = f"that {where} reads" if where else (
        "that an earlier evaluation crashed without (KeyError)" if old in reads.learned else
        f"(another estimator of the file is named {new!r})")
    if settable:
        return KeyPlan(values=((NAME_KEYWORD, _literal(old)),), key=old,
                       note=f"passes `{NAME_KEYWORD}={_literal(old)}` to keep the result key {old!r} {why}")
    edits = [m.renamed(old, new) for m in mentions]
    if mentions and old not in reads.learned and new not in taken and all(e is not None for e in edits):
        return KeyPlan(
            edits=tuple(e for e in edits if e is not None), key=new,
            note=f"{target.name} takes no `{NAME_KEYWORD}` (its estimate is keyed {new!r}), so the reads of "
                 f"{old!r} are renamed in the same diff: {where}",
        )
    subclass = _named_subclass(scan, call, target, local, old)
    if subclass is None:
        return None
    name, edit = subclass
    return KeyPlan(
        edits=(edit,), key=old, callee=name,
        note=f"{target.name} takes no `{NAME_KEYWORD}` and the reads are out of reach, so a subclass "
             f"`{name}` reports it under the result key {old!r} {why}",
    )


def _named_subclass(
    scan: FileScan, call: CallSite, target: Spec, local: str, key: str
) -> tuple[str, Edit] | None:
    """(class name, edit defining it) for ``class <Name>(<local>): estimator_name = "<key>"`` right
    after the file's last module-level import (an import the swap adds goes there too, before it);
    None if the name is taken or the call runs before that point."""
    name = "Named" + target.name
    if name in scan.defined or name in scan.identifiers:
        return None
    tree = ast.parse(scan.text)
    imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    if not imports:
        return None
    start, end = LineIndex(scan.text).span(imports[-1])
    if call.start < end:
        return None
    old = scan.text[start:end]
    block = (f"\n\n\nclass {name}({local}):\n"
             f'    """{target.name}, reporting its estimate as {key!r}."""\n\n'
             f"    {NAME_KEYWORD} = {_literal(key)}")
    return name, Edit(scan.path, start, end, old, old + block)


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _where(mentions: tuple[Lookup, ...]) -> str:
    shown = [f"{m.file}:{m.line} (`{m.shown}`)" for m in mentions[:3]]
    more = f" and {len(mentions) - 3} more" if len(mentions) > 3 else ""
    return ", ".join(shown) + more


def _names(mention: Lookup, key: str) -> bool:
    text = mention.text
    return text == key or (len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" and text[1:-1] == key)


def _python_mentions(path: str, text: str, keys: frozenset[str], editable: bool) -> list[Lookup]:
    """String literals equal to a key, except the ``estimator_name=`` arguments that define names and
    docstrings; a literal that is not a plain quoted string (escapes, prefixes, f-strings) is kept as
    a read that cannot be renamed."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    index = LineIndex(text)
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == NAME_KEYWORD:
            skip.add(id(node.value))
        elif isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values)
        elif isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) \
                and node.body and isinstance(node.body[0], ast.Expr):
            skip.add(id(node.body[0].value))
    lines = text.splitlines()
    out: list[Lookup] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in keys):
            continue
        if id(node) in skip:
            continue
        start, end = index.span(node)
        literal = text[start:end]
        plain = len(literal) >= 2 and literal[0] in "'\"" and literal[1:-1] == node.value
        shown = " ".join(lines[node.lineno - 1].split())[:80] if node.lineno <= len(lines) else ""
        out.append(Lookup(path, node.lineno, start, end, literal, editable and plain, shown))
    return sorted(out, key=lambda m: m.start)


def _token_mentions(path: str, text: str, keys: frozenset[str], editable: bool) -> list[Lookup]:
    """Each key as a whole token (not part of a longer name) in a configuration file."""
    out: list[Lookup] = []
    for key in sorted(keys):
        for match in re.finditer(rf"(?<![\w.-]){re.escape(key)}(?![\w.-])", text):
            line = text.count("\n", 0, match.start()) + 1
            row = text.splitlines()[line - 1] if text else ""
            out.append(Lookup(path, line, match.start(), match.end(), key, editable,
                              " ".join(row.split())[:80]))
    return sorted(out, key=lambda m: m.start)
