"""The fake runner's job matrices and multi-artifact downloads behave as GitHub's: combinations in
GitHub's order with ``include``/``exclude`` as documented, instances named ``job (values)`` each with
its own workspace, token and ``matrix`` context, ``fail-fast``, ``needs.<job>`` of a whole matrix,
"Re-run job" on one instance, and download-artifact v4's ``pattern:`` / ``merge-multiple``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.action_world import ACTION_REF, ActionWorld, action_world, git
from tests.helpers.artifacts import download, name_pattern, upload
from tests.helpers.matrix import expand_matrix, instance_name, job_instances, matrix_outputs, matrix_result
from tests.helpers.toy import PARAMS
from tests.helpers.workflow_runner import WorkflowRun, rerun_failed_jobs, rerun_job

CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"


def test_a_matrix_expands_in_githubs_order() -> None:
    strategy = {"matrix": {"version": [10, 12, 14], "os": ["ubuntu-latest", "windows-latest"]}}

    assert expand_matrix(strategy, {}) == [
        {"version": 10, "os": "ubuntu-latest"}, {"version": 10, "os": "windows-latest"},
        {"version": 12, "os": "ubuntu-latest"}, {"version": 12, "os": "windows-latest"},
        {"version": 14, "os": "ubuntu-latest"}, {"version": 14, "os": "windows-latest"},
    ]


def test_include_extends_and_adds_as_github_documents() -> None:
    # The example of GitHub's "Expanding or adding matrix configurations", with its documented result.
    strategy = {"matrix": {"fruit": ["apple", "pear"], "animal": ["cat", "dog"], "include": [
        {"color": "green"}, {"color": "pink", "animal": "cat"}, {"fruit": "apple", "shape": "circle"},
        {"fruit": "banana"}, {"fruit": "banana", "animal": "cat"}]}}

    assert expand_matrix(strategy, {}) == [
        {"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"},
        {"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"},
        {"fruit": "pear", "animal": "cat", "color": "pink"},
        {"fruit": "pear", "animal": "dog", "color": "green"},
        {"fruit": "banana"},
        {"fruit": "banana", "animal": "cat"},
    ]


def test_exclude_removes_partial_matches_and_include_adds_back() -> None:
    strategy = {"matrix": {"os": ["macos", "windows"], "version": [12, 14, 16],
                           "exclude": [{"os": "macos", "version": 12}, {"os": "windows"}],
                           "include": [{"os": "windows", "version": 16, "experimental": True}]}}

    assert expand_matrix(strategy, {}) == [
        {"os": "macos", "version": 14}, {"os": "macos", "version": 16},
        {"os": "windows", "version": 16, "experimental": True},
    ]


def test_a_matrix_of_only_includes_is_one_job_per_entry() -> None:
    strategy = {"matrix": {"include": [{"site": "production", "datacenter": "site-a"},
                                       {"site": "staging", "datacenter": "site-b"}]}}

    assert expand_matrix(strategy, {}) == [{"site": "production", "datacenter": "site-a"},
                                           {"site": "staging", "datacenter": "site-b"}]


def test_a_matrix_may_come_from_an_expression() -> None:
    contexts = {"needs": {"plan": {"outputs": {"shards": "[0, 1, 2]"}}},
                "inputs": {"matrix": '{"shard": [3], "include": [{"shard": 3, "extra": "x"}]}'}}

    by_key = expand_matrix({"matrix": {"shard": "${{ fromJSON(needs.plan.outputs.shards) }}"}}, contexts)
    whole = expand_matrix({"matrix": "${{ fromJSON(inputs.matrix) }}"}, contexts)

    assert by_key == [{"shard": 0}, {"shard": 1}, {"shard": 2}]
    assert whole == [{"shard": 3, "extra": "x"}]


@pytest.mark.parametrize(("matrix", "message"), [
    ({"shard": []}, "does not contain any values"),
    ({"shard": 3}, "not a list"),
    ({"shard": "${{ inputs.n }}"}, "not a list"),
    ({"shard": [0], "exclude": [{"os": "x"}]}, "match no key"),
    ({"shard": [0], "exclude": [{"shard": 0}]}, "no combination"),
    ({"a": list(range(16)), "b": list(range(17))}, "GitHub allows 256"),
    ({"include": "not a list"}, "list of mappings"),
])
def test_a_matrix_github_rejects_raises(matrix: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        expand_matrix({"matrix": matrix}, {"inputs": {"n": "3"}})


def test_instances_are_named_and_numbered_as_on_github() -> None:
    job = {"strategy": {"fail-fast": False, "matrix": {"os": ["ubuntu-latest", "macos-latest"],
                                                       "flavor": ["dev", "prod"], "include": [
        {"os": "macos-latest", "text": "hello macos"}]}}}

    instances = job_instances("deploy", job, {})

    assert [i.name for i in instances] == [
        "deploy (ubuntu-latest, dev)", "deploy (ubuntu-latest, prod)",
        "deploy (macos-latest, dev, hello macos)", "deploy (macos-latest, prod, hello macos)"]
    assert [i.strategy["job-index"] for i in instances] == [0, 1, 2, 3]
    assert instances[0].strategy == {"fail-fast": False, "job-index": 0, "job-total": 4, "max-parallel": 4}
    assert [i.folder for i in instances] == ["deploy-0", "deploy-1", "deploy-2", "deploy-3"]
    assert instance_name("search", {"shard": 0, "python": 3.1, "fast": True}) == "search (0, 3.1, true)"
    [plain] = job_instances("publish", {"steps": []}, {})
    assert (plain.name, plain.matrix, plain.folder) == ("publish", {}, "publish")
    with pytest.raises(ValueError, match="objects"):
        instance_name("search", {"db": {"ver": "mysql"}})


@pytest.mark.parametrize(("results", "result"), [
    (["success", "success"], "success"),
    (["success", "failure", "cancelled"], "failure"),
    (["cancelled", "success"], "cancelled"),
    (["skipped", "skipped"], "skipped"),
    (["skipped", "success"], "success"),
])
def test_a_matrix_result_is_githubs_conclusion_of_its_instances(results: list[str], result: str) -> None:
    assert matrix_result(results) == result


def test_matrix_outputs_combine_the_last_non_empty_value_winning() -> None:
    # GitHub's "Using job outputs in a matrix job": each instance sets its own output, the others "".
    instances = [{"output_1": "1", "output_2": "", "last": "a"},
                 {"output_1": "", "output_2": "2", "last": "b"},
                 {"output_1": "", "output_2": "", "last": "c", "never": ""}]

    assert matrix_outputs(instances) == {"output_1": "1", "output_2": "2", "last": "c", "never": ""}


def store(artifacts: Path, files: dict[str, str]) -> None:
    """Artifacts as upload-artifact leaves them: ``{"<artifact>/<path>": text}``."""
    for path, text in files.items():
        (artifacts / path).parent.mkdir(parents=True, exist_ok=True)
        (artifacts / path).write_text(text, encoding="utf-8")


def tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*"))
            if p.is_file()}


SHARDS = {"growthhacker-shard-0/records.jsonl": "zero\n", "growthhacker-shard-1/records.jsonl": "one\n",
          "growthhacker-shard-1/plot/plot.png": "png\n", "growthhacker/manifest.json": "{}\n"}


def test_a_pattern_download_puts_each_matching_artifact_in_a_directory_of_its_name(tmp_path: Path) -> None:
    artifacts, workspace, log = tmp_path / "artifacts", tmp_path / "workspace", []
    store(artifacts, SHARDS)

    ok = download(artifacts, {"pattern": "growthhacker-shard-*", "path": "shards"}, workspace, log)

    assert ok
    assert tree(workspace / "shards") == {"growthhacker-shard-0/records.jsonl": "zero\n",
                                          "growthhacker-shard-1/records.jsonl": "one\n",
                                          "growthhacker-shard-1/plot/plot.png": "png\n"}
    assert log == ["downloaded 2 artifact(s) matching growthhacker-shard-*: growthhacker-shard-0, "
                   "growthhacker-shard-1"]


def test_a_pattern_matching_one_artifact_still_gets_its_directory(tmp_path: Path) -> None:
    artifacts, workspace = tmp_path / "artifacts", tmp_path / "workspace"
    store(artifacts, SHARDS)

    with_ = {"pattern": "growthhacker-shard-0", "path": str(tmp_path / "out")}

    assert download(artifacts, with_, workspace, [])

    assert tree(tmp_path / "out") == {"growthhacker-shard-0/records.jsonl": "zero\n"}


def test_merge_multiple_puts_every_matching_artifact_in_the_path_itself(tmp_path: Path) -> None:
    artifacts, workspace = tmp_path / "artifacts", tmp_path / "workspace"
    store(artifacts, {"cov-a/a.txt": "a\n", "cov-b/b.txt": "b\n", "cov-b/same.txt": "s\n",
                      "cov-c/same.txt": "s\n", "other/o.txt": "o\n"})

    ok = download(artifacts, {"pattern": "cov-*", "merge-multiple": "true"}, workspace, [])

    assert ok
    assert tree(workspace) == {"a.txt": "a\n", "b.txt": "b\n", "same.txt": "s\n"}  # path: the workspace


def test_merging_two_different_files_to_one_path_is_refused_as_a_race(tmp_path: Path) -> None:
    artifacts = tmp_path / "artifacts"
    store(artifacts, {"cov-a/report.txt": "a\n", "cov-b/report.txt": "b\n"})

    with pytest.raises(ValueError, match="race"):
        download(artifacts, {"pattern": "cov-*", "merge-multiple": "true", "path": "out"}, tmp_path, [])


def test_a_pattern_matching_nothing_succeeds_and_creates_nothing(tmp_path: Path) -> None:
    artifacts, log = tmp_path / "artifacts", []
    store(artifacts, SHARDS)

    ok = download(artifacts, {"pattern": "growthhacker-shard-[2-9]", "path": "shards"}, tmp_path, log)

    assert ok and not (tmp_path / "shards").exists()
    assert log == ["downloaded 0 artifact(s) matching growthhacker-shard-[2-9]"]


def test_a_name_download_fills_the_path_and_fails_for_a_missing_artifact(tmp_path: Path) -> None:
    artifacts, log = tmp_path / "artifacts", []
    store(artifacts, SHARDS)

    found = download(artifacts, {"name": "growthhacker", "pattern": "x-*", "path": "a"}, tmp_path, log)
    missing = download(artifacts, {"name": "growthhacker-shard-9", "path": "b"}, tmp_path, log)

    assert found and tree(tmp_path / "a") == {"manifest.json": "{}\n"}  # name wins over pattern
    assert not missing and not (tmp_path / "b").exists()
    assert log[-1] == ("download-artifact: Unable to download artifact(s): "
                       "Artifact 'growthhacker-shard-9' not found")


def test_download_refuses_what_download_artifact_refuses_or_the_fake_does_not_model(tmp_path: Path) -> None:
    artifacts, log = tmp_path / "artifacts", []
    store(artifacts, SHARDS)

    assert not download(artifacts, {"pattern": "*", "merge-multiple": "yes"}, tmp_path, log)
    assert "merge-multiple" in log[-1]
    with pytest.raises(ValueError, match="run-id"):
        download(artifacts, {"pattern": "*", "run-id": "7"}, tmp_path, log)
    with pytest.raises(ValueError, match="braces"):
        download(artifacts, {"pattern": "{a,b}-*"}, tmp_path, log)


def test_patterns_match_names_as_minimatch_does() -> None:
    assert name_pattern("growthhacker-shard-*").fullmatch("growthhacker-shard-12")
    assert not name_pattern("growthhacker-shard-*").fullmatch("growthhacker")
    assert name_pattern("shard-?").fullmatch("shard-3")
    assert not name_pattern("shard-?").fullmatch("shard-10")
    assert name_pattern("shard-[!0]").fullmatch("shard-1")
    assert not name_pattern("shard-[!0]").fullmatch("shard-0")
    assert not name_pattern("*").fullmatch(".hidden") and name_pattern(".*").fullmatch(".hidden")
    assert not name_pattern("Shard-*").fullmatch("shard-1")  # case-sensitive


def test_uploading_a_name_twice_conflicts_unless_overwritten(tmp_path: Path) -> None:
    artifacts, workspace, log = tmp_path / "artifacts", tmp_path / "workspace", []
    (workspace / "out").mkdir(parents=True)
    (workspace / "out" / "a.txt").write_text("first\n", encoding="utf-8")
    with_ = {"name": "growthhacker-shard-0", "path": "out"}

    first = upload(artifacts, with_, workspace, log)
    (workspace / "out" / "a.txt").write_text("second\n", encoding="utf-8")
    again = upload(artifacts, with_, workspace, log)
    overwritten = upload(artifacts, {**with_, "overwrite": "true"}, workspace, log)
    invalid = upload(artifacts, {**with_, "name": "shard/0"}, workspace, log)

    assert (first, again, overwritten, invalid) == (True, False, True, False)
    assert "already exists (409)" in log[1]
    assert tree(artifacts) == {"growthhacker-shard-0/a.txt": "second\n"}


def matrix_workflow(fail_fast: bool) -> str:
    """A workflow whose ``search`` matrix runs the action three times (shard 1 with the mode the
    secret SHARD_1_MODE names, so a test can make it fail), and whose ``gather`` reports what
    ``needs.search`` was."""
    return f"""
on: issue_comment
permissions: {{}}
env:
  LEVEL: workflow
jobs:
  search:
    runs-on: ubuntu-latest
    if: github.event.action != 'created'
    strategy:
      fail-fast: {str(fail_fast).lower()}
      matrix:
        shard: [0, 1, 2]
    permissions:
      contents: read
    concurrency: shard-${{{{ matrix.shard }}}}
    env:
      SHARD: shard-${{{{ matrix.shard }}}}-of-${{{{ strategy.job-total }}}}
    outputs:
      last-shard: ${{{{ matrix.shard }}}}
      only-zero: ${{{{ matrix.shard == 0 && 'zero' || '' }}}}
    steps:
      - uses: {CHECKOUT}
      - uses: {ACTION_REF}
        with:
          mode: ${{{{ matrix.shard == 1 && secrets.SHARD_1_MODE || 'receive' }}}}
          artifact-name: growthhacker-shard-${{{{ matrix.shard }}}}
  never:
    if: github.event.action == 'created'
    strategy:
      matrix:
        shard: [0, 1]
    steps: []
  gather:
    needs: [search, never]
    if: ${{{{ always() }}}}
    permissions:
      contents: read
    outputs:
      search: ${{{{ needs.search.result }}}}
      never: ${{{{ needs.never.result }}}}
      last-shard: ${{{{ needs.search.outputs.last-shard }}}}
      only-zero: ${{{{ needs.search.outputs.only-zero }}}}
    steps: []
  publish:
    needs: gather
    if: needs.gather.outputs.search == 'success'
    steps: []
"""


def deliver(world: ActionWorld, fail_fast: bool) -> WorkflowRun:
    """An edited comment (so ``receive`` has nothing to do and exits 0) delivered to the workflow,
    shard 1 with a mode the CLI refuses (it fails)."""
    world.runner.secrets["SHARD_1_MODE"] = "bogus"
    world.push_change("tune", {PARAMS: "SCALE = 0.6\n"})
    payload = {**world.comment(world.open_pull("tune"), "hello", "alice"), "action": "edited"}
    return world.trigger_text(matrix_workflow(fail_fast), "issue_comment", payload)


def test_each_matrix_instance_runs_as_its_own_job_with_its_matrix_values(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        run = deliver(world, fail_fast=False)

        assert list(run.jobs) == ["search (0)", "search (1)", "search (2)", "never", "gather", "publish"]
        assert [job.result for job in run.instances("search")] == ["success", "failure", "success"]
        assert run["search (1)"].exit_code == 2 and "bogus" in run["search (1)"].output
        zero, one, two = run.instances("search")
        for index, job in enumerate((zero, one, two)):
            assert job.job_id == "search" and job.matrix == {"shard": index}
            assert job.env["GITHUB_JOB"] == "search" and job.env["LEVEL"] == "workflow"
            assert job.env["SHARD"] == f"shard-{index}-of-3"
            assert job.env["GROWTHHACKER_ARTIFACT"] == (
                f"{job.env['RUNNER_TEMP']}/growthhacker-artifact-growthhacker-shard-{index}")
            assert job.scopes == {"contents": "read"}
        assert [job.env["GROWTHHACKER_MODE"] for job in (zero, one, two)] == ["receive", "bogus", "receive"]
        assert len({job.env["RUNNER_TEMP"] for job in (zero, one, two)}) == 3
        assert len({job.env["GITHUB_WORKSPACE"] for job in (zero, one, two)}) == 3
        assert len({job.token for job in (zero, one, two)}) == 3
        assert len({job.env["GITHUB_RUN_ID"] for job in (zero, one, two)}) == 1
        assert [(group, state) for group, _, state in world.runner.groups.history] == [
            ("shard-0", "running"), ("shard-1", "running"), ("shard-2", "running")]
        assert run["never"].result == "skipped"  # a skipped matrix job is one job, never expanded
        assert run["gather"].outputs == {"search": "failure", "never": "skipped", "last-shard": "2",
                                         "only-zero": "zero"}
        assert run["publish"].result == "skipped"
        assert (run.result("search"), run.job_outputs("search")["last-shard"]) == ("failure", "2")


def test_fail_fast_cancels_the_instances_after_a_failure_and_one_can_be_re_run(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        run = deliver(world, fail_fast=True)
        assert [(job.name, job.result) for job in run.instances("search")] == [
            ("search (0)", "success"), ("search (1)", "failure"), ("search (2)", "cancelled")]
        assert run["search (2)"].env == {} and run["search (2)"].token == ""  # it never started
        first, gather = run["search (0)"], run["gather"]

        again = rerun_job(run, "search (2)")

        assert again is run["search (2)"] and again.result == "success"
        assert again.env["GITHUB_RUN_ATTEMPT"] == "2"
        assert again.env["GITHUB_RUN_ID"] == first.env["GITHUB_RUN_ID"]
        assert again.env["SHARD"] == "shard-2-of-3" and again.env["GITHUB_JOB"] == "search"
        assert again.env["RUNNER_TEMP"] != first.env["RUNNER_TEMP"]
        assert run["search (0)"] is first  # the other instances are not re-run
        assert run["gather"] is not gather  # what needs it is re-run too
        assert run["gather"].outputs["search"] == "failure"
        assert list(run.jobs) == ["search (0)", "search (1)", "search (2)", "never", "gather", "publish"]
        with pytest.raises(ValueError, match="re-run one of its instances"):
            rerun_job(run, "never")


def test_re_running_failed_jobs_runs_the_failed_instance_and_what_needs_it(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        run = deliver(world, fail_fast=False)
        assert run.result("search") == "failure" and run["publish"].result == "skipped"
        zero = run["search (0)"]
        world.runner.secrets["SHARD_1_MODE"] = "receive"  # the cause fixed, as in the repository's settings
        moved = world.push_change("main", {"NOTES.md": "pushed after the run started\n"})

        ran = rerun_failed_jobs(run)

        assert ran == ["search (1)", "gather", "publish"]
        one = run["search (1)"]
        assert one.result == "success" and one.env["GITHUB_RUN_ATTEMPT"] == "2"
        assert one.checkout is not None  # the run's commit, not the branch as it is now
        assert git(one.checkout, "rev-parse", "HEAD") == zero.env["GITHUB_SHA"] != moved
        assert run["search (0)"] is zero
        assert run["gather"].outputs["search"] == "success" and run["publish"].result == "success"
        assert run.ok
