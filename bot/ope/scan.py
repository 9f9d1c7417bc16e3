"""Find OPE-relevant calls in Python source: estimators, reward models, cross-fitting folds.

Positions are character offsets into the source text (``ast`` reports UTF-8 byte columns), so an
edit can replace exactly the call segment and leave the rest of the file as it was.
"""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass

from bot.ope.catalog import LIBRARIES, Catalog, known_names
from bot.ope.pipeline import METHOD_NAMES, PIPELINE_NAMES
from bot.ope.specs import FOLDS_KEYWORD, ROOTS, Library, Spec


class LineIndex:
    """Converts ``ast`` (line, UTF-8 byte column) positions to character offsets."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)
        self.starts: list[int] = []
        offset = 0
        for line in self.lines:
            self.starts.append(offset)
            offset += len(line)
        self.starts.append(offset)

    def offset(self, lineno: int, col: int) -> int:
        """The character offset of 1-based ``lineno`` and byte column ``col``."""
        if lineno > len(self.lines):
            return self.starts[-1]
        line = self.lines[lineno - 1]
        return self.starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8", "ignore"))

    def span(self, node: ast.expr | ast.keyword | ast.alias | ast.stmt) -> tuple[int, int]:
        """(start, end) character offsets of a node."""
        end_line = node.end_lineno if node.end_lineno is not None else node.lineno
        end_col = node.end_col_offset if node.end_col_offset is not None else node.col_offset
        return self.offset(node.lineno, node.col_offset), self.offset(end_line, end_col)


@dataclass(frozen=True)
class Arg:
    """One argument of a call; ``keyword`` is None for a positional argument."""

    keyword: str | None
    start: int
    end: int
    value_start: int
    value_end: int
    value: str


@dataclass(frozen=True)
class CallSite:
    """A call found in a file, with its catalog spec if it constructs a known class."""

    file: str
    #: The callee as written (``DoublyRobust`` or ``ope.DoublyRobust``).
    callee: str
    #: The callee resolved through the file's imports (best effort).
    qualified: str
    start: int
    end: int
    func_end: int
    line: int
    text: str
    args: tuple[Arg, ...]
    spec: Spec | None = None
    #: True if matched through a legacy class name (scope-rl < 0.2).
    legacy: bool = False
    ordinal: int = 1
    count: int = 1

    @property
    def name(self) -> str:
        """The class or function name through import aliases (last dotted part of ``qualified``)."""
        return self.qualified.rsplit(".", 1)[-1]

    def keyword(self, name: str) -> Arg | None:
        """The keyword argument ``name``, or None."""
        return next((a for a in self.args if a.keyword == name), None)

    def where(self) -> str:
        """A position-free way to name this call: ``the 2nd `X(…)` `` or `` `X(…)` ``."""
        if self.count == 1:
            return f"`{self.callee}(…)`"
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(self.ordinal if self.ordinal < 20 else 0, "th")
        return f"the {self.ordinal}{suffix} `{self.callee}(…)`"


@dataclass(frozen=True)
class Constant:
    """A module-level ``NAME = <literal>`` assigned once: a knob a call may take by name."""

    name: str
    start: int
    end: int
    value_start: int
    value_end: int
    #: The whole statement's text.
    text: str


@dataclass(frozen=True)
class FileScan:
    """What one file holds: catalog calls, cross-fitting calls, imports and names."""

    path: str
    text: str
    calls: tuple[CallSite, ...] = ()
    fold_calls: tuple[CallSite, ...] = ()
    #: scope-rl calls that take pipeline knobs (``OffPolicyEvaluation``, ``obtain_whole_inputs`` …).
    pipeline_calls: tuple[CallSite, ...] = ()
    constants: tuple[Constant, ...] = ()
    #: Local name → dotted origin, from the file's imports.
    bindings: tuple[tuple[str, str], ...] = ()
    #: Every name defined or imported at module level (to avoid shadowing with a new import).
    defined: frozenset[str] = frozenset()
    #: (called function or method name, keyword) for every keyword argument passed.
    call_keywords: frozenset[tuple[str, str]] = frozenset()
    #: Keyword arguments only ever passed as literal False or None (switched off).
    disabled: frozenset[str] = frozenset()
    #: Every identifier and attribute name used.
    identifiers: frozenset[str] = frozenset()
    error: str | None = None

    def binding(self, local: str) -> str | None:
        """The dotted origin of a local name, or None."""
        return next((origin for name, origin in self.bindings if name == local), None)

    def constant(self, name: str) -> Constant | None:
        """The module-level literal constant ``name``, or None."""
        return next((c for c in self.constants if c.name == name), None)


def scan_file(path: str, text: str, catalog: Catalog) -> FileScan:
    """Parse ``text`` and collect its OPE-relevant calls.

    Returns a FileScan whose ``error`` says why the file was skipped (a syntax error); never raises.
    """
    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError) as exc:
        return FileScan(path=path, text=text, error=f"not parseable: {exc}")
    index = LineIndex(text)
    bindings = _bindings(tree)
    bound = dict(bindings)
    roots = {origin.split(".", 1)[0] for _, origin in bindings}
    names = known_names()
    calls: list[CallSite] = []
    folds: list[CallSite] = []
    pipeline: list[CallSite] = []
    enabled: set[str] = set()
    call_keywords: set[tuple[str, str]] = set()
    identifiers: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            identifiers.add(node.id)
        elif isinstance(node, ast.Attribute):
            identifiers.add(node.attr)
        if not isinstance(node, ast.Call):
            continue
        enabled.update(k.arg for k in node.keywords if k.arg and not _is_off(k.value))
        callee = _dotted(node.func)
        called = _called(node.func)
        call_keywords.update((called, k.arg) for k in node.keywords if k.arg)
        resolved = _qualify(callee, bound).rsplit(".", 1)[-1] if callee else called
        if resolved in PIPELINE_NAMES and not _has_star(node):
            written = callee or " ".join(text[slice(*index.span(node.func))].split())
            site = _site(path, text, index, node, written, _qualify(written, bound) if callee else written)
            if _is_scope_rl_pipeline(site, roots):
                pipeline.append(site)
            continue
        if callee is None or _has_star(node):
            continue
        qualified = _qualify(callee, bound)
        known = qualified.rsplit(".", 1)[-1] in names
        if not known and all(k.arg != FOLDS_KEYWORD for k in node.keywords):
            continue
        site = _site(path, text, index, node, callee, qualified)
        if known:
            spec, legacy = _match(site, roots, catalog)
            if spec is not None:
                calls.append(dataclasses.replace(site, spec=spec, legacy=legacy))
        if site.keyword(FOLDS_KEYWORD) is not None:
            folds.append(site)
    return FileScan(
        path=path, text=text, calls=_number(calls), fold_calls=_number(folds),
        pipeline_calls=_number(pipeline), constants=_constants(tree, index, text), bindings=bindings,
        defined=frozenset(_defined(tree)), call_keywords=frozenset(call_keywords),
        disabled=frozenset({k for _, k in call_keywords} - enabled),
        identifiers=frozenset(identifiers),
    )


def _bindings(tree: ast.Module) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out += [(a.asname or a.name, f"{node.module}.{a.name}") for a in node.names if a.name != "*"]
        elif isinstance(node, ast.Import):
            for a in node.names:
                out.append((a.asname, a.name) if a.asname else (a.name.split(".")[0], a.name.split(".")[0]))
    return tuple(out)


def _defined(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _constants(tree: ast.Module, index: LineIndex, text: str) -> tuple[Constant, ...]:
    """Module-level names bound exactly once, to a literal (``N_STEPS = 500``)."""
    counts: dict[str, int] = {}
    found: list[Constant] = []
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name):
                counts[target.id] = counts.get(target.id, 0) + 1
        value = getattr(node, "value", None)
        name = targets[0] if len(targets) == 1 and isinstance(targets[0], ast.Name) else None
        if isinstance(node, ast.Assign | ast.AnnAssign) and name is not None and value is not None \
                and _is_literal(value):
            start, end = index.span(node)
            vs, ve = index.span(value)
            found.append(Constant(name.id, start, end, vs, ve, text[start:end]))
    return tuple(c for c in found if counts[c.name] == 1)


def _is_literal(value: ast.expr) -> bool:
    try:
        ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _called(func: ast.expr) -> str:
    """The called function's own name: ``f`` for ``f(…)``, ``m`` for ``anything.m(…)``."""
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _is_scope_rl_pipeline(site: CallSite, roots: set[str]) -> bool:
    """A ``CreateOPEInput`` method on any receiver, or a scope-rl class (obp has an
    ``OffPolicyEvaluation`` too: an unresolved name counts only in a file that imports scope_rl, not obp)."""
    if site.name in METHOD_NAMES:
        return True
    if "." in site.qualified:
        return site.qualified.split(".", 1)[0] == ROOTS["scope-rl"]
    return ROOTS["scope-rl"] in roots and ROOTS["obp"] not in roots


def _is_off(value: ast.expr) -> bool:
    return isinstance(value, ast.Constant) and (value.value is False or value.value is None)


def _dotted(func: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return None
    parts.append(func.id)
    return ".".join(reversed(parts))


def _has_star(node: ast.Call) -> bool:
    return any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords)


def _qualify(callee: str, bound: dict[str, str]) -> str:
    head, _, rest = callee.partition(".")
    origin = bound.get(head)
    if origin is None:
        return callee
    return f"{origin}.{rest}" if rest else origin


def call_site(path: str, text: str, index: LineIndex, node: ast.Call) -> CallSite:
    """``node`` (a call parsed from ``text``) as a CallSite without a spec, named as written."""
    written = _dotted(node.func) or " ".join(text[slice(*index.span(node.func))].split())
    return _site(path, text, index, node, written, written)


def _site(path: str, text: str, index: LineIndex, node: ast.Call, callee: str, qualified: str) -> CallSite:
    start, end = index.span(node)
    _, func_end = index.span(node.func)
    args: list[Arg] = []
    for a in node.args:
        s, e = index.span(a)
        args.append(Arg(None, s, e, s, e, text[s:e]))
    for k in node.keywords:
        s, e = index.span(k)
        vs, ve = index.span(k.value)
        args.append(Arg(k.arg, s, e, vs, ve, text[vs:ve]))
    args.sort(key=lambda a: a.start)
    return CallSite(file=path, callee=callee, qualified=qualified, start=start, end=end, func_end=func_end,
                    line=node.lineno, text=text[start:end], args=tuple(args))


def _match(site: CallSite, roots: set[str], catalog: Catalog) -> tuple[Spec | None, bool]:
    """The spec a call constructs: by its resolved module if imported, else by the imported libraries."""
    head = site.qualified.split(".", 1)[0] if "." in site.qualified else None
    if head is not None:
        libraries: list[Library] = [lib for lib in LIBRARIES if ROOTS[lib] == head]
    else:
        libraries = [lib for lib in LIBRARIES if ROOTS[lib] in roots] or list(LIBRARIES)
    action_type = "continuous" if "continuous" in site.qualified.lower() else "discrete"
    for library in libraries:
        for spec, legacy in catalog.lookup(library, site.name):
            if legacy:
                # A legacy name carries its action type in its prefix.
                return spec, True
            if spec.library != "scope-rl" or spec.action_type == action_type:
                return spec, False
    return None, False


def _number(sites: list[CallSite]) -> tuple[CallSite, ...]:
    """Sorts by position and numbers calls with the same callee (1st, 2nd …) within the file."""
    sites = sorted(sites, key=lambda s: s.start)
    totals: dict[str, int] = {}
    for s in sites:
        totals[s.callee] = totals.get(s.callee, 0) + 1
    seen: dict[str, int] = {}
    out: list[CallSite] = []
    for s in sites:
        seen[s.callee] = seen.get(s.callee, 0) + 1
        out.append(dataclasses.replace(s, ordinal=seen[s.callee], count=totals[s.callee]))
    return tuple(out)


def reward_evidence(scans: list[FileScan]) -> str | None:
    """Why reward-model predictions look available to DM/DR-family estimators, or None.

    Evidence: a reward-model or obp ``RegressionModel`` call, an ``estimated_rewards_by_reg_model``
    or value-prediction name, a ``fit_predict`` call, or a DM/DR-family estimator already in use.
    """
    for scan in scans:
        for call in scan.calls:
            if call.spec is not None and (call.spec.needs_reward_model or call.spec.role != "estimator"):
                return f"{scan.path} constructs `{call.callee}(…)`"
        passed = {k for _, k in scan.call_keywords} - scan.disabled
        for name in ("estimated_rewards_by_reg_model", "require_value_prediction", "fit_predict"):
            if name in scan.identifiers or name in passed:
                return f"{scan.path} uses `{name}`"
    return None
