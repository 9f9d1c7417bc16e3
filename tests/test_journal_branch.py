"""The journal branch: fetched into the local journal, merged as a union of lines, pushed without force,
and safe when two jobs publish at once (real git, a local bare remote)."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from bot.errors import GitHubError
from bot.github.git_remote import RemoteGit
from bot.github.journal_branch import JOURNAL_BRANCH, JournalBranch
from bot.journal import Journal, merge_lines

TOKEN = "ghs_journaltoken0123456789"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def record(n: int, writer: str = "a") -> str:
    return f'{{"kind": "outcome", "run_id": "{writer}-{n}"}}'


def branch_text(bare: Path) -> str:
    return git(bare, "show", f"{JOURNAL_BRANCH}:journal.jsonl")


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    path = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    return path


def writer(tmp_path: Path, bare: Path, name: str) -> tuple[JournalBranch, Journal]:
    """A fresh clone (as each Actions job has) with its journal branch and local journal."""
    repo = tmp_path / name
    repo.mkdir()
    git(repo, "init", "-q")
    branch = JournalBranch(RemoteGit(repo, str(bare), TOKEN), sleeper=lambda _: None)
    return branch, Journal(repo / ".growthhacker" / "journal.jsonl")


def write_journal(journal: Journal, *lines: str) -> None:
    journal.path.parent.mkdir(parents=True, exist_ok=True)
    journal.path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def append_line(journal: Journal, line: str) -> None:
    journal.path.parent.mkdir(parents=True, exist_ok=True)
    with journal.path.open("a", encoding="utf-8") as out:
        out.write(line + "\n")


def test_merge_keeps_the_first_order_then_adds_what_only_the_second_has() -> None:
    merged = merge_lines(["a", "b", "c"], ["b", "d", "", "a", "e", "d"])

    assert merged == ["a", "b", "c", "d", "e"]


def test_publishing_creates_the_branch_with_the_local_records(tmp_path: Path, bare: Path) -> None:
    branch, path = writer(tmp_path, bare, "a")
    write_journal(path, record(1), record(2))

    published = branch.publish(path)

    assert (published.added, published.attempts) == (2, 1)
    assert branch_text(bare) == f"{record(1)}\n{record(2)}\n"


def test_pulling_appends_the_branch_records_the_local_journal_lacks(tmp_path: Path, bare: Path) -> None:
    first, first_path = writer(tmp_path, bare, "a")
    write_journal(first_path, record(1), record(2))
    first.publish(first_path)
    second, second_path = writer(tmp_path, bare, "b")
    write_journal(second_path, record(9, "b"), record(2))

    added = second.pull_into(second_path)

    assert added == 1
    assert second_path.path.read_text().splitlines() == [record(9, "b"), record(2), record(1)]


def test_pulling_a_missing_branch_leaves_the_local_journal_alone(tmp_path: Path, bare: Path) -> None:
    branch, path = writer(tmp_path, bare, "a")

    added = branch.pull_into(path)

    assert added == 0 and not path.path.exists()


def test_a_torn_last_local_line_is_not_published(tmp_path: Path, bare: Path) -> None:
    branch, path = writer(tmp_path, bare, "a")
    path.path.parent.mkdir(parents=True)
    path.path.write_text(f"{record(1)}\n{{\"kind\": \"outc", encoding="utf-8")

    branch.publish(path)

    assert branch_text(bare) == f"{record(1)}\n"


def test_nothing_is_pushed_when_the_branch_has_every_local_record(tmp_path: Path, bare: Path) -> None:
    branch, path = writer(tmp_path, bare, "a")
    write_journal(path, record(1))
    first = branch.publish(path)

    again = branch.publish(path)

    assert (again.sha, again.added, again.attempts) == (first.sha, 0, 0)
    assert git(bare, "rev-list", "--count", JOURNAL_BRANCH).strip() == "1"


def test_a_stale_push_is_rejected_and_publishing_again_merges_both(tmp_path: Path, bare: Path) -> None:
    slow, slow_path = writer(tmp_path, bare, "slow")
    fast, fast_path = writer(tmp_path, bare, "fast")
    write_journal(slow_path, record(1, "slow"))
    write_journal(fast_path, record(1, "fast"))
    stale = slow.fetch()
    fast.publish(fast_path)

    landed = slow.remote.push(slow.commit(stale, [record(1, "slow")], "stale"), JOURNAL_BRANCH)
    published = slow.publish(slow_path)

    assert landed is False
    assert published.added == 1
    assert branch_text(bare).splitlines() == [record(1, "fast"), record(1, "slow")]


def test_two_jobs_publishing_at_once_both_land_without_force(tmp_path: Path, bare: Path) -> None:
    writers = [writer(tmp_path, bare, name) for name in ("a", "b")]
    start = threading.Barrier(len(writers))
    errors: list[BaseException] = []

    def job(index: int) -> None:
        branch, path = writers[index]
        try:
            for n in range(3):
                append_line(path, record(n, "ab"[index]))
                start.wait(timeout=30)
                branch.publish(path)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=job, args=(i,)) for i in range(len(writers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    lines = branch_text(bare).splitlines()
    assert sorted(lines) == sorted(record(n, w) for n in range(3) for w in "ab")
    parents = git(bare, "rev-list", "--parents", JOURNAL_BRANCH).splitlines()
    assert all(len(line.split()) <= 2 for line in parents)  # a straight line of commits: no merges
    for w in "ab":  # each writer's records keep their order
        mine = [line for line in lines if f'"{w}-' in line]
        assert mine == [record(n, w) for n in range(3)]


def test_a_branch_without_the_journal_file_is_reported(tmp_path: Path, bare: Path) -> None:
    branch, _ = writer(tmp_path, bare, "a")
    repo = branch.remote.repo
    (repo / "x.txt").write_text("not a journal\n")
    git(repo, "add", "x.txt")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "x")
    git(repo, "push", "-q", str(bare), f"HEAD:refs/heads/{JOURNAL_BRANCH}")

    with pytest.raises(GitHubError, match="reserved for the GrowthHacker journal"):
        branch.fetch()


def test_a_failing_remote_is_reported_without_the_token(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    branch = JournalBranch(RemoteGit(repo, str(tmp_path / "missing.git"), TOKEN))

    with pytest.raises(GitHubError) as raised:
        branch.fetch()

    assert "cannot read the branches" in str(raised.value) and TOKEN not in str(raised.value)
