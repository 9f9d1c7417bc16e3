"""Git operations on the target repository: a private worktree per run, never the user's checkout.

Layout inside the target repo (all git-ignored by ``.growthhacker/.gitignore``)::

    .growthhacker/journal.jsonl        the experiment journal
    .growthhacker/worktrees/<run-id>/  the worktree candidates are applied and evaluated in
    .growthhacker/runs/<run-id>/       iteration files, report.md, plot.png
    .growthhacker/cache/               evaluation cache
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.config import CONFIG_FILE, Config, EditConfig, parse_config
from bot.errors import ConfigError, WorkspaceError
from bot.git import git, run_git
from bot.patch import AppliedPatch, PathPolicy, apply_patch, glob_match
from bot.process import stop_processes_in

STATE_DIR = ".growthhacker"
#: Editable files larger than this are not shown to agents (they are data, not pipeline code).
MAX_FILE_BYTES = 200_000
#: The read-only files agents get: code and configuration, at most this many.
READONLY_SUFFIXES = (".py", ".yaml", ".yml", ".json", ".toml", ".ini", ".cfg")
MAX_READONLY_FILES = 200
#: The author of every commit the bot makes (undo finds the bot's commits by this email).
BOT_NAME = "growthhacker[bot]"
BOT_EMAIL = "growthhacker@users.noreply.github.com"
BOT_IDENTITY = ("-c", f"user.name={BOT_NAME}", "-c", f"user.email={BOT_EMAIL}")
_CANDIDATE_TAG = re.compile(r"\(run (?P<run>[A-Za-z0-9._-]+), iteration (?P<it>\d+)\)")
#: A run id names directories (worktrees/<run-id>, runs/<run-id>): one plain path component.
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def check_run_id(run_id: str) -> str:
    """``run_id`` itself, once it is known to be one plain path component (it names directories).

    Raises:
        WorkspaceError: it is empty, has a ``/``, starts with ``.`` or holds other characters than
            letters, digits, ``.``, ``_`` and ``-`` (a journal could hold ``../..``).
    """
    if not _RUN_ID.fullmatch(run_id):
        raise WorkspaceError(f"run id {run_id!r} cannot name a directory: it must be letters, digits, "
                             "'.', '_' and '-', starting with a letter or digit")
    return run_id


def candidate_tag(run_id: str, iteration: int) -> str:
    """The ``(run <id>, iteration <n>)`` tag a candidate commit message ends with."""
    return f"(run {run_id}, iteration {iteration})"


def candidate_message(
    hypothesis: str, metric: str, improvement: float, seeds: Sequence[int], run_id: str, iteration: int
) -> str:
    """The commit message of a winning candidate: hypothesis, held-out delta, and its tag last."""
    return (
        f"growthhacker: {hypothesis[:60]}\n\nHypothesis: {hypothesis}\n"
        f"{metric}: {improvement:+.1%} on held-out seeds {list(seeds)} {candidate_tag(run_id, iteration)}\n"
    )


def parse_candidate_tag(message: str) -> tuple[str, int] | None:
    """The (run id, iteration) of a candidate commit message, or None.

    The last tag counts: the loop writes it after the hypothesis, which is agent text and could
    imitate it.
    """
    found = list(_CANDIDATE_TAG.finditer(message))
    return (found[-1]["run"], int(found[-1]["it"])) if found else None


def repo_root(path: Path) -> Path:
    """The top-level directory of the git repository containing ``path``.

    Raises:
        WorkspaceError: ``path`` is not inside a git repository with at least one commit.
    """
    if not path.exists():
        raise WorkspaceError(f"{path} does not exist")
    top = run_git(path, "rev-parse", "--show-toplevel")
    if not top.ok:
        raise WorkspaceError(f"{path} is not a git repository: run `git init` and commit your code first")
    root = Path(top.text().strip())
    if not run_git(root, "rev-parse", "--verify", "-q", "HEAD").ok:
        raise WorkspaceError(f"{root} has no commits yet: commit your code first")
    return root


def project_dir(path: Path) -> Path:
    """The project ``path`` belongs to: the nearest directory from ``path`` up to the repository
    root that holds a ``.growthhacker.yml``, else the repository root.

    Raises:
        WorkspaceError: ``path`` is not inside a git repository with a commit.
    """
    top = repo_root(path)
    here = path.resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_FILE).is_file():
            return candidate
        if candidate == top:
            break
    return top


def config_at(project: Path, commit: str, path: Path | None = None) -> Config | None:
    """The config as committed at ``commit``, read through git, never from the checkout; None if
    ``commit`` has no config file at that path.

    ``path`` is the config file (default: ``project/.growthhacker.yml``; relative paths are relative
    to the current directory, as for :func:`bot.config.load_config`); it must lie inside the
    repository. A pull request's checkout is its own code: its copy of the config (or of the
    harness) decides nothing; the base commit's does.

    Raises:
        ConfigError: the file is outside the repository, or invalid at ``commit``.
        WorkspaceError: ``project`` is not in a git repository, or ``commit`` is not a commit in it.
    """
    top = repo_root(project)
    file = (path if path is not None else project / CONFIG_FILE).resolve()
    if not file.is_relative_to(top):
        raise ConfigError(f"the config {file} is outside the repository {top}: name a committed file")
    relative = file.relative_to(top).as_posix()
    sha = git(top, "rev-parse", "--verify", f"{commit}^{{commit}}").strip()
    shown = run_git(top, "cat-file", "blob", f"{sha}:{relative}")
    if not shown.ok:
        return None
    return parse_config(shown.stdout.decode("utf-8", "replace"), source=f"{relative} at {sha[:12]}")


def state_dir(repo: Path) -> Path:
    """The bot's private directory in ``repo``, created and git-ignored."""
    state = repo / STATE_DIR
    state.mkdir(exist_ok=True)
    ignore = state / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# GrowthHacker's private state; never committed.\n*\n", encoding="utf-8")
    return state


@dataclass
class Workspace:
    """A detached worktree of ``repo`` at ``base`` where candidates are applied and evaluated.

    ``subdir`` is the project's directory inside the repository ("" when the project is the whole
    repository); paths in diffs are relative to the repository root, the evaluation runs in
    :attr:`project_root`.
    """

    repo: Path
    root: Path
    base: str
    subdir: str = ""

    @classmethod
    def open(cls, project: Path, run_id: str, base_ref: str = "HEAD") -> Workspace:
        """Create (or reuse, when resuming) the worktree for ``run_id`` at ``base_ref``.

        ``project`` is the repository root or a project directory inside it; the worktree lives in
        the project's ``.growthhacker/worktrees/``. Reusing a worktree first kills the processes a
        killed run left working in it (see :func:`bot.process.stop_processes_in`).

        Raises:
            WorkspaceError: not a git repo, ``base_ref`` does not name a commit, or ``run_id`` is not
                a plain name (it comes from the journal on resume).
        """
        # The worktree is reset and cleaned when reused: a run id such as "../.." must never make
        # that the user's checkout.
        check_run_id(run_id)
        repo = repo_root(project)
        subdir = project.resolve().relative_to(repo).as_posix()
        base = git(repo, "rev-parse", "--verify", f"{base_ref}^{{commit}}").strip()
        root = state_dir(project.resolve()) / "worktrees" / run_id
        if not (root / ".git").exists():
            git(repo, "worktree", "prune")
            git(repo, "worktree", "add", "--detach", "-q", str(root), base)
        else:
            # Reused after a crash: an evaluation the dead run started may still be writing here.
            stop_processes_in(root)
        workspace = cls(repo=repo, root=root, base=base, subdir="" if subdir == "." else subdir)
        workspace.reset()
        return workspace

    @staticmethod
    def resolve(project: Path, ref: str) -> str:
        """The commit id ``ref`` names in the repository of ``project`` (what shards of one run share).

        Raises:
            WorkspaceError: not a git repository, or ``ref`` names no commit.
        """
        return git(repo_root(project), "rev-parse", "--verify", f"{ref}^{{commit}}").strip()

    @property
    def project_root(self) -> Path:
        """The project directory inside the worktree (where the eval command runs)."""
        return self.root / self.subdir if self.subdir else self.root

    def policy(self, edit: EditConfig) -> PathPolicy:
        """The path policy of ``edit`` for this project, as repository-relative globs."""
        return PathPolicy.from_config(edit, prefix=self.subdir)

    def reset(self) -> None:
        """Return the worktree to exactly the base commit (untracked files removed)."""
        git(self.root, "reset", "-q", "--hard", self.base)
        git(self.root, "clean", "-q", "-fd")

    def apply(self, diff: str, policy: PathPolicy) -> AppliedPatch:
        """Apply ``diff`` to the worktree through the patch engine (raises PatchError)."""
        return apply_patch(diff, self.root, policy)

    def editable_files(self, policy: PathPolicy) -> dict[str, str]:
        """Current text of every file the policy lets agents edit (tracked or new), sorted by path."""
        return self._texts(lambda path: policy.allows(path))

    def readonly_files(self, policy: PathPolicy) -> dict[str, str]:
        """Current text of the project's other Python and configuration files (the harness, its
        settings): what agents may read but not change. At most :data:`MAX_READONLY_FILES` files of
        :data:`MAX_FILE_BYTES` each, sorted by path."""
        prefix = f"{self.subdir}/" if self.subdir else ""

        def wanted(path: str) -> bool:
            inside = path.startswith(prefix) and not path[len(prefix):].startswith(f"{STATE_DIR}/")
            return inside and path.endswith(READONLY_SUFFIXES) and not policy.allows(path)

        return dict(list(self._texts(wanted).items())[:MAX_READONLY_FILES])

    def _texts(self, wanted: Callable[[str], bool]) -> dict[str, str]:
        listed = git(self.root, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
        files: dict[str, str] = {}
        for path in sorted(p for p in listed.split("\0") if p):
            full = self.root / path
            if not wanted(path) or full.is_symlink() or not full.is_file():
                continue
            if full.stat().st_size > MAX_FILE_BYTES:
                continue
            try:
                files[path] = full.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
        return files

    def restore_protected(self, protected: tuple[str, ...]) -> list[str]:
        """Put every protected path back to its base content; returns the paths that were changed.

        Called before each evaluation, so nothing (a diff, or an earlier eval that rewrote the
        harness at run time) can make the harness differ from the base commit.
        """
        changed = git(self.root, "status", "--porcelain", "-z", "--untracked-files=all")
        restored: list[str] = []
        for entry in (e for e in changed.split("\0") if e):
            path = entry[3:]
            if not any(glob_match(g, path) for g in protected):
                continue
            if entry.startswith("??"):
                (self.root / path).unlink()
            else:
                git(self.root, "checkout", "-q", self.base, "--", path)
            restored.append(path)
        return restored

    def tree_hash(self) -> str:
        """The git tree id of the worktree's current content (the evaluation cache key)."""
        git(self.root, "add", "-A")
        tree = git(self.root, "write-tree").strip()
        git(self.root, "reset", "-q")
        return tree

    def diff_from_base(self) -> str:
        """The worktree's changes against the base commit as one unified diff ("" if none)."""
        git(self.root, "add", "-A")
        out = git(self.root, "diff", "--cached", "--no-color", "--no-renames", "--no-ext-diff", self.base)
        git(self.root, "reset", "-q")
        return out

    def commit_candidate(self, branch: str, diff: str, message: str, policy: PathPolicy) -> str:
        """Commit ``diff`` on top of base as ``branch`` (created or moved); returns the commit sha.

        The user's checkout and current branch are untouched: the commit is made in the worktree.
        """
        self.reset()
        self.apply(diff, policy)
        git(self.root, "add", "-A")
        git(self.root, *BOT_IDENTITY, "commit", "-q", "--no-verify", "-F", "-", input=message.encode("utf-8"))
        sha = git(self.root, "rev-parse", "HEAD").strip()
        git(self.repo, "branch", "-f", branch, sha)
        self.reset()
        return sha

    def remove(self) -> None:
        """Delete the worktree (its branch commits stay in the repository)."""
        git(self.repo, "worktree", "remove", "--force", str(self.root), check=False)
        git(self.repo, "worktree", "prune", check=False)
