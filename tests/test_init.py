"""`growthhacker init`: a config detected from the repository and the workflows, through the real CLI."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import yaml
from click.testing import CliRunner, Result

from bot.cli import cli
from bot.config import load_config
from bot.init.workflows import ACTION_PLACEHOLDER, WORKFLOW_NAMES
from tests.helpers.repos import git_repo

MakeRepo = Callable[..., Path]
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ope-target"
EVALUATE = """\
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int)
parser.add_argument("--out")
"""
PIPELINE = "from obp.ope import InverseProbabilityWeighting\n"
OPE_REPO: Mapping[str, str] = {
    "evaluate.py": EVALUATE,
    "ope_pipeline/__init__.py": "",
    "ope_pipeline/estimators.py": PIPELINE,
    "tests/test_estimators.py": "import obp\n",
    "README.md": "# an OPE project\n",
}


def init(*args: str) -> Result:
    return CliRunner().invoke(cli, ["init", *args])


def test_init_detects_the_eval_command_and_the_ope_package(make_repo: MakeRepo) -> None:
    repo = make_repo(OPE_REPO)

    result = init(str(repo))

    assert result.exit_code == 0, result.output
    config = load_config(repo)
    assert config.evaluate.command == "python evaluate.py --seed {seed} --out {metrics_path}"
    assert config.edit.paths == ["ope_pipeline/**/*.py"]
    assert config.edit.protected == ["evaluate.py"]
    assert (config.evaluate.objective.metric, config.evaluate.objective.goal) == ("relative_ee", "minimize")
    assert config.github.base == "main"


def test_the_objective_comes_with_a_comment_to_adjust_it(make_repo: MakeRepo) -> None:
    repo = make_repo(OPE_REPO)

    init(str(repo))

    lines = (repo / ".growthhacker.yml").read_text().splitlines()
    objective = next(i for i, line in enumerate(lines) if line.strip().startswith("objective:"))
    assert "ADJUST" in lines[objective - 1]


def test_init_writes_the_three_workflows_with_the_chosen_action(make_repo: MakeRepo) -> None:
    repo = make_repo(OPE_REPO)

    result = init(str(repo), "--action-ref", "acme/growthhacker@0123456789abcdef0123456789abcdef01234567")

    assert result.exit_code == 0, result.output
    for name in WORKFLOW_NAMES:
        text = (repo / ".github" / "workflows" / name).read_text()
        assert ACTION_PLACEHOLDER not in text
        assert "uses: acme/growthhacker@0123456789abcdef0123456789abcdef01234567" in text
        assert isinstance(yaml.safe_load(text), dict)


def test_the_default_action_reference_is_the_published_action(make_repo: MakeRepo) -> None:
    repo = make_repo(OPE_REPO)

    init(str(repo))

    assert f"uses: {ACTION_PLACEHOLDER}" in (repo / ".github/workflows/growthhacker-verify.yml").read_text()


def test_init_refuses_to_overwrite_without_force(make_repo: MakeRepo) -> None:
    repo = make_repo({**OPE_REPO, ".growthhacker.yml": "# mine\n"})

    result = init(str(repo))

    assert result.exit_code == 8
    assert ".growthhacker.yml already exist" in result.output and "--force" in result.output
    assert (repo / ".growthhacker.yml").read_text() == "# mine\n"
    assert not (repo / ".github").exists()


def test_force_overwrites_existing_files(make_repo: MakeRepo) -> None:
    repo = make_repo({**OPE_REPO, ".growthhacker.yml": "# mine\n"})

    result = init(str(repo), "--force")

    assert result.exit_code == 0, result.output
    assert load_config(repo).edit.paths == ["ope_pipeline/**/*.py"]


def test_a_malformed_action_reference_is_refused_before_writing(make_repo: MakeRepo) -> None:
    repo = make_repo(OPE_REPO)

    result = init(str(repo), "--action-ref", "growthhacker; rm -rf /")

    assert result.exit_code == 8 and "not an action reference" in result.output
    assert not (repo / ".growthhacker.yml").exists()


def test_the_script_taking_seed_wins_and_its_output_option_is_used(make_repo: MakeRepo) -> None:
    seeded = (
        'import argparse\np = argparse.ArgumentParser()\n'
        'p.add_argument("--seed")\np.add_argument("--output")\n'
    )
    repo = make_repo({
        "evaluation.py": "print('no seeds here')\n",
        "bench/eval_ope.py": seeded,
        "src/pipeline.py": "import scope_rl\n",
    })

    init(str(repo))

    config = load_config(repo)
    assert config.evaluate.command == "python bench/eval_ope.py --seed {seed} --output {metrics_path}"
    assert config.edit.paths == ["src/**/*.py"]
    assert config.edit.protected == ["bench/eval_ope.py"]


def test_without_an_eval_script_the_config_says_what_to_do(make_repo: MakeRepo) -> None:
    repo = make_repo({"ope/__init__.py": "", "ope/model.py": "x = 1\n"})

    result = init(str(repo))

    assert result.exit_code == 0, result.output
    assert "no evaluate*.py" in result.output
    assert "# TODO: no evaluate*.py" in (repo / ".growthhacker.yml").read_text()
    assert load_config(repo).edit.paths == ["ope/**/*.py"]


def test_the_base_branch_is_the_checked_out_branch(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", OPE_REPO)
    subprocess.run(["git", "checkout", "-q", "-b", "develop"], cwd=repo, check=True)

    init(str(repo))

    assert load_config(repo).github.base == "develop"


def test_init_on_the_bundled_example_matches_its_own_config(tmp_path: Path) -> None:
    repo = tmp_path / "example"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns(".growthhacker*", "__pycache__"))

    result = init(str(repo))

    assert result.exit_code == 0, result.output
    detected, shipped = load_config(repo), load_config(EXAMPLE)
    assert detected.evaluate.command == shipped.evaluate.command
    assert detected.edit == shipped.edit
    assert [g.metric for g in detected.evaluate.guardrails] == ["runtime_s"]
