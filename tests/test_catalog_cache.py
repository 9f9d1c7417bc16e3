"""The catalog cache: read once per set of installed versions, then from `.growthhacker/cache`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ope.catalog import LIBRARIES, Catalog, catalog_markdown
from bot.ope.catalog_cache import (
    CachedCatalog,
    DiskCatalog,
    cache_file,
    catalog_key,
    load_catalog,
    snapshot_of,
)


class CountingBuild:
    """A catalog builder that counts how often the libraries would have been read."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> Catalog:
        self.calls += 1
        return Catalog.static()


def test_the_second_load_reads_the_file_instead_of_the_libraries(tmp_path: Path) -> None:
    build = CountingBuild()

    first = load_catalog(tmp_path / "cache", build=build)
    second = load_catalog(tmp_path / "cache", build=build)

    assert build.calls == 1
    assert cache_file(tmp_path / "cache").is_file()
    assert catalog_markdown(second) == catalog_markdown(first) == catalog_markdown(Catalog.static())
    for library in LIBRARIES:
        assert second.specs(library) == Catalog.static().specs(library)
    assert second.pipeline_calls() == Catalog.static().pipeline_calls()


def test_a_corrupt_or_foreign_cache_is_rebuilt_and_rewritten(tmp_path: Path) -> None:
    build = CountingBuild()
    path = cache_file(tmp_path)
    for broken in ("{not json", json.dumps({"format": 1, "specs": {}}), json.dumps({"format": 99}),
                   json.dumps({"format": 1, "specs": {"obp": [{"no_such_field": 1}]}})):
        path.write_text(broken, encoding="utf-8")

        catalog = load_catalog(tmp_path, build=build)

        assert catalog.specs("obp") == Catalog.static().specs("obp")
        assert json.loads(path.read_text(encoding="utf-8"))["format"] == 1
    assert build.calls == 4
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no partial file is left behind"


def test_another_installed_version_is_another_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = CountingBuild()
    load_catalog(tmp_path / "cache", build=build)
    before = catalog_key()
    # A newer scikit-learn installed ahead of the current one on the path.
    site = tmp_path / "site"
    (site / "scikit_learn-99.0.dist-info").mkdir(parents=True)
    (site / "scikit_learn-99.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: scikit-learn\nVersion: 99.0\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))

    load_catalog(tmp_path / "cache", build=build)

    assert catalog_key() != before
    assert build.calls == 2
    assert len(list((tmp_path / "cache").glob("catalog-*.json"))) == 2


def test_a_cache_hit_imports_none_of_the_libraries(tmp_path: Path) -> None:
    load_catalog(tmp_path, build=Catalog.static)
    probe = ("import sys\nfrom pathlib import Path\nfrom bot.ope.catalog_cache import load_catalog\n"
             "def fail():\n    raise AssertionError('rebuilt')\n"
             f"catalog = load_catalog(Path({str(tmp_path)!r}), build=fail)\n"
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'obp', 'scope_rl', 'sklearn', 'torch'}),"
             " len(catalog.specs('obp')))")

    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True,
                         timeout=120).stdout.split()

    assert out == ["[]", str(len(Catalog.static().specs("obp")))]


@pytest.mark.slow
def test_the_installed_catalog_survives_the_round_trip(tmp_path: Path) -> None:
    live = snapshot_of(Catalog())

    cached = load_catalog(tmp_path, build=lambda: live)
    again = load_catalog(tmp_path, build=lambda: pytest.fail("rebuilt"))  # type: ignore[no-any-return]

    assert isinstance(cached, CachedCatalog)
    for library in LIBRARIES:
        assert again.specs(library) == live.specs(library)
        assert again.source(library) == live.source(library)
    assert again.pipeline_calls() == live.pipeline_calls()
    assert catalog_markdown(again) == catalog_markdown(Catalog())


def test_a_run_reads_the_catalog_at_its_first_use_not_at_its_start(tmp_path: Path) -> None:
    build = CountingBuild()
    catalog = DiskCatalog(tmp_path, build=build)
    assert build.calls == 0 and not cache_file(tmp_path).exists()

    names = [spec.name for spec in catalog.estimators("obp")]
    catalog.reward_models()

    assert build.calls == 1 and cache_file(tmp_path).is_file()
    assert names == [spec.name for spec in Catalog.static().estimators("obp")]
