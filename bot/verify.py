"""``growthhacker verify``: evaluate two commits on the search seeds in the same job, one after the other.

No agent is built and nothing secret reaches the evaluation: the evaluator runs the repository's own
command with an allow-listed environment. Both commits are evaluated in private worktrees on the same
machine, so a wall-time guardrail compares like with like. Only the base is trusted: the caller passes
the config committed at the base (:func:`bot.workspace.config_at`), and the head is measured with the
base's harness: protected paths (``edit.protected``, the evaluation script, the config) that the head
changes are put back to their base version first. The GitHub pull-request check
(:mod:`bot.github.action.pull_check`) is built on :func:`evaluate_refs`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.config import CONFIG_FILE, Config
from bot.errors import ConfigError
from bot.evaluate import Evaluator
from bot.git import git
from bot.patch import glob_match
from bot.results import EvalResult
from bot.stats import compare
from bot.workspace import Workspace, config_at, project_dir, state_dir


@dataclass(frozen=True)
class Verification:
    """Base and head evaluated on the same seeds in the same job."""

    base_sha: str
    head_sha: str
    base: EvalResult
    head: EvalResult
    #: Protected paths the head changed that were evaluated at their base version.
    restored: tuple[str, ...] = ()

    def improvement(self, config: Config) -> float:
        """Relative change of the objective mean, positive = better (NaN if not comparable)."""
        objective = config.evaluate.objective
        return compare(self.base, self.head, objective.metric, objective.goal).improvement


def evaluate_refs(
    repo: Path, config: Config, base_ref: str, head_ref: str, *, environ: Mapping[str, str]
) -> Verification:
    """Evaluate ``base_ref`` and then ``head_ref`` of ``repo`` on the search seeds, with ``config``
    (the base's: see the module docstring).

    ``environ`` is the environment the evaluator starts from (it keeps only allow-listed names).
    Evaluation failures are failed seeds in the results, not exceptions.

    Raises:
        WorkspaceError: ``repo`` is not a git repository, or a ref does not name a commit.
        EvaluationError: the evaluation command cannot run at all.
    """
    root = project_dir(repo)
    state = state_dir(root)
    evaluator = Evaluator(config.evaluate, state / "cache", environ=environ)
    label = f"verify-{secrets.token_hex(3)}"
    seeds = config.evaluate.seeds.search
    results: dict[str, EvalResult] = {}
    shas: dict[str, str] = {}
    restored: list[str] = []
    for side, ref in (("base", base_ref), ("head", head_ref)):
        workspace = Workspace.open(root, f"{label}-{side}", ref)
        try:
            if side == "head":
                restored = _harness_from(workspace, shas["base"], workspace.policy(config.edit).protected)
            shas[side] = workspace.base
            tree = workspace.tree_hash()
            results[side] = evaluator.evaluate(workspace.project_root, tree, seeds,
                                               state / "verify" / label / side)
        finally:
            workspace.remove()
    return Verification(
        base_sha=shas["base"],
        head_sha=shas["head"],
        base=results["base"],
        head=results["head"],
        restored=tuple(restored),
    )


def base_config(project: Path, base_ref: str, path: Path | None = None) -> Config:
    """The config committed at ``base_ref`` (see :func:`bot.workspace.config_at`).

    Raises:
        ConfigError: ``base_ref`` has no config at that path, or it is invalid.
        WorkspaceError: ``base_ref`` is not a commit.
    """
    config = config_at(project, base_ref, path)
    if config is None:
        raise ConfigError(f"{base_ref} has no {CONFIG_FILE}: verify measures with the config committed at "
                          "the base; commit it there first (or pass --base)")
    return config


def _harness_from(workspace: Workspace, base_sha: str, protected: tuple[str, ...]) -> list[str]:
    """Put protected paths the worktree changed relative to ``base_sha`` back to their base version."""
    changed = git(workspace.root, "diff", "--name-only", "--no-renames", "-z", base_sha, workspace.base)
    restored = []
    for path in (p for p in changed.split("\0") if p):
        if not any(glob_match(pattern, path) for pattern in protected):
            continue
        if _exists(workspace.root, base_sha, path):
            git(workspace.root, "checkout", "-q", base_sha, "--", path)
        else:
            (workspace.root / path).unlink(missing_ok=True)
        restored.append(path)
    return restored


def _exists(root: Path, sha: str, path: str) -> bool:
    listed = git(root, "ls-tree", "--name-only", sha, "--", path)
    return bool(listed.strip())
