"""The OPE catalog: estimators and reward models as the INSTALLED libraries spell them.

Each library is imported lazily, once per process (obp costs seconds to import), and its constructor
signatures are read with ``inspect``/``dataclasses``, so a proposal uses the keyword names of the
version at hand (obp 0.4.1 ``SwitchDoublyRobust(tau=…)`` vs 0.5 ``lambda_=…``) and never a class the
version lacks. A library that is not installed (or fails to import) falls back to ``bot.ope.specs``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import importlib.metadata
import importlib.util
import inspect
import io
import warnings
from types import ModuleType

from bot.ope.pipeline import PIPELINE_CALLS, PIPELINE_KNOBS, PIPELINE_MODULE, PipelineCall
from bot.ope.specs import DISTRIBUTIONS, ROOTS, Knob, Library, Scalar, Spec, static_specs

LIBRARIES: tuple[Library, ...] = ("obp", "scope-rl", "sklearn")


class Catalog:
    """Specs per library, read from the installed libraries (default) or the static fallback only."""

    def __init__(self, use_installed: bool = True) -> None:
        self.use_installed = use_installed

    @classmethod
    def static(cls) -> Catalog:
        """A catalog that never imports a library (hand-written specs only)."""
        return cls(use_installed=False)

    def specs(self, library: Library) -> tuple[Spec, ...]:
        """Every spec of ``library``, including ones the installed version lacks (``available=False``)."""
        return installed_specs(library) if self.use_installed else static_specs(library)

    def estimators(self, library: Library) -> tuple[Spec, ...]:
        """The available estimator specs of ``library``."""
        return tuple(s for s in self.specs(library) if s.role == "estimator" and s.available)

    def reward_models(self) -> tuple[Spec, ...]:
        """The available scikit-learn reward-model specs."""
        return tuple(s for s in self.specs("sklearn") if s.available)

    def source(self, library: Library) -> str:
        """Where this library's specs come from: "installed <version>" or "static (…)"."""
        if not self.use_installed:
            return "static"
        return library_source(library)

    def pipeline_calls(self) -> tuple[PipelineCall, ...]:
        """scope-rl's knob-taking pipeline calls, with the installed version's parameters and defaults.

        A call the installed version lacks is left out; the static list (scope-rl 0.2.1) is the fallback.
        """
        return installed_pipeline_calls() if self.use_installed else PIPELINE_CALLS

    def lookup(self, library: Library, name: str) -> list[tuple[Spec, bool]]:
        """Specs whose class name (or legacy name, flagged True) is ``name``; empty if none."""
        found = [(s, False) for s in self.specs(library) if s.name == name and s.available]
        found += [(s, True) for s in self.specs(library) if s.legacy_name == name]
        return found


@functools.cache
def known_names() -> frozenset[str]:
    """Every class name (current and legacy) any catalog can match; cheap, imports nothing."""
    names: set[str] = set()
    for library in LIBRARIES:
        for spec in static_specs(library):
            names.add(spec.name)
            if spec.legacy_name:
                names.add(spec.legacy_name)
    return frozenset(names)


@functools.cache
def library_source(library: Library) -> str:
    """"installed <version>" if ``library`` imports, else "static (<why>)"."""
    module = _import_root(library)
    if isinstance(module, str):
        return f"static ({module})"
    try:
        version = importlib.metadata.version(DISTRIBUTIONS[library])
    except importlib.metadata.PackageNotFoundError:
        version = getattr(module, "__version__", "unknown")
    return f"installed {version}"


@functools.cache
def installed_specs(library: Library) -> tuple[Spec, ...]:
    """The specs of ``library`` with parameters and knob names read from the installed version.

    Returns the static specs unchanged when the library is not importable.
    """
    source = library_source(library)
    if source.startswith("static"):
        return tuple(dataclasses.replace(s, source=source) for s in static_specs(library))
    return tuple(_introspect(spec, source) for spec in static_specs(library))


@functools.cache
def installed_pipeline_calls() -> tuple[PipelineCall, ...]:
    """``PIPELINE_CALLS`` read from the installed scope-rl (the static list if it does not import)."""
    source = library_source("scope-rl")
    module = quiet_import(PIPELINE_MODULE) if source.startswith("installed") else source
    if isinstance(module, str):
        return PIPELINE_CALLS
    out: list[PipelineCall] = []
    for call in PIPELINE_CALLS:
        owner = getattr(module, call.owner or call.name, None)
        target = getattr(owner, call.name, None) if call.owner else owner
        if target is None:
            continue
        params, _, defaults = _callable_parameters(target, method=call.owner is not None)
        known = tuple((p, defaults[p]) for p in params if p in defaults)
        out.append(dataclasses.replace(call, params=params, defaults=known, source=source))
    return tuple(out)


def _callable_parameters(
    target: object, method: bool
) -> tuple[tuple[str, ...], tuple[str, ...], dict[str, Scalar]]:
    if not method and inspect.isclass(target):
        return init_parameters(target)
    try:
        signature = inspect.signature(target)  # type: ignore[arg-type]  # any callable
    except (TypeError, ValueError):
        return (), (), {}
    params = [p for p in signature.parameters.values()
              if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"]
    defaults = {p.name: p.default for p in params if p.default is not p.empty and _is_scalar(p.default)}
    return tuple(p.name for p in params), tuple(p.name for p in params if p.default is p.empty), defaults


def _import_root(library: Library) -> ModuleType | str:
    """The imported root package, or a one-line reason it is unavailable."""
    root = ROOTS[library]
    if importlib.util.find_spec(root) is None:
        return f"{root} is not installed"
    return quiet_import(root)


def quiet_import(name: str) -> ModuleType | str:
    """The imported module ``name``, or a one-line reason it failed (banners and warnings silenced)."""
    # gym/scope-rl print deprecation banners on import; they are noise in a bot's output.
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            return importlib.import_module(name)
        except Exception as exc:  # any import-time failure means: use the static specs
            return f"import {name} failed: {type(exc).__name__}: {exc}"


def _introspect(spec: Spec, source: str) -> Spec:
    module = quiet_import(spec.module)
    if isinstance(module, str):
        return dataclasses.replace(spec, source=f"static ({module})")
    cls = getattr(module, spec.name, None)
    if not inspect.isclass(cls):
        return dataclasses.replace(spec, available=False, source=source)
    return spec_from_class(spec, cls, source)


def spec_from_class(spec: Spec, cls: type, source: str) -> Spec:
    """``spec`` with parameters, required names and knob names/defaults read from ``cls``.

    Knobs the class does not accept under any alias are dropped, with their swap values. Required
    names are the signature's plus the static ones it accepts: obp's ``*Tuning`` classes default
    ``lambdas`` to None yet reject anything but a list.
    """
    params, required, defaults = init_parameters(cls)
    required = tuple(dict.fromkeys((*required, *(r for r in spec.required if r in params))))
    knobs = tuple(k for k in (_resolve(knob, params, defaults) for knob in spec.knobs) if k is not None)
    keys = {k.key for k in knobs}
    swap_values = tuple((key, value) for key, value in spec.swap_values if key in keys)
    key = getattr(cls, "estimator_name", None) if spec.role == "estimator" else None
    return dataclasses.replace(
        spec, params=params, required=required, knobs=knobs, swap_values=swap_values, source=source,
        result_key=key if isinstance(key, str) and key else spec.result_key,
    )


def init_parameters(cls: type) -> tuple[tuple[str, ...], tuple[str, ...], dict[str, Scalar]]:
    """(parameter names in order, names without default, literal defaults) of ``cls(...)``.

    Dataclasses are read from their fields, because some obp classes (the ``*Tuning`` variants)
    report ``(*args, **kwargs)`` to ``inspect.signature``.
    """
    params: list[str] = []
    required: list[str] = []
    defaults: dict[str, Scalar] = {}
    if dataclasses.is_dataclass(cls):
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            params.append(f.name)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                required.append(f.name)
            elif _is_scalar(f.default):
                defaults[f.name] = f.default  # type: ignore[assignment]  # narrowed by _is_scalar
        return tuple(params), tuple(required), defaults
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return (), (), {}
    for p in signature.parameters.values():
        if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            continue
        params.append(p.name)
        if p.default is p.empty:
            required.append(p.name)
        elif _is_scalar(p.default):
            defaults[p.name] = p.default
    return tuple(params), tuple(required), defaults


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def _resolve(knob: Knob, params: tuple[str, ...], defaults: dict[str, Scalar]) -> Knob | None:
    name = next((alias for alias in knob.aliases if alias in params), None)
    if name is None:
        return None
    return dataclasses.replace(knob, name=name, default=defaults.get(name, knob.default))


def catalog_markdown(
    catalog: Catalog | None = None, libraries: tuple[Library, ...] = LIBRARIES
) -> str:
    """A compact markdown table of estimators and reward models for LLM prompts.

    Knob names are those of the installed versions; classes a version lacks are left out.
    """
    catalog = catalog or Catalog()
    lines: list[str] = []
    for library in libraries:
        lines += library_table(catalog, library, [s for s in catalog.specs(library) if s.available])
    if "scope-rl" in libraries:
        lines += pipeline_lines(catalog)
    return "\n".join(lines).rstrip() + "\n"


def library_table(catalog: Catalog, library: Library, specs: list[Spec]) -> list[str]:
    """Markdown lines: a heading naming ``library``'s source, then one table row per spec."""
    lines = [
        f"### {library} ({catalog.source(library)})",
        "| class | import | family | needs reward model | knobs (candidates) | when it helps |",
        "|---|---|---|---|---|---|",
    ]
    for s in specs:
        where = s.module if s.library != "scope-rl" else f"{s.module} (legacy: {s.legacy_name})"
        needs = "yes" if s.needs_reward_model else ""
        family = f"{s.family}, self-normalised" if s.self_normalized else s.family
        lines.append(f"| {s.name} | {where} | {family} | {needs} | {_knobs_text(s)} | {s.description} |")
    return [*lines, ""]


def pipeline_lines(catalog: Catalog, used: frozenset[str] | None = None) -> list[str]:
    """scope-rl's pipeline knobs as a short list (keyword, where it goes, library default, effect).

    With ``used``, only knobs of those call names; no lines when none is left.
    """
    calls = {c.name: c for c in catalog.pipeline_calls() if used is None or c.name in used}
    lines = ["### scope-rl pipeline knobs (keyword arguments of the calls around the estimators)"]
    for knob in PIPELINE_KNOBS:
        where = [c for name in knob.calls if (c := calls.get(name)) is not None and knob.keyword in c.params]
        if where:
            names = ", ".join(f"`{c.owner + '.' if c.owner else ''}{c.name}`" for c in where)
            default = where[0].default(knob.keyword)
            lines.append(f"- `{knob.keyword}` on {names} (default {default!r}): {knob.help}")
    return [*lines, ""] if len(lines) > 1 else []


def _knobs_text(spec: Spec) -> str:
    parts = [f"`{k.name}`: {', '.join(k.values)}" for k in spec.knobs]
    return "; ".join(parts).replace("|", "\\|")
