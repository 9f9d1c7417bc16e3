"""The OPE catalog: signatures read from the installed obp / scope-rl / scikit-learn, static fallback."""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field

import pytest

from bot.ope.catalog import Catalog, catalog_markdown, init_parameters, spec_from_class
from bot.ope.specs import OBP_ESTIMATORS, SCOPE_RL_ESTIMATORS, Spec, static_specs


@pytest.fixture(scope="module")
def installed() -> Catalog:
    return Catalog()


def _spec(library: str, name: str, catalog: Catalog, action_type: str = "discrete") -> Spec:
    return next(
        s for s in catalog.specs(library)  # type: ignore[arg-type]
        if s.name == name and s.action_type == action_type
    )


# --- reading signatures (local classes, no library import) -------------------------------------


def test_init_parameters_reads_dataclass_fields_that_init_takes() -> None:
    @dataclass
    class Tuned:
        lambdas: list[float]
        tuning_method: str = "slope"
        chosen: float = field(default=0.0, init=False)

    params, required, defaults = init_parameters(Tuned)

    assert params == ("lambdas", "tuning_method")
    assert (required, defaults) == (("lambdas",), {"tuning_method": "slope"})


def test_init_parameters_reads_a_plain_signature_without_star_args() -> None:
    class Model:
        def __init__(self, C: float = 1.0, *args: object, random_state: int | None = None, **kw: object):
            pass

    params, required, defaults = init_parameters(Model)

    assert (params, required, defaults) == (("C", "random_state"), (), {"C": 1.0, "random_state": None})


def test_knob_takes_the_keyword_name_the_version_uses() -> None:
    # obp 0.4.1 spells Switch-DR's threshold ``tau``; the catalog must propose ``tau=`` there.
    @dataclass
    class SwitchDoublyRobust:
        tau: float = 1.0
        estimator_name: str = "switch-dr"

    static = next(s for s in OBP_ESTIMATORS if s.name == "SwitchDoublyRobust")

    spec = spec_from_class(static, SwitchDoublyRobust, "installed 0.4.1")

    assert [(k.key, k.name, k.default) for k in spec.knobs] == [("switch", "tau", 1.0)]


def test_knob_the_version_lacks_is_dropped_with_its_swap_value() -> None:
    @dataclass
    class DoublyRobustWithShrinkage:
        estimator_name: str = "dr-os"

    static = next(s for s in OBP_ESTIMATORS if s.name == "DoublyRobustWithShrinkage")

    spec = spec_from_class(static, DoublyRobustWithShrinkage, "installed 0.3")

    assert (spec.knobs, spec.swap_values) == ((), ())


# --- the installed libraries (importing obp and scope-rl takes seconds) -------------------------


@pytest.mark.slow
def test_obp_switch_dr_accepts_lambda_in_the_installed_version(installed: Catalog) -> None:
    spec = _spec("obp", "SwitchDoublyRobust", installed)

    assert installed.source("obp").startswith("installed 0.5")
    assert "lambda_" in spec.params
    assert spec.knob("switch") is not None and spec.knob("switch").name == "lambda_"  # type: ignore[union-attr]
    assert spec.knob("switch").default == float("inf")  # type: ignore[union-attr]


@pytest.mark.slow
def test_obp_tuning_variants_require_lambdas(installed: Catalog) -> None:
    spec = _spec("obp", "DoublyRobustWithShrinkageTuning", installed)

    assert spec.available
    assert spec.required == ("lambdas",)
    assert "tuning_method" in spec.params


@pytest.mark.slow
def test_every_scope_rl_name_resolves_in_its_module(installed: Catalog) -> None:
    for spec in installed.specs("scope-rl"):
        module = importlib.import_module(spec.module)

        assert spec.available, spec.name
        assert inspect.isclass(getattr(module, spec.name)), spec.name
        assert spec.name in module.__all__


@pytest.mark.slow
@pytest.mark.parametrize("library", ["obp", "scope-rl"])
def test_static_estimator_parameters_match_the_installed_version(installed: Catalog, library: str) -> None:
    for static in static_specs(library):  # type: ignore[arg-type]
        real = _spec(library, static.name, installed, static.action_type)

        assert static.params == real.params, static.name
        assert static.required == real.required, static.name
        assert [(k.name, k.default) for k in static.knobs] == [(k.name, k.default) for k in real.knobs]


@pytest.mark.slow
def test_static_reward_model_parameters_exist_in_scikit_learn(installed: Catalog) -> None:
    for static in static_specs("sklearn"):
        real = _spec("sklearn", static.name, installed)

        assert set(static.params) <= set(real.params), static.name
        assert [(k.name, k.default) for k in static.knobs] == [(k.name, k.default) for k in real.knobs]


@pytest.mark.slow
def test_markdown_lists_installed_versions_and_knob_names(installed: Catalog) -> None:
    text = catalog_markdown(installed, libraries=("obp",))

    assert "### obp (installed 0.5.7)" in text
    assert "| SwitchDoublyRobust | obp.ope | dr | yes | `lambda_`: 50, 100" in text


# --- the static fallback --------------------------------------------------------------------------


def test_static_catalog_marks_its_source_and_imports_nothing_new() -> None:
    catalog = Catalog.static()

    specs = catalog.specs("obp")

    assert catalog.source("obp") == "static"
    assert {s.source for s in specs} == {"static"}


def test_static_specs_are_internally_consistent() -> None:
    for library in ("obp", "scope-rl", "sklearn"):
        for spec in static_specs(library):  # type: ignore[arg-type]
            keys = {k.key for k in spec.knobs}

            assert all(k.name in spec.params for k in spec.knobs), spec.name
            assert all(key in keys for key, _ in spec.swap_values), spec.name
            assert set(spec.required) <= set(spec.params), spec.name
            # A class that requires an argument must get it from its swap values.
            assert all(spec.knob_named(r) is not None for r in spec.required if spec.role == "estimator")


def test_scope_rl_legacy_names_carry_the_action_type_prefix() -> None:
    legacy = {s.legacy_name for s in SCOPE_RL_ESTIMATORS}

    assert "DiscreteTrajectoryWiseImportanceSampling" in legacy
    assert "ContinuousSelfNormalizedDR" in legacy
    assert all(s.legacy_module == "scope_rl.ope" for s in SCOPE_RL_ESTIMATORS)


def test_static_markdown_has_one_row_per_available_class() -> None:
    catalog = Catalog.static()

    text = catalog_markdown(catalog)

    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| class")]
    expected = sum(1 for lib in ("obp", "scope-rl", "sklearn") for s in catalog.specs(lib) if s.available)
    assert len(rows) == expected
    assert "`C`: 10.0, 0.1, 100.0, 0.01, 1.0" in text


def test_spec_from_class_marks_the_installed_source() -> None:
    @dataclass
    class InverseProbabilityWeighting:
        lambda_: float = float("inf")
        estimator_name: str = "ipw"

    static = next(s for s in OBP_ESTIMATORS if s.name == "InverseProbabilityWeighting")

    spec = spec_from_class(static, InverseProbabilityWeighting, "installed 9.9")

    assert (spec.source, spec.params) == ("installed 9.9", ("lambda_", "estimator_name"))


def test_static_markdown_lists_the_scope_rl_pipeline_knobs_with_their_defaults() -> None:
    text = catalog_markdown(Catalog.static(), libraries=("scope-rl",))

    assert "- `n_steps` on `CreateOPEInput.obtain_whole_inputs`, `CreateOPEInput.build_and_fit_FQE` " \
           "(default 10000)" in text
    assert "- `bandwidth` on `OffPolicyEvaluation`, `CumulativeDistributionOPE` (default 1.0)" in text


def test_markdown_without_scope_rl_has_no_pipeline_knobs() -> None:
    assert "pipeline knobs" not in catalog_markdown(Catalog.static(), libraries=("obp",))
