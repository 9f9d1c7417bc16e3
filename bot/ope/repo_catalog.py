"""The OPE catalog for one repository: the libraries its editable code imports, the knobs that code
can reach, and the installed signatures of the classes it constructs and of their likely replacements.

A generic catalog fills a bandit repository's prompt with scope-rl tables and pipeline knobs it
cannot use, and lists knobs without signatures. :func:`repo_catalog` reads the editable files
(``ast``) and keeps only:

- a section per library among obp, scope-rl and scikit-learn that the files import (estimators of
  the action type in use for scope-rl; reward models of the family in use for scikit-learn; obp's
  ``RegressionModel`` only where it is constructed; scope-rl pipeline knobs of the calls present);
- the installed signature of every class the files construct from these libraries (and d3rlpy's),
  and of the estimators and reward models that could replace them;
- every keyword argument the files pass that the installed class does not accept, named as such,
  and parameters the installed version marks deprecated.

Signatures come from the installed packages (``inspect``), never from memory.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from bot.ope.catalog import LIBRARIES, Catalog, catalog_markdown, library_table, pipeline_lines, quiet_import
from bot.ope.scan import FileScan, scan_file
from bot.ope.specs import ROOTS, Library, Spec

#: Roots whose classes get their installed signatures shown (when the editable code imports them).
SIGNATURE_ROOTS = ("obp", "scope_rl", "sklearn", "d3rlpy")
_SIGNATURE_CHARS = 400
_MAX_SIGNATURES = 40
#: The catalog read from the installed libraries (one instance, so results cache across calls).
_INSTALLED = Catalog()


@dataclass(frozen=True)
class ClassCall:
    """A call in the editable code to a class or function of one of :data:`SIGNATURE_ROOTS`."""

    path: str
    line: int
    qualified: str
    keywords: tuple[str, ...]


def repo_catalog(
    files: Mapping[str, str], catalog: Catalog | None = None, whole: Callable[[], str] | None = None
) -> str:
    """The catalog markdown for the editable ``files`` (path → content).

    When the files import none of the libraries, the whole catalog follows a note saying so
    (``whole()`` if given, e.g. a cached copy, else :func:`bot.ope.catalog.catalog_markdown`).
    Never raises for unparseable files (they are skipped).
    """
    chosen = catalog or _INSTALLED
    text = _cached(tuple(sorted(files.items())), chosen)
    if text:
        return text
    note = "The editable files import none of obp, scope-rl or scikit-learn; the whole catalog follows.\n\n"
    return note + (whole() if whole is not None else catalog_markdown(chosen))


@functools.lru_cache(maxsize=8)
def _cached(items: tuple[tuple[str, str], ...], catalog: Catalog) -> str:
    """The repository's catalog, or "" when the files import none of the libraries."""
    python = [(path, text) for path, text in items if path.endswith(".py")]
    scans = [scan for path, text in python if (scan := scan_file(path, text, catalog)).error is None]
    roots = {origin.split(".", 1)[0] for scan in scans for _, origin in scan.bindings}
    libraries = [lib for lib in LIBRARIES if ROOTS[lib] in roots]
    if not libraries:
        return ""
    lines: list[str] = [f"Libraries the editable files import: {', '.join(libraries)}.", ""]
    for library in libraries:
        lines += library_table(catalog, library, _reachable(catalog, library, scans))
    if "scope-rl" in libraries:
        lines += pipeline_lines(catalog, frozenset(c.name for scan in scans for c in scan.pipeline_calls))
    calls = [call for scan in scans for call in _class_calls(scan)]
    lines += _signatures(catalog, libraries, scans, calls)
    lines += _problems(calls)
    return "\n".join(lines).rstrip() + "\n"


def _used_specs(scans: list[FileScan]) -> list[Spec]:
    return [call.spec for scan in scans for call in scan.calls if call.spec is not None]


def _reachable(catalog: Catalog, library: Library, scans: list[FileScan]) -> list[Spec]:
    """The specs of ``library`` worth showing for this code."""
    used = _used_specs(scans)
    specs = [s for s in catalog.specs(library) if s.available]
    if library == "scope-rl":
        types = {s.action_type for s in used if s.library == "scope-rl"} or {
            "continuous" if "continuous" in origin else "discrete"
            for scan in scans
            for _, origin in scan.bindings
            if origin.startswith("scope_rl.ope")
        }
        return [s for s in specs if s.action_type in (types or {"discrete", "continuous"})]
    if library == "sklearn":
        families = {s.family for s in used if s.library == "sklearn"}
        return [s for s in specs if not families or s.family in families]
    wrappers = {s.name for s in used if s.role == "reward-wrapper"}
    return [s for s in specs if s.role == "estimator" or s.name in wrappers]


def _class_calls(scan: FileScan) -> Iterator[ClassCall]:
    """Calls in ``scan``'s file to names imported from :data:`SIGNATURE_ROOTS`."""
    bound = dict(scan.bindings)
    try:
        tree = ast.parse(scan.text)
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        parts: list[str] = []
        func = node.func
        while isinstance(func, ast.Attribute):
            parts.append(func.attr)
            func = func.value
        if not isinstance(func, ast.Name) or func.id not in bound:
            continue
        qualified = ".".join([bound[func.id], *reversed(parts)])
        if qualified.split(".", 1)[0] in SIGNATURE_ROOTS:
            keywords = tuple(k.arg for k in node.keywords if k.arg is not None)
            yield ClassCall(scan.path, node.lineno, qualified, keywords)


@functools.cache
def resolve(qualified: str) -> object | None:
    """The installed object a dotted name refers to (``sklearn.linear_model.Ridge``), or None."""
    parts = qualified.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module = quiet_import(".".join(parts[:split]))
        if isinstance(module, str):
            continue
        obj: object = module
        for attribute in parts[split:]:
            obj = getattr(obj, attribute, None)
            if obj is None:
                return None
        return obj
    return None


@dataclass(frozen=True)
class Parameter:
    """One constructor parameter: its name and default as source text ("" when required)."""

    name: str
    default: str
    required: bool


def parameters(obj: object) -> tuple[list[Parameter], bool] | None:
    """(parameters, accepts any keyword) of a class's constructor or a function; None if unreadable.

    Dataclasses are read from their fields: some obp classes report ``(*args, **kwargs)``.
    """
    if inspect.isclass(obj) and dataclasses.is_dataclass(obj):
        fields = [f for f in dataclasses.fields(obj) if f.init]
        return [_field_parameter(f) for f in fields], False
    try:
        signature = inspect.signature(obj)  # type: ignore[arg-type]  # any callable
    except (TypeError, ValueError):
        return None
    found: list[Parameter] = []
    open_ended = False
    for p in signature.parameters.values():
        if p.kind == p.VAR_KEYWORD:
            open_ended = True
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self":
            required = p.default is p.empty
            found.append(Parameter(p.name, "" if required else _short_repr(p.default), required))
    return found, open_ended


def _field_parameter(field: dataclasses.Field[object]) -> Parameter:
    if field.default is not dataclasses.MISSING:
        return Parameter(field.name, _short_repr(field.default), False)
    if field.default_factory is not dataclasses.MISSING:
        return Parameter(field.name, "<factory>", False)
    return Parameter(field.name, "", True)


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def signature_text(name: str, obj: object) -> str | None:
    """``Name(a, b=1.0, *, c='x')``-like text of ``obj``'s parameters; None if unreadable."""
    read = parameters(obj)
    if read is None:
        return None
    params, open_ended = read
    shown = [p.name if p.required else f"{p.name}={p.default}" for p in params]
    if open_ended:
        shown.append("**kwargs")
    text = f"{name}({', '.join(shown)})"
    return text if len(text) <= _SIGNATURE_CHARS else text[: _SIGNATURE_CHARS - 4] + " …)"


def _signatures(
    catalog: Catalog, libraries: list[Library], scans: list[FileScan], calls: list[ClassCall]
) -> list[str]:
    """Installed signatures: what the code constructs first, then the likely replacements."""
    used: dict[str, str] = {}
    for call in calls:
        if inspect.isclass(resolve(call.qualified)):
            used.setdefault(call.qualified, f"used in {call.path}")
    for spec in _used_specs(scans):
        for other in _reachable(catalog, spec.library, scans):
            if other.role == spec.role and spec.library in libraries:
                used.setdefault(f"{other.module}.{other.name}", "possible replacement")
    lines = ["### Installed signatures (classes the editable code constructs, then possible replacements)"]
    for qualified, why in list(used.items())[:_MAX_SIGNATURES]:
        obj = resolve(qualified)
        text = signature_text(qualified.rsplit(".", 1)[-1], obj) if obj is not None else None
        if text is not None:
            deprecated = _deprecated(obj)
            note = f"; deprecated in the installed version: {', '.join(deprecated)}" if deprecated else ""
            lines.append(f"- `{text}` — {qualified.rsplit('.', 1)[0]}, {why}{note}")
    return [*lines, ""] if len(lines) > 1 else []


def _deprecated(obj: object) -> list[str]:
    read = parameters(obj)
    return [p.name for p in read[0] if p.default in ("'deprecated'", '"deprecated"')] if read else []


def _problems(calls: list[ClassCall]) -> list[str]:
    """Names and keyword arguments the editable code uses that the installed libraries lack."""
    lines = ["### The installed versions do not accept these names and arguments used by the editable code"]
    for call in calls:
        obj = resolve(call.qualified)
        where = f"{call.path} line {call.line}"
        name = call.qualified.rsplit(".", 1)[-1]
        if obj is None:
            lines.append(f"- {where}: `{call.qualified}` does not exist in the installed version")
            continue
        read = parameters(obj)
        if read is None:
            continue
        params, open_ended = read
        names = {p.name for p in params}
        unknown = [k for k in call.keywords if k not in names] if not open_ended else []
        deprecated = [k for k in call.keywords if k in _deprecated(obj)]
        for keyword in unknown:
            lines.append(
                f"- {where}: `{name}({keyword}=…)`: `{keyword}` is not a parameter of the installed `{name}`"
            )
        for keyword in deprecated:
            lines.append(
                f"- {where}: `{name}({keyword}=…)`: `{keyword}` is deprecated in the installed version"
            )
    return [*lines, ""] if len(lines) > 1 else []
