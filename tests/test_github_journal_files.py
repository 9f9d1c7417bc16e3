"""Files on the journal branch (the plot of every proposing run): stored byte for byte, kept by every
later push, pushed with the same never-forcing, retrying logic as the records (real git, a bare remote)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.errors import GitHubError
from bot.github.git_remote import RemoteGit
from bot.github.journal_branch import JOURNAL_BRANCH, JournalBranch, file_url, plot_path
from bot.journal import Journal

TOKEN = "ghs_journaltoken0123456789"
#: Not text in any encoding: a PNG signature (with CRLF and ^Z), NUL, 0xFF, a lone LF and CR.
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) + b"\xff\n\r\x00"


def git_bytes(cwd: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True).stdout


def record(n: int, writer: str = "a") -> str:
    return f'{{"kind": "outcome", "run_id": "{writer}-{n}"}}'


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    path = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    return path


def writer(tmp_path: Path, bare: Path, name: str, *lines: str) -> tuple[JournalBranch, Journal]:
    """A fresh clone with its journal branch and a local journal holding ``lines``."""
    repo = tmp_path / name
    repo.mkdir()
    git_bytes(repo, "init", "-q")
    path = repo / ".growthhacker" / "journal.jsonl"
    path.parent.mkdir()
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return JournalBranch(RemoteGit(repo, str(bare), TOKEN), sleeper=lambda _: None), Journal(path)


def on_branch(bare: Path, path: str) -> bytes:
    return git_bytes(bare, "cat-file", "blob", f"{JOURNAL_BRANCH}:{path}")


def test_a_file_is_stored_on_the_branch_byte_for_byte(tmp_path: Path, bare: Path) -> None:
    branch, path = writer(tmp_path, bare, "a", record(1))

    published = branch.publish(path, files={plot_path("run-1"): PNG})

    assert (published.added, published.attached) == (1, 1)
    assert on_branch(bare, "plots/run-1.png") == PNG
    assert on_branch(bare, "journal.jsonl").decode() == record(1) + "\n"


def test_later_pushes_keep_the_files_already_on_the_branch(tmp_path: Path, bare: Path) -> None:
    first, first_path = writer(tmp_path, bare, "a", record(1))
    first.publish(first_path, files={plot_path("run-1"): PNG})
    second, second_path = writer(tmp_path, bare, "b", record(2, "b"))

    second.publish(second_path, files={plot_path("run-2"): b"second plot"})

    assert on_branch(bare, "plots/run-1.png") == PNG
    assert on_branch(bare, "plots/run-2.png") == b"second plot"
    assert on_branch(bare, "journal.jsonl").decode().splitlines() == [record(1), record(2, "b")]


def test_a_file_the_branch_already_holds_is_not_pushed_again(tmp_path: Path, bare: Path) -> None:
    branch, path = writer(tmp_path, bare, "a", record(1))
    first = branch.publish(path, files={plot_path("run-1"): PNG})

    again = branch.publish(path, files={plot_path("run-1"): PNG})

    assert (again.sha, again.added, again.attached, again.attempts) == (first.sha, 0, 0, 0)


def test_a_file_attached_in_a_lost_race_lands_with_the_winners_records(tmp_path: Path, bare: Path) -> None:
    slow, slow_path = writer(tmp_path, bare, "slow", record(1, "slow"))
    fast, fast_path = writer(tmp_path, bare, "fast", record(1, "fast"))
    stale = slow.fetch()
    fast.publish(fast_path, files={plot_path("fast"): b"fast plot"})

    landed = slow.remote.push(slow.commit(stale, [record(1, "slow")], "stale", {plot_path("slow"): PNG}),
                              JOURNAL_BRANCH)
    published = slow.publish(slow_path, files={plot_path("slow"): PNG})

    assert landed is False
    assert (published.added, published.attached) == (1, 1)
    assert on_branch(bare, "plots/fast.png") == b"fast plot" and on_branch(bare, "plots/slow.png") == PNG
    assert on_branch(bare, "journal.jsonl").decode().splitlines() == [record(1, "fast"), record(1, "slow")]


def test_the_snapshot_lists_the_files_on_the_branch(tmp_path: Path, bare: Path) -> None:
    branch, path = writer(tmp_path, bare, "a", record(1))
    branch.publish(path, files={plot_path("run-1"): PNG})

    assert branch.fetch().files == {"journal.jsonl", "plots/run-1.png"}


REFUSED = ["../x.png", "/plots/x.png", "plots/../x.png", ".hidden", "plots/", "journal.jsonl"]


@pytest.mark.parametrize("path", REFUSED)
def test_only_plain_relative_paths_other_than_the_journal_are_stored(
    tmp_path: Path, bare: Path, path: str
) -> None:
    branch, journal = writer(tmp_path, bare, "a", record(1))

    with pytest.raises(GitHubError, match="cannot store"):
        branch.publish(journal, files={path: PNG})
    assert branch.remote.branch_sha(JOURNAL_BRANCH) is None


def test_the_file_url_serves_the_raw_file_of_the_journal_branch() -> None:
    url = file_url("https://github.com/", "acme/ope", plot_path("20261125-abc"))

    assert url == "https://github.com/acme/ope/blob/growthhacker/journal/plots/20261125-abc.png?raw=true"
