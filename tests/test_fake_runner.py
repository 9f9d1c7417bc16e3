"""The fake world has the runner's semantics before any test relies on them: the checkout each event
gets, tokens scoped to each job's ``permissions:`` (403 from the API and from git outside them),
fork pull requests read-only, and GitHub's expression language for ``if:`` and ``with:``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from github import GithubException
from github.Repository import Repository

from bot.errors import GitHubError
from bot.github.client import RetryPolicy, connect
from bot.github.git_remote import RemoteGit
from tests.helpers.action_world import REPOSITORY, action_world
from tests.helpers.expressions import Status, condition, evaluate, render
from tests.helpers.fake_github.scopes import scopes_of
from tests.helpers.toy import PARAMS
from tests.helpers.workflow_runner import glob_regex

CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"


def workflow(on: str, jobs: str) -> str:
    return f"on: {on}\npermissions: {{}}\njobs:\n{jobs}"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def client(base_url: str, token: str) -> Repository:
    policy = RetryPolicy(retries=0, sleeper=lambda _: None)
    gh = connect(token, api_url=base_url, policy=policy, seconds_between_writes=0, seconds_between_requests=0)
    return gh.get_repo(REPOSITORY)


def test_a_token_may_call_only_what_its_scopes_allow(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        world.push_change("tune", {PARAMS: "SCALE = 0.6\n"})
        number = world.open_pull("tune")
        repo = client(world.fake.base_url, world.fake.issue_token({"pull-requests": "read"}))

        assert repo.get_pull(number).head.ref == "tune"
        with pytest.raises(GithubException) as refused:
            repo.get_issue(number).create_comment("hello")

        assert refused.value.status == 403
        assert refused.value.data["message"] == "Resource not accessible by integration"
        assert refused.value.headers["x-accepted-github-permissions"] == "issues=write; pull_requests=write"
        assert world.fake.comments_on(number) == []
        assert world.fake.violations == []


def test_git_fetch_needs_contents_read_and_push_contents_write(tmp_path: Path) -> None:
    with action_world(tmp_path) as world:
        url = f"{world.fake.base_url}/{REPOSITORY}.git"
        clone = tmp_path / "clone"
        git(tmp_path, "clone", "-q", str(world.bare), str(clone))
        reader = RemoteGit(clone, url, world.fake.issue_token({"contents": "read"}))
        writer = RemoteGit(clone, url, world.fake.issue_token({"contents": "write"}))
        nobody = RemoteGit(clone, url, world.fake.issue_token({"pull-requests": "write"}))

        assert reader.branch_sha("main") == world.remote_sha("main")
        with pytest.raises(GitHubError, match="403"):
            reader.push_branch("feature")
        with pytest.raises(GitHubError, match="403"):
            nobody.branch_sha("main")
        pushed = writer.push_branch("feature")

        assert world.remote_sha("feature") == pushed
        assert [(method, path.split("?")[0]) for _, method, path in world.fake.refused] == [
            ("git GET", f"/{REPOSITORY}.git/info/refs"),
            ("git GET", f"/{REPOSITORY}.git/info/refs"),
        ]


def test_a_pull_request_job_checks_out_the_merge_commit(tmp_path: Path) -> None:
    jobs = f"  look:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: {CHECKOUT}\n"
    with action_world(tmp_path) as world:
        head = world.push_change("tune", {PARAMS: "SCALE = 0.6\n"})
        number = world.open_pull("tune")
        world.push_change("main", {"NOTES.md": "a later commit on main\n"})  # the base moves on

        run = world.trigger_text(workflow("pull_request", jobs), "pull_request",
                                 world.fake.webhook_payload(number, "opened"))

        checkout = run["look"].checkout
        assert checkout is not None
        # depth 1 (the default) grafts the commit, so read its parents from the object itself
        parents = [line.split()[1] for line in git(checkout, "cat-file", "-p", "HEAD").splitlines()
                   if line.startswith("parent ")]
        assert parents == [world.remote_sha("main"), head]
        assert (checkout / "NOTES.md").exists() and "0.6" in (checkout / PARAMS).read_text()
        assert git(world.bare, "rev-parse", f"refs/pull/{number}/merge") == git(checkout, "rev-parse", "HEAD")


def test_an_issue_comment_job_checks_out_the_default_branch_shallow_unless_asked(tmp_path: Path) -> None:
    jobs = (f"  shallow:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: {CHECKOUT}\n"
            f"  full:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: {CHECKOUT}\n"
            "        with:\n          fetch-depth: 0\n")
    with action_world(tmp_path) as world:
        world.push_change("tune", {PARAMS: "SCALE = 0.6\n"})
        number = world.open_pull("tune")
        main = world.push_change("main", {"NOTES.md": "second commit\n"})

        run = world.trigger_text(workflow("issue_comment", jobs), "issue_comment",
                                 world.comment(number, "hello", "alice"))

        for name, commits in (("shallow", "1"), ("full", "2")):
            checkout = run[name].checkout
            assert checkout is not None
            assert git(checkout, "rev-parse", "HEAD") == main
            assert git(checkout, "rev-list", "--count", "HEAD") == commits


def test_each_job_gets_its_own_scopes_and_a_forks_pull_request_only_reads(tmp_path: Path) -> None:
    jobs = ("  reader:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n    steps: []\n"
            "  writer:\n    runs-on: ubuntu-latest\n    needs: reader\n    permissions:\n"
            "      contents: write\n      checks: write\n    steps: []\n")
    with action_world(tmp_path) as world:
        base = world.remote_sha("main")
        head = world.push_change("patch-1", {PARAMS: "SCALE = 0.6\n"}, ref="refs/pull/7/head")
        own = world.trigger_text(workflow("workflow_dispatch", jobs), "workflow_dispatch", {"inputs": {}})
        fork = world.trigger_text(workflow("pull_request", jobs), "pull_request", {
            "action": "opened", "number": 7, "pull_request": {
                "number": 7, "head": {"ref": "patch-1", "sha": head, "repo": {"full_name": "mallory/x"}},
                "base": {"ref": "main", "sha": base, "repo": {"full_name": REPOSITORY}}}})

        assert own["reader"].scopes == {"contents": "read"}
        assert own["writer"].scopes == {"contents": "write", "checks": "write"}
        assert own["reader"].token != own["writer"].token
        assert fork["writer"].scopes == {"contents": "read", "checks": "read"}


def test_permissions_follow_githubs_rules() -> None:
    assert scopes_of({}) == {}
    assert scopes_of(None) == {"contents": "read", "packages": "read"}
    assert scopes_of("read-all")["pull-requests"] == "read"
    with pytest.raises(ValueError, match="pull-request"):
        scopes_of({"pull-request": "write"})


def test_expressions_evaluate_as_on_github() -> None:
    contexts = {
        "github": {"event": {"action": "closed", "pull_request": {"head": {"ref": "growthhacker/x"}}}},
        "needs": {"receive": {"result": "success", "outputs": {"work": "iterate", "head-sha": "abc"}}},
        "inputs": {"iterations": ""},
    }

    assert evaluate("github.event.action != 'closed'", contexts) is False
    assert evaluate("startsWith(github.event.pull_request.head.ref, 'GrowthHacker/')", contexts) is True
    assert evaluate("needs.receive.outputs.work == 'iterate' && needs.receive.outputs['head-sha']",
                    contexts) == "abc"
    assert evaluate("inputs.iterations || '2'", contexts) == "2"
    assert render("run ${{ needs.receive.outputs.work }} now", contexts) == "run iterate now"
    two = "${{ github.event.action }}/x-${{ needs.receive.outputs.work }}"
    assert render(two, contexts) == "closed/x-iterate"
    assert evaluate("github.event.missing.deeper", contexts) is None
    failed = Status(success=False, failure=True)
    assert condition("needs.receive.outputs.work == 'iterate'", contexts, failed) is False
    assert condition("${{ !cancelled() && needs.receive.outputs.work == 'iterate' }}", contexts, failed)
    assert condition("always()", contexts, failed) is True


def test_paths_globs_match_as_on_github() -> None:
    assert glob_regex("pipeline/**/*.py").fullmatch("pipeline/params.py")
    assert glob_regex("pipeline/**/*.py").fullmatch("pipeline/a/b/params.py")
    assert not glob_regex("pipeline/*.py").fullmatch("pipeline/a/params.py")
    assert glob_regex(".growthhacker.yml").fullmatch(".growthhacker.yml")
    assert not glob_regex(".growthhacker.yml").fullmatch("xgrowthhacker.yml")
    assert glob_regex("data/**").fullmatch("data/logs/2024.csv")
