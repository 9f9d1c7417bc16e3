"""How `init` reads a repository it has never seen: candidate scripts, imports and metric names.

Small synthetic sources, read with ast (nothing here runs them); the CLI tests are in test_init.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.init.candidates import find_candidates, inspect_script, python_files
from bot.init.imports import import_closure, inspect_module
from bot.init.objective import (
    Ambiguous,
    ObjectiveChoice,
    choose_objective,
    classify,
    guardrails,
    objective_from_option,
    parse_objective,
)


def write(root: Path, files: Mapping[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return root


def always(_: str) -> bool:
    return True


ARGPARSE = """\
import argparse
p = argparse.ArgumentParser()
p.add_argument("-s", "--seed", type=int)
p.add_argument("--metrics-file")
p.add_argument("--save-json", action="store_true")
args = p.parse_args()
"""


# --- candidates ------------------------------------------------------------------------------------


def test_an_argparse_seed_option_and_a_metrics_file_option_are_found(tmp_path: Path) -> None:
    write(tmp_path, {"bench/go.py": ARGPARSE})

    found = inspect_script(tmp_path, "bench/go.py", always)

    assert found is not None
    assert (found.via, found.seed_arg, found.output_option) == ("argparse", "--seed {seed}", "--metrics-file")
    command = found.command(metrics_path=True)
    assert command == "python bench/go.py --seed {seed} --metrics-file {metrics_path}"


def test_a_flag_is_not_an_output_option_nor_is_a_directory(tmp_path: Path) -> None:
    write(tmp_path, {"go.py": """\
import argparse
p = argparse.ArgumentParser()
p.add_argument("--save-json", action="store_true")
p.add_argument("--output-dir")
p.add_argument("--random-seed", type=int)
p.parse_args()
"""})

    found = inspect_script(tmp_path, "go.py", always)

    assert found is not None
    assert (found.seed_arg, found.output_option) == ("--random-seed {seed}", None)


def test_click_options_and_a_click_seed_argument(tmp_path: Path) -> None:
    option = """\
import click

@click.command()
@click.option("--seed", type=int)
@click.option("-o", "--out", "out_path")
def main(seed, out_path):
    pass

if __name__ == "__main__":
    main()
"""
    argument = option.replace('@click.option("--seed", type=int)', '@click.argument("seed", type=int)')
    write(tmp_path, {"a.py": option, "b.py": argument})

    a, b = inspect_script(tmp_path, "a.py", always), inspect_script(tmp_path, "b.py", always)

    assert a is not None and (a.via, a.seed_arg, a.output_option) == ("click", "--seed {seed}", "--out")
    assert b is not None and (b.via, b.seed_arg) == ("click", "{seed}")


@pytest.mark.parametrize(("source", "seed_arg"), [
    ("import sys\nseed = int(sys.argv[1])\nprint(seed)\n", "{seed}"),
    ("import sys\nseed = int(sys.argv[1]) if len(sys.argv) > 1 else 0\nprint(seed)\n", "{seed}"),
    ("from sys import argv\nrng_seed = int(argv[1])\nprint(rng_seed)\n", "{seed}"),
    ("import sys\nif '--seed' in sys.argv:\n    print(sys.argv[sys.argv.index('--seed') + 1])\n",
     "--seed {seed}"),
    ("import sys\nfor a in sys.argv:\n    if a.startswith('--seed='):\n        print(a)\n", "--seed={seed}"),
])
def test_a_seed_read_from_sys_argv(tmp_path: Path, source: str, seed_arg: str) -> None:
    write(tmp_path, {"run.py": source})

    found = inspect_script(tmp_path, "run.py", always)

    assert found is not None and (found.via, found.seed_arg) == ("sys.argv", seed_arg)


def test_scripts_without_a_seed_or_that_cannot_run_are_not_candidates(tmp_path: Path) -> None:
    write(tmp_path, {
        "noseed.py": "import argparse\np = argparse.ArgumentParser()\np.add_argument('--n')\n"
                     "p.parse_args()\n",
        "library.py": "import argparse\ndef parser():\n    p = argparse.ArgumentParser()\n"
                      "    p.add_argument('--seed')\n    return p\n",
        "counts.py": "import argparse\np = argparse.ArgumentParser()\np.add_argument('--n-seeds')\n"
                     "p.parse_args()\n",
    })

    found = [inspect_script(tmp_path, p, always) for p in ("noseed.py", "library.py", "counts.py")]

    assert found == [None, None, None]


def test_tests_environments_and_hidden_folders_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, {
        "tests/eval_helper.py": ARGPARSE, "test_eval.py": ARGPARSE, ".cache/eval.py": ARGPARSE,
        "myenv/pyvenv.cfg": "home = /usr\n", "myenv/lib/eval.py": ARGPARSE,
        "node_modules/x/eval.py": ARGPARSE,
        "deep/er/still/evaluate.py": ARGPARSE,
    })

    assert python_files(tmp_path) == ["deep/er/still/evaluate.py"]


def test_the_evaluation_outranks_a_training_script_and_a_script_without_ope(tmp_path: Path) -> None:
    plain = ARGPARSE.replace('p.add_argument("--metrics-file")\n', "")
    write(tmp_path, {
        "train_agent.py": ARGPARSE,  # an output option, but the name says train
        "tools/score_policies.py": plain,  # the name says evaluation
        "main.py": ARGPARSE,  # everything, but never reaches obp / scope-rl
    })
    reaches = {"train_agent.py": True, "tools/score_policies.py": True, "main.py": False}

    ranked = find_candidates(tmp_path, python_files(tmp_path), reaches.__getitem__)

    assert [c.path for c in ranked] == ["tools/score_policies.py", "train_agent.py", "main.py"]
    assert "its name says train" in ranked[1].reasons


def test_a_script_with_relative_imports_runs_as_a_module(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/__init__.py": "", "pkg/helpers.py": "",
                     "pkg/evaluate.py": "from . import helpers\n" + ARGPARSE})

    found = inspect_script(tmp_path, "pkg/evaluate.py", always)

    assert found is not None and found.command(metrics_path=False) == "python -m pkg.evaluate --seed {seed}"


# --- imports ---------------------------------------------------------------------------------------


def test_imports_are_followed_through_src_layout_packages_and_relative_imports(tmp_path: Path) -> None:
    write(tmp_path, {
        "scripts/run.py": "import sys\nfrom mylib.pipeline import Study\n",
        "src/mylib/__init__.py": "from .pipeline import Study\n",
        "src/mylib/pipeline.py": "from . import models\nfrom .sim import world\n",
        "src/mylib/models.py": "def fit():\n    from sklearn.linear_model import Ridge\n    return Ridge()\n",
        "src/mylib/sim.py": "world = 1\n",
        "src/mylib/unused.py": "import obp\n",
    })

    closure = import_closure(tmp_path, "scripts/run.py")

    assert sorted(closure) == ["scripts/run.py", "src/mylib/__init__.py", "src/mylib/models.py",
                               "src/mylib/pipeline.py", "src/mylib/sim.py"]


def test_a_sibling_module_of_the_script_and_a_dotted_import(tmp_path: Path) -> None:
    write(tmp_path, {
        "harness/run.py": "import helpers\nimport core.ope.estimators\n",
        "harness/helpers.py": "",
        "core/__init__.py": "", "core/ope/__init__.py": "", "core/ope/estimators.py": "",
        "os.py": "",  # a repository file shadowing nothing the script imports
    })

    closure = import_closure(tmp_path, "harness/run.py")

    assert sorted(closure) == ["core/__init__.py", "core/ope/__init__.py", "core/ope/estimators.py",
                               "harness/helpers.py", "harness/run.py"]


@pytest.mark.parametrize(("source", "builds"), [
    ("from obp.ope import DoublyRobust as DR\nx = DR()\n", ("obp.ope.DoublyRobust",)),
    ("import obp.ope as ope\nx = ope.InverseProbabilityWeighting()\n",
     ("obp.ope.InverseProbabilityWeighting",)),
    ("from scope_rl.ope.discrete import PerDecisionImportanceSampling as PDIS\nE = [PDIS()]\n",
     ("scope_rl.ope.discrete.PerDecisionImportanceSampling",)),
    ("from obp.ope import DirectMethod, DoublyRobust\nREG = {'dm': DirectMethod, 'dr': DoublyRobust}\n",
     ("obp.ope.DirectMethod", "obp.ope.DoublyRobust")),
    ("from sklearn import linear_model\nm = linear_model.LogisticRegression()\n",
     ("sklearn.linear_model.LogisticRegression",)),
    ("from sklearn.preprocessing import LabelEncoder\nfrom sklearn.utils import check_random_state\n"
     "LabelEncoder(); check_random_state(0)\n", ()),
    ("from obp.dataset import SyntheticBanditDataset\nfrom obp.policy import BernoulliTS\n"
     "SyntheticBanditDataset(n_actions=3); BernoulliTS(n_actions=3)\n", ()),
])
def test_what_counts_as_building_an_estimator_or_a_reward_model(source: str, builds: tuple[str, ...]) -> None:
    import ast

    facts = inspect_module("m.py", ast.parse(source))

    assert facts.builds_estimators == builds
    assert facts.imports_ope == ("obp" in source or "scope_rl" in source)


def test_ground_truth_computations_are_noticed() -> None:
    import ast

    source = "def truth(ds, fb, pi):\n    return ds.calc_ground_truth_policy_value(fb['r'], pi)\n"

    assert inspect_module("sim.py", ast.parse(source)).ground_truth
    assert not inspect_module("x.py", ast.parse("x = 1\n")).ground_truth


# --- objective -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kind"), [
    ("relative_ee", "minimize"), ("mean_sq_rel_error", "minimize"), ("abs_bias", "minimize"),
    ("value_error", "minimize"), ("dr_mse", "minimize"), ("RMSE", "minimize"), ("regret", "minimize"),
    ("policy_value", "maximize"), ("estimated_value", "maximize"), ("meanReward", "maximize"),
    ("accuracy", "maximize"), ("true_value", "reference"), ("on_policy_ctr", "reference"),
    ("ground_truth", "reference"), ("runtime_s", "time"), ("fit_time", "time"), ("wall_seconds", "time"),
    ("elapsed_ms", "time"), ("estimate", "other"), ("n_rounds", "other"),
])
def test_metric_names_are_read_word_by_word(name: str, kind: str) -> None:
    assert classify(name) == kind


def test_the_one_error_metric_is_the_objective_even_next_to_a_value() -> None:
    choice = choose_objective({"estimated_value": 0.4, "true_value": 0.9, "abs_bias": 0.5, "fit_s": 1.0})

    assert choice == ObjectiveChoice("abs_bias", "minimize",
                                     "the only metric whose name says error/loss/bias")


def test_a_value_is_maximized_when_no_metric_says_error() -> None:
    choice = choose_objective({"policy_value": 0.8, "train_seconds": 0.1})

    assert isinstance(choice, ObjectiveChoice)
    assert (choice.metric, choice.goal) == ("policy_value", "maximize")


@pytest.mark.parametrize(("metrics", "choices"), [
    ({"ipw_sq_error": 1.0, "dr_sq_error": 2.0, "runtime_s": 3.0}, ("ipw_sq_error", "dr_sq_error")),
    ({"value": 1.0, "reward": 2.0}, ("value", "reward")),
    ({"estimate": 1.0, "truth": 2.0, "runtime_s": 3.0}, ("estimate", "truth")),
])
def test_ambiguous_metrics_are_returned_as_choices_never_guessed(
    metrics: dict[str, float], choices: tuple[str, ...]
) -> None:
    choice = choose_objective(metrics)

    assert isinstance(choice, Ambiguous) and choice.choices == choices


@pytest.mark.parametrize(("text", "parsed"), [
    ("mse", ("mse", None)), ("mse:min", ("mse", "minimize")), ("score:max", ("score", "maximize")),
    ("dr/eps_0.1:maximize", ("dr/eps_0.1", "maximize")),
])
def test_the_objective_option(text: str, parsed: tuple[str, str | None]) -> None:
    assert parse_objective(text) == parsed


def test_the_objective_option_must_name_a_written_metric_and_a_direction() -> None:
    with pytest.raises(ConfigError, match="wrote no such metric; it wrote: a_error, b_error"):
        objective_from_option("c_error", {"a_error": 1.0, "b_error": 2.0})
    with pytest.raises(ConfigError, match="min or max"):
        parse_objective("a_error:down")
    assert objective_from_option("b_error", {"a_error": 1.0, "b_error": 2.0}) == ("b_error", "minimize")
    assert objective_from_option("score", {"score": 1.0}) == ("score", None)


def test_time_metrics_become_guardrails_unless_they_are_the_objective() -> None:
    metrics = {"mse": 1.0, "runtime_s": 2.0, "fit_time": 3.0, "n": 4.0}

    assert guardrails(metrics, "mse") == ["runtime_s", "fit_time"]
    assert guardrails(metrics, "runtime_s") == ["fit_time"]
