"""`growthhacker init` through the real CLI on small repositories whose evaluation runs in a blink.

The evaluation really runs (once, seed 0, in a private copy); the estimator modules import obp only
inside functions the evaluation never calls, so nothing here loads obp. The stranger repositories
(real obp / scope-rl pipelines) are in test_init_strangers.py.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import yaml
from click.testing import CliRunner, Result

from bot.cli import cli
from bot.config import load_config
from bot.errors import ConfigError, EvaluationError
from bot.init.workflows import ACTION_PLACEHOLDER, WORKFLOW_NAMES, action_ref_from_direct_url
from tests.helpers.repos import git_repo

MakeRepo = Callable[..., Path]
ESTIMATORS = """\
def make_estimator():
    from obp.ope import InverseProbabilityWeighting
    return InverseProbabilityWeighting()
"""
EVALUATE = """\
import argparse
import json

from ope_pipeline.estimators import make_estimator
from ope_pipeline.simulation import simulate

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()
with open(args.out, "w") as fh:
    json.dump({"abs_error": simulate(args.seed), "estimate": 0.5, "runtime_s": 0.01}, fh)
"""
OPE_REPO: Mapping[str, str] = {
    "evaluate_policy.py": EVALUATE,
    "ope_pipeline/__init__.py": "",
    "ope_pipeline/estimators.py": ESTIMATORS,
    "ope_pipeline/simulation.py": "def simulate(seed):\n    return 0.25 + seed\n",
    "data/logs.csv": "a,b\n1,2\n",
    "tests/test_estimators.py": "import obp\n",
    "README.md": "# an OPE project\n",
}


#: The action the written workflows use (this test install is editable: nothing to derive it from).
ACTION_REF = "acme/growthhacker@" + "c" * 40


def init(*args: str, input: str | None = None, env: Mapping[str, str] | None = None,
         action_ref: str | None = ACTION_REF) -> Result:
    """``growthhacker init ARGS``, with ``--action-ref action_ref`` unless ARGS give one or it is None."""
    extra = [] if action_ref is None or "--action-ref" in args else ["--action-ref", action_ref]
    return CliRunner().invoke(cli, ["init", *args, *extra], input=input, env=env)


def with_metrics(body: str) -> dict[str, str]:
    """OPE_REPO whose evaluation writes the JSON object ``body`` (a Python expression)."""
    return {**OPE_REPO, "evaluate_policy.py": EVALUATE.replace(
        '{"abs_error": simulate(args.seed), "estimate": 0.5, "runtime_s": 0.01}', body)}


def test_init_runs_the_evaluation_once_and_writes_what_it_found(make_repo: MakeRepo) -> None:
    repo = make_repo(OPE_REPO)

    result = init(str(repo), "--yes")

    assert result.exit_code == 0, result.output
    config = load_config(repo)
    assert config.evaluate.command == "python evaluate_policy.py --seed {seed} --out {metrics_path}"
    assert config.evaluate.metrics == "{metrics_path}"
    assert (config.evaluate.objective.metric, config.evaluate.objective.goal) == ("abs_error", "minimize")
    assert [(g.metric, g.goal) for g in config.evaluate.guardrails] == [("runtime_s", "minimize")]
    assert config.edit.paths == ["ope_pipeline/estimators.py"]
    assert config.edit.protected == ["evaluate_policy.py", "ope_pipeline/__init__.py",
                                     "ope_pipeline/simulation.py", "data/**"]
    assert config.github.base == "main"


def test_every_finding_is_printed_with_its_reason(make_repo: MakeRepo) -> None:
    repo = make_repo(OPE_REPO)

    output = init(str(repo), "--yes").output

    assert "candidate: evaluate_policy.py — takes a seed (argparse: --seed); can write to --out" in output
    assert "metrics: abs_error, estimate, runtime_s — evaluate_policy.py wrote them to the file given to " \
        "--out" in output
    assert "editable: ope_pipeline/estimators.py — evaluate_policy.py imports it and it builds " \
        "InverseProbabilityWeighting" in output
    assert "objective: abs_error (minimize; baseline 0.25 on seed 0) — the only metric whose name says " \
        "error/loss/bias" in output
    assert "guardrails: runtime_s — they measure time" in output


def test_the_probe_never_writes_into_the_checkout(make_repo: MakeRepo) -> None:
    fixed = EVALUATE.replace('parser.add_argument("--out", required=True)\n', "").replace(
        "with open(args.out", 'import os\nos.makedirs("results", exist_ok=True)\nwith open("results/m.json"')
    repo = make_repo({**OPE_REPO, "evaluate_policy.py": fixed})

    result = init(str(repo), "--yes")

    assert result.exit_code == 0, result.output
    assert not (repo / "results").exists()
    config = load_config(repo)
    assert (config.evaluate.command, config.evaluate.metrics) == (
        "python evaluate_policy.py --seed {seed}", "results/m.json")
    assert "results/**" in config.edit.protected


def test_a_code_folder_named_like_data_is_not_protected_whole(make_repo: MakeRepo) -> None:
    script = EVALUATE.replace("ope_pipeline.estimators", "models.reward")
    repo = make_repo({**OPE_REPO, "evaluate_policy.py": script, "models/__init__.py": "",
                      "models/reward.py": ESTIMATORS, "models/weights.pkl": "0"})

    result = init(str(repo), "--yes")

    assert result.exit_code == 0, result.output
    config = load_config(repo)
    assert config.edit.paths == ["models/reward.py"]
    assert "models/weights.pkl" in config.edit.protected and "models/**" not in config.edit.protected


def test_metrics_printed_on_stdout_are_redirected_to_the_metrics_file(make_repo: MakeRepo) -> None:
    script = (
        "import json, sys\nfrom ope_pipeline.estimators import make_estimator\n"
        "seed = int(sys.argv[1])\nprint(json.dumps({'policy_value': 0.75 + seed, 'wall_s': 0.1}))\n"
    )
    repo = make_repo({**OPE_REPO, "evaluate_policy.py": script})

    result = init(str(repo), "--yes")

    assert result.exit_code == 0, result.output
    config = load_config(repo)
    assert config.evaluate.command == "python evaluate_policy.py {seed} > {metrics_path}"
    assert (config.evaluate.objective.metric, config.evaluate.objective.goal) == ("policy_value", "maximize")


def test_an_ambiguous_objective_fails_under_yes_and_names_the_choices(make_repo: MakeRepo) -> None:
    repo = make_repo(with_metrics('{"ipw_error": 0.1, "dr_error": 0.2}'))

    result = init(str(repo), "--yes")

    assert result.exit_code == ConfigError.exit_code
    assert "2 metrics say error/loss/bias: ipw_error, dr_error" in result.output
    assert "--objective ipw_error:min" in result.output
    assert not (repo / ".growthhacker.yml").exists()


def test_an_ambiguous_objective_is_asked(make_repo: MakeRepo) -> None:
    repo = make_repo(with_metrics('{"ipw_error": 0.1, "dr_error": 0.2}'))

    result = init(str(repo), input="dr_error\n")

    assert result.exit_code == 0, result.output
    assert "Which metric should GrowthHacker optimise?" in result.output
    objective = load_config(repo).evaluate.objective
    assert (objective.metric, objective.goal) == ("dr_error", "minimize")


def test_the_objective_option_decides_and_is_checked_against_the_metrics(make_repo: MakeRepo) -> None:
    repo = make_repo(with_metrics('{"ipw_error": 0.1, "coverage": 0.9}'))

    chosen = init(str(repo), "--yes", "--objective", "coverage:max")
    unknown = init(str(repo), "--yes", "--force", "--objective", "recall")

    assert chosen.exit_code == 0, chosen.output
    objective = load_config(repo).evaluate.objective
    assert (objective.metric, objective.goal) == ("coverage", "maximize")
    assert unknown.exit_code == ConfigError.exit_code
    assert "wrote no such metric; it wrote: ipw_error, coverage" in unknown.output


def test_a_direction_the_name_does_not_say_is_asked_or_required(make_repo: MakeRepo) -> None:
    repo = make_repo(with_metrics('{"coverage": 0.9}'))

    refused = init(str(repo), "--yes", "--objective", "coverage")
    asked = init(str(repo), "--objective", "coverage", input="max\n")

    assert refused.exit_code == ConfigError.exit_code
    assert "pass --objective coverage:min or coverage:max" in refused.output
    assert asked.exit_code == 0, asked.output
    assert load_config(repo).evaluate.objective.goal == "maximize"


def test_a_dry_run_prints_the_config_and_writes_nothing(make_repo: MakeRepo) -> None:
    repo = make_repo(OPE_REPO)

    result = init(str(repo), "--yes", "--dry-run")

    assert result.exit_code == 0, result.output
    assert 'command: "python evaluate_policy.py --seed {seed} --out {metrics_path}"' in result.output
    assert sorted(p.name for p in repo.iterdir()) == sorted([".git", *{p.split("/")[0] for p in OPE_REPO}])


def test_the_evaluation_runs_with_a_scrubbed_environment(make_repo: MakeRepo) -> None:
    leak = '{"leak_error": float("MY_API_TOKEN" in __import__("os").environ)}'
    repo = make_repo(with_metrics(leak))

    result = init(str(repo), "--yes", env={"MY_API_TOKEN": "s3cret"})

    assert result.exit_code == 0, result.output
    assert "objective: leak_error (minimize; baseline 0 on seed 0)" in result.output


def test_a_crashing_evaluation_stops_init_with_its_output(make_repo: MakeRepo) -> None:
    repo = make_repo(with_metrics('{"abs_error": 1 / 0}'))

    result = init(str(repo), "--yes")

    assert result.exit_code == EvaluationError.exit_code
    assert "evaluate_policy.py is the evaluation init picked, and it failed" in result.output
    assert "ZeroDivisionError" in result.output
    assert not (repo / ".growthhacker.yml").exists()


def test_a_candidate_without_metrics_gives_way_to_the_next(make_repo: MakeRepo) -> None:
    plot = (
        "import argparse\nfrom ope_pipeline.estimators import make_estimator\n"
        "p = argparse.ArgumentParser()\np.add_argument('--seed')\np.add_argument('--output')\n"
        "p.parse_args()\nprint('plotted')\n"
    )
    repo = make_repo({**OPE_REPO, "evaluate.py": plot})  # outranks evaluate_policy.py: shallower name

    result = init(str(repo), "--yes")

    assert result.exit_code == 0, result.output
    assert "evaluate.py ran but wrote no metrics: trying the next candidate" in result.output
    assert load_config(repo).edit.protected[0] == "evaluate_policy.py"


def test_without_a_script_taking_a_seed_init_says_what_to_do(make_repo: MakeRepo) -> None:
    repo = make_repo({"ope/__init__.py": "", "ope/model.py": "x = 1\n", "run.py": "print('hi')\n"})

    result = init(str(repo), "--yes")

    assert result.exit_code == ConfigError.exit_code
    assert "takes a seed through argparse, click or sys.argv: give your evaluation a --seed option" \
        in result.output


def test_an_evaluation_that_builds_every_estimator_itself_leaves_nothing_editable(
    make_repo: MakeRepo,
) -> None:
    alone = EVALUATE.replace("from ope_pipeline.estimators import make_estimator\n", "").replace(
        "from ope_pipeline.simulation import simulate\n", "def simulate(seed):\n    return 0.5\n")
    repo = make_repo({"evaluate_policy.py": "def make():\n    from obp.ope import DirectMethod\n"
                                            "    return DirectMethod()\n" + alone})

    result = init(str(repo), "--yes")

    assert result.exit_code == ConfigError.exit_code
    assert "nothing evaluate_policy.py imports builds OPE estimators or reward models" in result.output


def test_init_writes_the_three_workflows_with_the_chosen_action(make_repo: MakeRepo) -> None:
    repo = make_repo(OPE_REPO)

    pinned = "acme/growthhacker@0123456789abcdef0123456789abcdef01234567"

    result = init(str(repo), "--yes", "--action-ref", pinned)

    assert result.exit_code == 0, result.output
    for name in WORKFLOW_NAMES:
        text = (repo / ".github" / "workflows" / name).read_text()
        assert ACTION_PLACEHOLDER not in text
        assert f"uses: {pinned}" in text
        assert isinstance(yaml.safe_load(text), dict)


def test_without_an_action_reference_init_asks_for_one_before_running_anything(make_repo: MakeRepo) -> None:
    repo = make_repo(OPE_REPO)

    result = init(str(repo), "--yes", action_ref=None)

    assert result.exit_code == ConfigError.exit_code
    assert "--action-ref owner/repo@<commit sha>" in result.output
    assert not (repo / ".growthhacker.yml").exists() and not (repo / ".github").exists()


def test_the_placeholder_of_the_templates_is_no_action_reference(make_repo: MakeRepo) -> None:
    repo = make_repo(OPE_REPO)

    result = init(str(repo), "--yes", "--action-ref", ACTION_PLACEHOLDER)

    assert result.exit_code == ConfigError.exit_code and "not an action reference" in result.output


def test_the_action_reference_is_derived_from_a_pip_install_of_a_github_commit() -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    git_install = {"url": "https://github.com/acme/growthhacker.git",
                   "vcs_info": {"vcs": "git", "commit_id": commit, "requested_revision": "main"}}

    assert action_ref_from_direct_url(git_install) == f"acme/growthhacker@{commit}"
    editable = {"url": "file:///src/growthhacker", "dir_info": {"editable": True}}
    assert action_ref_from_direct_url(editable) is None
    assert action_ref_from_direct_url({**git_install, "url": "https://gitlab.com/acme/growthhacker"}) is None


def test_init_refuses_to_overwrite_without_force_before_running_anything(make_repo: MakeRepo) -> None:
    repo = make_repo({**OPE_REPO, ".growthhacker.yml": "# mine\n"})

    result = init(str(repo), "--yes")

    assert result.exit_code == ConfigError.exit_code
    assert ".growthhacker.yml already exist" in result.output and "--force" in result.output
    assert "running" not in result.output
    assert (repo / ".growthhacker.yml").read_text() == "# mine\n"
    assert not (repo / ".github").exists()


def test_force_overwrites_existing_files(make_repo: MakeRepo) -> None:
    repo = make_repo({**OPE_REPO, ".growthhacker.yml": "# mine\n"})

    result = init(str(repo), "--yes", "--force")

    assert result.exit_code == 0, result.output
    assert load_config(repo).edit.paths == ["ope_pipeline/estimators.py"]


def test_a_malformed_action_reference_is_refused_before_writing(make_repo: MakeRepo) -> None:
    repo = make_repo(OPE_REPO)

    result = init(str(repo), "--yes", "--action-ref", "growthhacker; rm -rf /")

    assert result.exit_code == ConfigError.exit_code and "not an action reference" in result.output
    assert not (repo / ".growthhacker.yml").exists()


def test_the_base_branch_is_the_checked_out_branch_without_a_remote(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", OPE_REPO)
    subprocess.run(["git", "checkout", "-q", "-b", "develop"], cwd=repo, check=True)

    init(str(repo), "--yes")

    assert load_config(repo).github.base == "develop"


def test_the_base_branch_is_the_remotes_default_branch_not_the_feature_branch(tmp_path: Path) -> None:
    origin = git_repo(tmp_path / "origin", OPE_REPO)
    subprocess.run(["git", "branch", "-q", "-m", "main", "trunk"], cwd=origin, check=True)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
    subprocess.run(["git", "checkout", "-q", "-b", "add-growthhacker"], cwd=clone, check=True)

    result = init(str(clone), "--yes")

    assert result.exit_code == 0, result.output
    assert load_config(clone).github.base == "trunk"
