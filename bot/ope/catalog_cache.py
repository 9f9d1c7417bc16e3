"""The OPE catalog, cached on disk by the installed versions of the libraries it reads.

Reading the installed signatures imports obp, scope-rl, scikit-learn and (through them) torch: 5–10 s
before every run's first evaluation, for specs that only change when one of those libraries, or the
bot, does. :func:`load_catalog` keeps them in ``<cache dir>/catalog-<key>.json``, where the key
hashes those installed versions, the bot's version and the catalog code itself; a missing, stale,
corrupt or unreadable cache just means the catalog is read from the libraries again (and rewritten,
atomically, so a concurrent run never reads half a file). The file is JSON, never pickle: the state
directory lives in the target repository, and loading it must not be able to run code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.metadata
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot import __version__
from bot.ope import catalog as catalog_module
from bot.ope import pipeline as pipeline_module
from bot.ope import specs as specs_module
from bot.ope import weights as weights_module
from bot.ope.catalog import LIBRARIES, Catalog
from bot.ope.pipeline import PipelineCall
from bot.ope.specs import Knob, Library, Spec

#: Distributions whose installed versions the catalog depends on (d3rlpy: signatures of FQE models).
KEY_DISTRIBUTIONS = ("obp", "scope-rl", "scikit-learn", "d3rlpy", "torch")
_FORMAT = 1


class CachedCatalog(Catalog):
    """A catalog whose specs, sources and pipeline calls were read earlier (imports nothing)."""

    def __init__(
        self,
        specs: dict[Library, tuple[Spec, ...]],
        sources: dict[Library, str],
        pipeline_calls: tuple[PipelineCall, ...],
    ) -> None:
        super().__init__(use_installed=True)
        self._specs = specs
        self._sources = sources
        self._pipeline_calls = pipeline_calls

    def specs(self, library: Library) -> tuple[Spec, ...]:
        return self._specs[library]

    def source(self, library: Library) -> str:
        return self._sources[library]

    def pipeline_calls(self) -> tuple[PipelineCall, ...]:
        return self._pipeline_calls


class DiskCatalog(Catalog):
    """The installed catalog through the cache in ``cache_dir``, read at its first use, not before.

    A run that never asks (``--iterations 0``, an agent that needs no catalog) never builds it, and
    one that does starts its first evaluation before paying for it.
    """

    def __init__(self, cache_dir: Path, build: Callable[[], Catalog] = Catalog) -> None:
        super().__init__(use_installed=True)
        self.cache_dir = cache_dir
        self._build = build
        self._loaded: CachedCatalog | None = None

    def loaded(self) -> CachedCatalog:
        """The catalog itself (from the cache, or built and cached now)."""
        if self._loaded is None:
            self._loaded = load_catalog(self.cache_dir, self._build)
        return self._loaded

    def specs(self, library: Library) -> tuple[Spec, ...]:
        return self.loaded().specs(library)

    def source(self, library: Library) -> str:
        return self.loaded().source(library)

    def pipeline_calls(self) -> tuple[PipelineCall, ...]:
        return self.loaded().pipeline_calls()


def catalog_key() -> str:
    """16 hex digits naming what the catalog depends on: installed versions, bot version, its code."""
    material = [__version__, str(_FORMAT)]
    for distribution in KEY_DISTRIBUTIONS:
        try:
            material.append(f"{distribution}=={importlib.metadata.version(distribution)}")
        except importlib.metadata.PackageNotFoundError:
            material.append(f"{distribution}: not installed")
    for module in (catalog_module, pipeline_module, specs_module, weights_module):
        material.append(hashlib.sha256(Path(str(module.__file__)).read_bytes()).hexdigest())
    return hashlib.sha256("\n".join(material).encode()).hexdigest()[:16]


def cache_file(cache_dir: Path) -> Path:
    """Where :func:`load_catalog` keeps the catalog of the libraries installed now."""
    return cache_dir / f"catalog-{catalog_key()}.json"


def load_catalog(cache_dir: Path, build: Callable[[], Catalog] = Catalog) -> CachedCatalog:
    """The catalog from ``cache_dir`` if cached for the installed versions, else ``build()``'s, cached.

    Never raises for cache problems: an unreadable or invalid file is rebuilt, an unwritable
    directory only costs the next run the same reading.
    """
    path = cache_file(cache_dir)
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return _decode(json.loads(path.read_text(encoding="utf-8")))
    snapshot = snapshot_of(build())
    with contextlib.suppress(OSError):
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(_encode(snapshot)), encoding="utf-8")
        partial.replace(path)
    return snapshot


def snapshot_of(catalog: Catalog) -> CachedCatalog:
    """Everything ``catalog`` answers, read once (this is where the libraries get imported)."""
    return CachedCatalog(
        specs={library: catalog.specs(library) for library in LIBRARIES},
        sources={library: catalog.source(library) for library in LIBRARIES},
        pipeline_calls=catalog.pipeline_calls(),
    )


def _encode(catalog: CachedCatalog) -> dict[str, Any]:
    return {
        "format": _FORMAT,
        "specs": {lib: [dataclasses.asdict(s) for s in catalog.specs(lib)] for lib in LIBRARIES},
        "sources": {lib: catalog.source(lib) for lib in LIBRARIES},
        "pipeline_calls": [dataclasses.asdict(c) for c in catalog.pipeline_calls()],
    }


def _decode(data: dict[str, Any]) -> CachedCatalog:
    """The catalog in ``data``; raises KeyError/TypeError/ValueError if it is not one."""
    if data["format"] != _FORMAT:
        raise ValueError("another cache format")
    specs = {lib: tuple(_spec(raw) for raw in data["specs"][lib]) for lib in LIBRARIES}
    sources = {lib: str(data["sources"][lib]) for lib in LIBRARIES}
    calls = tuple(_pipeline_call(raw) for raw in data["pipeline_calls"])
    return CachedCatalog(specs, sources, calls)


def _tuples(value: Any) -> Any:
    """JSON arrays back to the tuples the frozen dataclasses hold (nested, e.g. swap_values)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _spec(raw: dict[str, Any]) -> Spec:
    fields = {key: _tuples(value) for key, value in raw.items() if key != "knobs"}
    knobs = tuple(Knob(**{key: _tuples(value) for key, value in knob.items()}) for knob in raw["knobs"])
    return Spec(**fields, knobs=knobs)


def _pipeline_call(raw: dict[str, Any]) -> PipelineCall:
    return PipelineCall(**{key: _tuples(value) for key, value in raw.items()})
