"""The catalog of one repository: imported libraries only, reachable knobs, installed signatures."""

from __future__ import annotations

import inspect

from bot.ope.catalog import Catalog
from bot.ope.repo_catalog import repo_catalog

SCOPE_RL = {
    "rl_ope/estimate.py": (
        "from scope_rl.ope import CreateOPEInput, OffPolicyEvaluation\n"
        "from scope_rl.ope.discrete import TrajectoryWiseImportanceSampling\n\n\n"
        "def estimate(dataset, policy):\n"
        "    inputs = CreateOPEInput(env=None).obtain_whole_inputs(dataset, [policy], n_steps=500)\n"
        "    tis = TrajectoryWiseImportanceSampling()\n"
        "    ope = OffPolicyEvaluation(logged_dataset=dataset, ope_estimators=[tis])\n"
        "    return ope.estimate_policy_value(inputs)\n"
    ),
}
SKLEARN = {
    "model.py": (
        "from sklearn.linear_model import LogisticRegression\n\n"
        "MODEL = LogisticRegression(penalty='l2', multi_class='auto', C=1.0)\n"
    ),
}


def test_a_scope_rl_repository_gets_its_action_type_and_the_knobs_of_its_calls_only() -> None:
    text = repo_catalog(SCOPE_RL)

    assert "Libraries the editable files import: scope-rl." in text
    assert "### obp" not in text and "### sklearn" not in text
    assert "scope_rl.ope.discrete" in text and "scope_rl.ope.continuous" not in text
    assert "`n_steps` on `CreateOPEInput.obtain_whole_inputs`" in text
    assert "`disable_reward_after_done` on `OffPolicyEvaluation`" in text
    assert "CumulativeDistributionOPE" not in text  # a call the code does not make


def test_the_signature_shown_is_the_installed_one() -> None:
    from scope_rl.ope import OffPolicyEvaluation

    text = repo_catalog(SCOPE_RL)

    line = next(row for row in text.splitlines() if row.startswith("- `OffPolicyEvaluation("))
    assert all(name in line for name in inspect.signature(OffPolicyEvaluation).parameters)
    assert "used in rl_ope/estimate.py" in line


def test_arguments_the_installed_version_removed_or_deprecated_are_named() -> None:
    from sklearn.linear_model import LogisticRegression

    text = repo_catalog(SKLEARN)

    parameters = inspect.signature(LogisticRegression).parameters
    where = "- model.py line 3: `LogisticRegression("
    removed = [name for name in ("penalty", "multi_class", "C") if name not in parameters]
    deprecated = [name for name in ("penalty", "multi_class")
                  if name in parameters and parameters[name].default == "deprecated"]
    expected = [f"{where}{n}=…)`: `{n}` is not a parameter of the installed `LogisticRegression`"
                for n in removed]
    expected += [f"{where}{n}=…)`: `{n}` is deprecated in the installed version" for n in deprecated]
    assert [row for row in text.splitlines() if row.startswith("- model.py line 3:")] == expected


def test_code_importing_none_of_the_libraries_gets_the_whole_catalog_with_a_note() -> None:
    text = repo_catalog({"x.py": "import numpy as np\n"}, Catalog.static(), whole=lambda: "(whole catalog)")

    assert text.startswith("The editable files import none of obp, scope-rl or scikit-learn")
    assert text.endswith("(whole catalog)")
