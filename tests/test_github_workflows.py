"""action.yml, this repo's workflows and the `growthhacker init` templates pass the GitHub Actions linters
(actionlint, the workflow/action JSON schemas, zizmor) and keep least privilege."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.github.events import MODES
from bot.init.install import detect_install
from bot.init.workflows import render_workflows

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ACTION = ROOT / "action.yml"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
TEMPLATES = sorted((ROOT / "bot" / "templates" / "workflows").glob("*.yml"))
DOGFOOD = ROOT / ".github" / "workflows" / "growthhacker-dogfood.yml"
#: What ``growthhacker init --action-ref <this>`` writes is what the linters check: the action pinned
#: to a commit, as a careful user installs it.
PINNED_REF = "acme/growthhacker@" + "a" * 40


#: The shard jobs of the sharded optimize workflow the linters check.
SHARDS = 4
#: A target declared by pyproject.toml only (dependencies, extras, obp 0.5 among them) with its own
#: Python version.
PYPROJECT_TARGET = {
    "pyproject.toml": """\
[project]
name = "ope-study"
version = "0.1"
dependencies = ["numpy>=1.26", "obp==0.5.5"]
[project.optional-dependencies]
bench = ["scikit-learn>=1.3", "torch==2.13.0"]
docs = ["sphinx"]
""",
    ".python-version": "3.11\n",
}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The workflows ``growthhacker init`` writes, with the action pinned to a commit, for the bundled
    example (requirements.txt with obp 0.5.7), for a pyproject-only target, and for the example with
    ``--shards 4`` (the optimize workflow as a matrix)."""
    example = ROOT / "examples" / "ope-target"
    pyproject = tmp_path_factory.mktemp("pyproject-target")
    for name, text in PYPROJECT_TARGET.items():
        (pyproject / name).write_text(text, encoding="utf-8")
    paths = ["ope_pipeline/**/*.py", "evaluate.py", ".growthhacker.yml"]
    out = []
    for label, target, shards in (("example", example, 1), ("pyproject", pyproject, 1),
                                  ("sharded", example, SHARDS)):
        folder = tmp_path_factory.mktemp(f"written-{label}")
        for name, text in render_workflows(PINNED_REF, detect_install(target), paths, shards).items():
            (folder / name).write_text(text, encoding="utf-8")
        out += sorted(folder.glob("*.yml"))
    return out


def install_script(path: Path, job: str) -> str:
    steps = load(path)["jobs"][job]["steps"]
    name = "Install the evaluation's dependencies"
    return "".join(step["run"] for step in steps if step.get("name") == name)


def test_the_obp_target_is_installed_in_two_steps_as_platform_md_verified(written: list[Path]) -> None:
    example = next(p for p in written if "written-example" in str(p) and p.name.endswith("optimize.yml"))
    script = install_script(example, "search").splitlines()

    assert script[-1] == "python -m pip install --no-deps --ignore-requires-python obp==0.5.7"
    assert 'python -m pip install -r "$RUNNER_TEMP/requirements-without-obp.txt"' in script
    setup = next(s for s in load(example)["jobs"]["search"]["steps"] if "setup-python" in s.get("uses", ""))
    assert setup["with"] == {"python-version": "3.11", "cache": "pip",
                             "cache-dependency-path": "requirements.txt"}


def test_the_dogfood_workflow_installs_the_example_exactly_as_init_writes_it() -> None:
    expected = "".join(f"{line}\n" for line in detect_install(ROOT / "examples" / "ope-target").script)

    for job in ("search", "measure"):
        assert install_script(DOGFOOD, job) == expected, job


def test_a_pyproject_target_gets_its_dependencies_extras_and_python_version(written: list[Path]) -> None:
    verify = next(p for p in written if "written-pyproject" in str(p) and p.name.endswith("verify.yml"))
    script = install_script(verify, "measure").splitlines()

    assert script[0] == "python -m pip install 'numpy>=1.26' 'scikit-learn>=1.3' torch==2.13.0"
    assert "sphinx" not in "".join(script)  # documentation extras are not the evaluation's
    assert "torch" not in "".join(script[1:])  # the target pins its own torch
    assert script[-1] == "python -m pip install --no-deps --ignore-requires-python obp==0.5.5"
    setup = next(s for s in load(verify)["jobs"]["measure"]["steps"] if "setup-python" in s.get("uses", ""))
    assert setup["with"]["python-version-file"] == ".python-version"
    assert triggers(load(verify))["pull_request"]["paths"] == [
        "ope_pipeline/**/*.py", "evaluate.py", ".growthhacker.yml"]


def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]' (it is in the dev extra)")
    return str(path)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    on = workflow.get("on", workflow.get(True))
    assert isinstance(on, dict)
    return on


def test_the_expected_files_exist() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "evals.yml", "growthhacker-dogfood.yml"]
    assert [p.name for p in TEMPLATES] == [
        "growthhacker-command.yml",
        "growthhacker-optimize-sharded.yml",
        "growthhacker-optimize.yml",
        "growthhacker-verify.yml",
    ]


def test_actionlint_passes_on_workflows_templates_and_the_local_action(written: list[Path]) -> None:
    # The dogfood workflow uses `./`, so actionlint also checks action.yml's inputs against it.
    proc = run(tool("actionlint"), "-no-color", "-oneline", *map(str, WORKFLOWS + written))

    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflows_and_templates_match_the_github_workflow_schema(written: list[Path]) -> None:
    proc = run(
        tool("check-jsonschema"),
        "--builtin-schema",
        "vendor.github-workflows",
        *map(str, WORKFLOWS + written),
    )

    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_action_yml_matches_the_github_action_schema() -> None:
    proc = run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(ACTION))

    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_finds_nothing_above_low_but_the_trigger_slash_commands_need(written: list[Path]) -> None:
    proc = run(
        tool("zizmor"),
        "--offline",
        "--no-progress",
        "--format",
        "json",
        str(ACTION),
        *map(str, WORKFLOWS + written),
    )
    findings = json.loads(proc.stdout)

    serious = [
        (f["ident"], Path(next(iter(f["locations"][0]["symbolic"]["key"]["Local"].values()))).name)
        for f in findings
        if f["determinations"]["severity"] not in ("Informational", "Low")
    ]
    # issue_comment is the only event for PR comments; the workflow's header says why it is safe
    # here (no job that can write runs repository code), and users' own scans see it too.
    assert serious == [("dangerous-triggers", "growthhacker-command.yml")] * 3  # one per rendering


def test_what_init_writes_suppresses_no_zizmor_finding(written: list[Path]) -> None:
    assert [path.name for path in written if "zizmor: ignore" in path.read_text()] == []


#: The modes that run repository or candidate code (the target's install, evaluations, the agents).
RUNS_CODE = {"search", "measure", "shard", "confirm", "gather"}


def jobs_of(path: Path) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{path.name}:{name}", job) for name, job in load(path)["jobs"].items()]


def modes_of(job: dict[str, Any]) -> set[str]:
    return {str(step.get("with", {}).get("mode", "")) for step in job["steps"]
            if "growthhacker" in str(step.get("uses", "")) or step.get("uses") == "./"}


def writes(job: dict[str, Any]) -> bool:
    return "write" in (job.get("permissions") or {}).values()


def runs_repository_code(job: dict[str, Any]) -> bool:
    return any("run" in step for step in job["steps"]) or bool(modes_of(job) & RUNS_CODE)


def receives_secrets(job: dict[str, Any]) -> bool:
    return any("secrets." in json.dumps(step.get(key, {}))
               for step in job["steps"] for key in ("with", "env"))


@pytest.mark.parametrize("mode", MODES)
def test_no_job_both_writes_and_runs_repository_code_or_holds_the_key(mode: str, written: list[Path]) -> None:
    jobs = [(name, job) for path in [*written, DOGFOOD] for name, job in jobs_of(path)
            if mode in modes_of(job)]

    assert [name for name, _ in jobs if name.startswith("growthhacker-") and "dogfood" not in name], (
        f"no workflow init writes runs the {mode} mode")
    for name, job in jobs:
        assert not (writes(job) and (runs_repository_code(job) or receives_secrets(job))), name
        if mode in RUNS_CODE:
            assert job["permissions"] == {"contents": "read"}, name
        else:
            assert not runs_repository_code(job) and not receives_secrets(job), name


def test_every_job_init_writes_runs_one_mode(written: list[Path]) -> None:
    for path in [*written, DOGFOOD]:
        for name, job in jobs_of(path):
            assert len(modes_of(job)) == 1 and modes_of(job) <= set(MODES), name


def test_jobs_that_write_on_pull_requests_check_out_the_base_not_the_pr(written: list[Path]) -> None:
    for path in [*written, DOGFOOD]:
        for name, job in jobs_of(path):
            checkouts = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout@")]
            if modes_of(job) & {"report", "outcome"}:  # the modes that write on pull_request events
                assert [s["with"].get("ref") for s in checkouts] == [
                    "${{ github.event.pull_request.base.sha }}"], name


@pytest.mark.parametrize("path", TEMPLATES + WORKFLOWS, ids=lambda p: p.name)
def test_every_workflow_starts_with_least_privilege_and_a_concurrency_group(path: Path) -> None:
    workflow = load(path)

    assert workflow["permissions"] in ({}, {"contents": "read"})
    if "issue_comment" in triggers(workflow):
        # Every comment triggers it and a group keeps one pending run: per job, never per workflow.
        assert "concurrency" not in workflow
        assert [name for name, job in workflow["jobs"].items() if "concurrency" in job] == ["undo", "search"]
    else:
        assert "group" in workflow["concurrency"]
    assert "pull_request_target" not in triggers(workflow)


@pytest.mark.parametrize("path", TEMPLATES + WORKFLOWS, ids=lambda p: p.name)
def test_checkouts_never_persist_the_token(path: Path) -> None:
    steps = [step for job in load(path)["jobs"].values() for step in job["steps"]]
    checkouts = [step for step in steps if str(step.get("uses", "")).startswith("actions/checkout@")]

    assert checkouts
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


def test_the_templates_cover_optimize_verify_and_command_events() -> None:
    events = {path.name: set(triggers(load(path))) for path in TEMPLATES}

    assert events == {
        "growthhacker-optimize.yml": {"schedule", "workflow_dispatch"},
        "growthhacker-optimize-sharded.yml": {"schedule", "workflow_dispatch"},
        "growthhacker-verify.yml": {"pull_request"},
        "growthhacker-command.yml": {"issue_comment"},
    }


def test_the_action_passes_inputs_to_its_scripts_only_through_the_environment() -> None:
    action = load(ACTION)

    scripts = [step["run"] for step in action["runs"]["steps"] if "run" in step]
    assert scripts and all("${{" not in script for script in scripts)
    assert set(action["inputs"]) >= {
        "mode",
        "github-token",
        "anthropic-api-key",
        "config",
        "iterations",
        "agent",
    }
    assert set(action["outputs"]) == {"pr-number", "best-metric", "improvement", "work", "head-sha"}


def test_every_action_the_action_uses_is_pinned_to_a_commit() -> None:
    uses = [step["uses"] for step in load(ACTION)["runs"]["steps"] if "uses" in step]

    assert uses and all(re.fullmatch(r"actions/[\w-]+@[0-9a-f]{40}", ref) for ref in uses)


def test_a_read_only_job_hands_one_artifact_to_the_writing_job_after_it() -> None:
    steps = load(ACTION)["runs"]["steps"]
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    upload = uploads[0]
    downloads = [s for s in steps if str(s.get("uses", "")).startswith("actions/download-artifact@")]
    download = next(s for s in downloads if "name" in s["with"])
    bot = next(s for s in steps if s.get("id") == "run")

    # one name per use of the action (an input), so two uses in a run never overwrite each other
    assert upload["with"]["name"] == download["with"]["name"] == "${{ inputs.artifact-name }}"
    assert upload["with"]["path"].endswith("-${{ inputs.artifact-name }}")
    assert upload["with"]["path"] == download["with"]["path"] == bot["env"]["GROWTHHACKER_ARTIFACT"]
    # written by the modes that run repository code (also when they fail), read by the ones that write
    assert " ".join(upload["if"].split()) == (
        "always() && (inputs.mode == 'measure' || inputs.mode == 'search' || inputs.mode == 'shard' "
        "|| inputs.mode == 'gather')")
    assert download["if"] == "inputs.mode == 'report' || inputs.mode == 'publish'"
    assert upload["with"]["overwrite"] is True  # a re-run of failed jobs writes it again
    # The gather takes every shard's artifact: named <its own artifact-name>-shard-<i>, one folder each.
    # A confirm job takes them too and uploads <artifact-name>-finalist-<i>, which the gather takes.
    shards, confirmations = (s for s in downloads if "pattern" in s["with"])
    assert shards["if"] == "inputs.mode == 'gather' || inputs.mode == 'confirm'"
    assert shards["with"]["pattern"] == "${{ inputs.artifact-name }}-shard-*"
    assert "merge-multiple" not in shards["with"] and "merge-multiple" not in confirmations["with"]
    assert shards["with"]["path"] == bot["env"]["GROWTHHACKER_SHARDS_DIR"]
    [confirmed] = uploads[1:]
    assert (confirmed["if"], confirmations["if"]) == ("inputs.mode == 'confirm'", "inputs.mode == 'gather'")
    assert confirmed["with"]["name"] == "${{ inputs.artifact-name }}-finalist-${{ inputs.finalist }}"
    assert confirmations["with"]["pattern"] == "${{ inputs.artifact-name }}-finalist-*"
    assert confirmed["with"]["path"] == bot["env"]["GROWTHHACKER_ARTIFACT"]
    assert confirmations["with"]["path"] == bot["env"]["GROWTHHACKER_CONFIRMATIONS_DIR"]


def test_init_shards_writes_the_optimize_workflow_as_a_read_only_matrix_then_gather_then_publish(
        written: list[Path]) -> None:
    path = next(p for p in written if "written-sharded" in str(p) and p.name == "growthhacker-optimize.yml")
    jobs = load(path)["jobs"]

    assert list(jobs) == ["search", "confirm", "gather", "publish"]
    search, confirm, gather, publish = jobs["search"], jobs["confirm"], jobs["gather"], jobs["publish"]
    assert search["strategy"] == {"fail-fast": False, "matrix": {"shard": list(range(SHARDS))}}
    # one confirm job per finalist the config confirms (loop.confirm_top, 3 by default)
    assert confirm["strategy"] == {"fail-fast": False, "matrix": {"finalist": [0, 1, 2]}}
    assert search["permissions"] == confirm["permissions"] == gather["permissions"] == {"contents": "read"}
    action = next(s for s in search["steps"] if "growthhacker" in str(s.get("uses", "")))
    assert action["with"]["mode"] == "shard" and action["with"]["shards"] == str(SHARDS)
    assert action["with"]["shard"] == "${{ matrix.shard }}"
    # The gather downloads <its artifact-name>-shard-*: the shards' names must follow from it.
    gathered = next(s for s in gather["steps"] if "growthhacker" in str(s.get("uses", "")))
    assert action["with"]["artifact-name"] == gathered["with"]["artifact-name"] + "-shard-${{ matrix.shard }}"
    assert "secrets." in json.dumps(action) and "secrets." not in json.dumps(gather)  # the key: shards only
    confirming = next(s for s in confirm["steps"] if "growthhacker" in str(s.get("uses", "")))
    assert confirming["with"] == {"mode": "confirm", "finalist": "${{ matrix.finalist }}",
                                  "artifact-name": gathered["with"]["artifact-name"]}
    assert "secrets." not in json.dumps(confirm)
    assert (confirm["needs"], gather["needs"]) == ("search", ["search", "confirm"])
    assert publish["needs"] == "gather"
    # A failed confirm job leaves its finalist to the gather; a failed shard stops the gather.
    assert gather["if"] == "${{ !cancelled() && needs.search.result == 'success' }}"
    published = next(s for s in publish["steps"] if "growthhacker" in str(s.get("uses", "")))
    assert published["with"]["artifact-name"] == gathered["with"]["artifact-name"]
    assert install_script(path, "search") == install_script(path, "gather") != ""
    assert install_script(path, "confirm") == install_script(path, "gather")


def test_the_single_and_the_sharded_optimize_workflow_share_trigger_concurrency_and_publish(
        written: list[Path]) -> None:
    single, sharded = (load(next(p for p in written if f"written-{label}" in str(p)
                                 and p.name == "growthhacker-optimize.yml"))
                       for label in ("example", "sharded"))

    assert triggers(single)["schedule"] == triggers(sharded)["schedule"]
    assert list(triggers(single)["workflow_dispatch"]["inputs"]) == list(
        triggers(sharded)["workflow_dispatch"]["inputs"]) == ["iterations"]
    assert single["concurrency"] == sharded["concurrency"]
    assert single["jobs"]["publish"]["permissions"] == sharded["jobs"]["publish"]["permissions"]
    assert single["jobs"]["search"]["timeout-minutes"] == sharded["jobs"]["search"]["timeout-minutes"]
