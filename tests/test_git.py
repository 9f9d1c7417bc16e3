"""The one git helper and the one remote: bytes kept exact, one reading of a refused push, no token
in any message (real git, local bare remotes)."""

from __future__ import annotations

import socket
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.errors import GitHubError, WorkspaceError
from bot.git import git, git_bytes, push_rejections, run_git
from bot.github.git_remote import RemoteGit
from bot.github.journal_branch import JOURNAL_BRANCH, JournalBranch
from bot.journal import Journal
from bot.patch import PathPolicy
from bot.workspace import Workspace
from tests.helpers.repos import git_repo

TOKEN = "ghs_gitmoduletoken0123456789"
CRLF = "line one\r\nline two\r\nline three\r\n"
POLICY = PathPolicy(editable=("*.txt",), protected=())


# ---- bytes in, bytes out ----------------------------------------------------------------------
def test_the_diff_of_a_crlf_file_is_byte_exact_and_applies_back(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {"notes.txt": CRLF})
    workspace = Workspace.open(repo, "run1")
    changed = CRLF.replace("line two\r\n", "line 2\r\n").encode()
    (workspace.root / "notes.txt").write_bytes(changed)

    diff = workspace.diff_from_base()
    workspace.reset()
    git_bytes(workspace.root, "apply", "-", input=diff.encode("utf-8"))

    assert "-line two\r\n+line 2\r\n" in diff
    assert (workspace.root / "notes.txt").read_bytes() == changed


def test_any_bytes_go_into_a_blob_and_come_back_unchanged(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {"a.txt": "a\n"})
    data = b"\x00\xff\xfe crlf\r\n lone cr\r not utf-8 \xc3\x28 end"

    blob = git(repo, "hash-object", "-w", "--stdin", input=data).strip()

    assert git_bytes(repo, "cat-file", "blob", blob) == data


def test_a_failing_git_is_a_workspace_error_with_its_stderr(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {"a.txt": "a\n"})

    with pytest.raises(WorkspaceError, match=r"git rev-parse --verify nope failed in .*: fatal: Needed"):
        git(repo, "rev-parse", "--verify", "nope")
    assert not run_git(repo, "rev-parse", "--verify", "nope").ok


# ---- one reading of a refused push -------------------------------------------------------------
@pytest.fixture
def race(tmp_path: Path) -> tuple[RemoteGit, str, Path]:
    """A bare remote where someone else pushed first: the remote object of the late pusher, the commit
    it wants to push (built on the old head) and the remote."""
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    first = git_repo(tmp_path / "first", {"a.txt": "a\n"})
    git(first, "push", "-q", str(bare), f"HEAD:refs/heads/{JOURNAL_BRANCH}")
    late = tmp_path / "late"
    git(tmp_path, "clone", "-q", "-b", JOURNAL_BRANCH, str(bare), str(late))
    commit(first, "b.txt", "someone else\n")
    git(first, "push", "-q", str(bare), f"HEAD:refs/heads/{JOURNAL_BRANCH}")
    return RemoteGit(late, str(bare), TOKEN), commit(late, "c.txt", "late\n"), bare


def commit(repo: Path, name: str, text: str) -> str:
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", name)
    return git(repo, "rev-parse", "HEAD").strip()


def test_porcelain_marks_the_refused_ref(race: tuple[RemoteGit, str, Path]) -> None:
    remote, sha, bare = race

    result = run_git(remote.repo, "push", "--porcelain", str(bare), f"{sha}:refs/heads/{JOURNAL_BRANCH}")

    assert not result.ok
    assert push_rejections(result.stdout) == [f"refs/heads/{JOURNAL_BRANCH}: [rejected] (fetch first)"]
    assert push_rejections(b"To remote\n=\trefs/heads/x:refs/heads/x\t[up to date]\nDone\n") == []


def test_every_push_reads_a_refusal_the_same_way(race: tuple[RemoteGit, str, Path]) -> None:
    remote, sha, bare = race
    before = git(bare, "rev-parse", JOURNAL_BRANCH)

    landed = remote.push(sha, JOURNAL_BRANCH)  # the journal branch's push
    refusal = r"rejected \(refs/heads/\S+: \[rejected\] \(fetch first\)\).*never force"
    with pytest.raises(GitHubError, match=refusal):
        remote.push_branch(JOURNAL_BRANCH, source=sha)  # a pull request branch's push

    assert landed is False
    assert git(bare, "rev-parse", JOURNAL_BRANCH) == before


def test_a_branch_the_remote_refuses_is_reported_as_protected(tmp_path: Path) -> None:
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected branch' >&2\nexit 1\n")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    repo = git_repo(tmp_path / "repo", {"a.txt": "a\n"})
    journal = repo / ".growthhacker" / "journal.jsonl"
    journal.parent.mkdir()
    journal.write_text('{"kind": "outcome"}\n')
    remote = RemoteGit(repo, str(bare), TOKEN)

    with pytest.raises(GitHubError, match=r"\[remote rejected\]"):
        remote.push_branch("growthhacker/x")
    with pytest.raises(GitHubError, match="refused although nobody else wrote to it"):
        JournalBranch(remote, sleeper=lambda _: None).publish(Journal(journal))


# ---- the token in no message -------------------------------------------------------------------
@pytest.fixture
def silent_server() -> Iterator[str]:
    """An HTTP address that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield f"http://127.0.0.1:{server.getsockname()[1]}/acme/target.git"


OPERATIONS: dict[str, Callable[[RemoteGit], object]] = {
    "ls-remote": lambda remote: remote.branch_sha("main"),
    "fetch branch": lambda remote: remote.fetch_branch("main"),
    "fetch ref": lambda remote: remote.fetch_ref("refs/pull/7/head", "refs/growthhacker-fetched/pull/7"),
    "push": lambda remote: remote.push_branch("growthhacker/x"),
}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_an_unreachable_remote_is_reported_without_the_token(tmp_path: Path, operation: str) -> None:
    repo = git_repo(tmp_path / "repo", {"a.txt": "a\n"})
    url = f"http://x-access-token:{TOKEN}@127.0.0.1:9/acme/target.git"  # nothing listens on port 9

    with pytest.raises(GitHubError) as caught:
        OPERATIONS[operation](RemoteGit(repo, url, TOKEN))

    assert TOKEN not in str(caught.value) and "127.0.0.1:9" in str(caught.value)


def test_a_hanging_remote_is_killed_at_the_timeout_and_named_without_the_token(
    tmp_path: Path, silent_server: str
) -> None:
    repo = git_repo(tmp_path / "repo", {"a.txt": "a\n"})
    url = silent_server.replace("http://", f"http://x-access-token:{TOKEN}@")

    with pytest.raises(GitHubError, match="timed out after 1s") as caught:
        RemoteGit(repo, url, TOKEN, timeout_s=1).branch_sha("main")

    assert TOKEN not in str(caught.value)
