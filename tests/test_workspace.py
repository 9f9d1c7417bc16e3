"""Workspace: a private worktree per run; the user's checkout and branch are never touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import WorkspaceError
from bot.git import git
from bot.patch import PathPolicy
from bot.workspace import Workspace

POLICY = PathPolicy(editable=("src/**/*.py",), protected=("harness.py", ".growthhacker/**"))
FILES = {"src/model.py": "A = 1\n", "harness.py": "print('harness')\n", "README.md": "hi\n"}


def test_worktree_is_private_and_ignored(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(FILES)
    ws = Workspace.open(repo, "run1")
    (ws.root / "src" / "model.py").write_text("A = 2\n")

    assert ws.root.is_relative_to(repo / ".growthhacker")
    assert (repo / "src" / "model.py").read_text() == "A = 1\n"
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "branch", "--show-current").strip() == "main"


def test_editable_files_follow_the_policy(make_repo) -> None:  # type: ignore[no-untyped-def]
    ws = Workspace.open(make_repo(FILES), "run1")
    (ws.root / "src" / "new.py").write_text("B = 1\n")

    assert ws.editable_files(POLICY) == {"src/model.py": "A = 1\n", "src/new.py": "B = 1\n"}


def test_protected_paths_are_restored_before_evaluation(make_repo) -> None:  # type: ignore[no-untyped-def]
    ws = Workspace.open(make_repo(FILES), "run1")
    (ws.root / "harness.py").write_text("print('gamed')\n")
    (ws.root / ".growthhacker_fake.py").write_text("x\n")

    restored = ws.restore_protected(POLICY.protected)

    assert restored == ["harness.py"]
    assert (ws.root / "harness.py").read_text() == "print('harness')\n"


def test_deleted_protected_file_comes_back(make_repo) -> None:  # type: ignore[no-untyped-def]
    ws = Workspace.open(make_repo(FILES), "run1")
    (ws.root / "harness.py").unlink()

    assert ws.restore_protected(POLICY.protected) == ["harness.py"]
    assert (ws.root / "harness.py").is_file()


def test_tree_hash_tracks_content_and_reset_returns_to_base(make_repo) -> None:  # type: ignore[no-untyped-def]
    ws = Workspace.open(make_repo(FILES), "run1")
    base_tree = ws.tree_hash()
    (ws.root / "src" / "model.py").write_text("A = 2\n")
    changed_tree = ws.tree_hash()
    ws.reset()

    assert base_tree != changed_tree
    assert ws.tree_hash() == base_tree
    assert ws.diff_from_base() == ""


def test_commit_candidate_creates_a_branch_without_touching_the_checkout(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(FILES)
    ws = Workspace.open(repo, "run1")
    (ws.root / "src" / "model.py").write_text("A = 2\n")
    diff = ws.diff_from_base()

    sha = ws.commit_candidate("growthhacker/run1", diff, "growthhacker: A=2\n\nΔ -10%\n", POLICY)

    assert git(repo, "rev-parse", "growthhacker/run1").strip() == sha
    assert git(repo, "show", "growthhacker/run1:src/model.py") == "A = 2\n"
    assert "Δ -10%" in git(repo, "log", "-1", "--format=%B", "growthhacker/run1")
    assert (repo / "src" / "model.py").read_text() == "A = 1\n"
    assert (ws.root / "src" / "model.py").read_text() == "A = 1\n"


def test_reopening_for_resume_reuses_the_worktree(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(FILES)
    first = Workspace.open(repo, "run1")
    (first.root / "src" / "model.py").write_text("half-applied\n")

    second = Workspace.open(repo, "run1")

    assert second.root == first.root
    assert (second.root / "src" / "model.py").read_text() == "A = 1\n"


def test_not_a_repository_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="not a git repository"):
        Workspace.open(tmp_path, "run1")


def test_policy_of_a_subdirectory_project_is_prefixed(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo({f"proj/{path}": text for path, text in FILES.items()})
    from bot.config import EditConfig

    ws = Workspace.open(repo / "proj", "run1")
    policy = ws.policy(EditConfig(paths=["src/**/*.py"], protected=["harness.py"]))

    assert ws.subdir == "proj" and ws.project_root == ws.root / "proj"
    assert policy.allows("proj/src/model.py")
    assert not policy.allows("src/model.py")
    assert not policy.allows("proj/harness.py")
    assert not policy.allows(".github/workflows/ci.yml")
    assert not policy.allows("proj/.growthhacker.yml")


@pytest.mark.parametrize("run_id", ["../..", "..", "a/b", ".hidden", ""])
def test_a_run_id_that_is_not_a_plain_name_never_touches_the_checkout(make_repo, run_id: str) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(FILES)
    (repo / "src" / "model.py").write_text("my uncommitted work\n")

    with pytest.raises(WorkspaceError, match="cannot name a directory"):
        Workspace.open(repo, run_id)

    assert (repo / "src" / "model.py").read_text() == "my uncommitted work\n"
