"""The target repositories and how a run gets its own fresh copy of one.

Targets are the original repositories (``evals/targets/``) and the stranger set
(``evals/strangers/``: repositories of the test corpus with a benchmark configuration and larger
data). Run ``r`` of a target evaluates on the target's seeds shifted by ``r * SEED_STRIDE`` (run 0
uses the configured seeds as they are), so repeated runs are independent replicates, and the same run index
always means the same seeds: a benchmark is reproducible run by run.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from bot.config import CONFIG_FILE, load_config
from evals import CORPUS_DIR, STRANGERS_DIR, TARGETS_DIR
from evals.records import EvalsError

#: Seed offset between consecutive runs of one target (larger than any configured seed).
SEED_STRIDE = 1000
_COPY_IGNORE = shutil.ignore_patterns("__pycache__", ".growthhacker", ".ruff_cache", ".mypy_cache",
                                      "d3rlpy_logs", "metrics*.json")


def list_targets(root: Path = TARGETS_DIR) -> list[str]:
    """Names of the target repositories under ``root`` (directories with a config), sorted."""
    return sorted(p.name for p in root.iterdir() if (p / CONFIG_FILE).is_file())


def list_strangers(root: Path = STRANGERS_DIR) -> list[str]:
    """Names of the stranger set (``evals/strangers/``), sorted."""
    return list_targets(root)


def resolve_targets(text: str) -> list[str]:
    """The target names ``--targets`` means: comma-separated names, where ``all`` stands for the
    original targets and ``strangers`` for the stranger set (in that order, without duplicates)."""
    names: list[str] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        names += list_targets() if part == "all" else list_strangers() if part == "strangers" else [part]
    return list(dict.fromkeys(names))


def target_dir(name: str, root: Path = TARGETS_DIR) -> Path:
    """The directory holding target ``name``'s config: an original target, or a stranger's overlay.

    Raises:
        EvalsError: no such target.
    """
    for base in (root, STRANGERS_DIR):
        if (base / name / CONFIG_FILE).is_file():
            return base / name
    known = ", ".join([*list_targets(root), *list_strangers()]) or "(none)"
    raise EvalsError(f"unknown target {name!r}; known: {known}")


def layers(target: Path) -> list[Path]:
    """The directories a copy of ``target`` is made of, bottom first: a stranger's corpus repository
    under its overlay (benchmark config and larger-variant files), or the target alone."""
    if target.parent.resolve() == STRANGERS_DIR.resolve():
        corpus = CORPUS_DIR / target.name
        if not corpus.is_dir():
            raise EvalsError(f"stranger {target.name!r} has no corpus repository {corpus}")
        return [corpus, target]
    return [target]


#: Audit seeds start here (plus the run's offset): above every tier a target configures.
AUDIT_START = 500


def run_seeds(target: Path, run: int, search: int | None = None, confirm: int | None = None,
              validate: int | None = None) -> tuple[list[int], list[int], list[int]]:
    """The (search, held-out, validation) seeds of run ``run``: the target's first ``search``/
    ``confirm``/``validate`` seeds (all when None; ``validate`` 0 switches the tier off), shifted by
    ``run * SEED_STRIDE``.

    Raises:
        ConfigError: the target's config is invalid.
        EvalsError: a count is out of range (search and held-out need at least one seed) or above
            what the target configures.
    """
    seeds = load_config(target).evaluate.seeds
    chosen = []
    for name, configured, count, least in (("search", seeds.search, search, 1),
                                           ("held-out", seeds.confirm, confirm, 1),
                                           ("validation", seeds.validation, validate, 0)):
        n = len(configured) if count is None else count
        if not least <= n <= len(configured):
            raise EvalsError(f"{target.name} configures {len(configured)} {name} seeds; asked for {n}")
        chosen.append([s + run * SEED_STRIDE for s in configured[:n]])
    return chosen[0], chosen[1], chosen[2]


def audit_seeds(run: int, count: int) -> list[int]:
    """``count`` fresh seeds for auditing run ``run`` (in no tier of any target's config)."""
    return [run * SEED_STRIDE + AUDIT_START + i for i in range(count)]


def prepare_repo(target: Path, dest: Path, search: list[int], confirm: list[int],
                 validate: list[int] | None = None, agent_timeout_s: float | None = None) -> Path:
    """Copy ``target`` (with the layers it is made of, :func:`layers`) to ``dest`` (replaced if
    present) as a fresh one-commit git repository whose config evaluates on ``search``/``confirm``
    (and ``validate``: None keeps the target's setting; and gives each agent call ``agent_timeout_s``
    seconds, when set); returns ``dest``.

    Raises:
        EvalsError: git failed.
    """
    if dest.exists():
        shutil.rmtree(dest)
    for layer in layers(target):
        shutil.copytree(layer, dest, ignore=_COPY_IGNORE, dirs_exist_ok=True)
    config_path = dest / CONFIG_FILE
    data: dict[str, Any] = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    configured = data["evaluate"].get("seeds", {})
    wanted = {"search": search, "confirm": confirm}
    if validate is not None:
        wanted["validate"] = validate
    changed = any(configured.get(key) != value for key, value in wanted.items())
    data["evaluate"]["seeds"] = {**configured, **wanted}
    if agent_timeout_s is not None:
        data.setdefault("loop", {})["agent_timeout_s"] = agent_timeout_s
        changed = True
    if changed:
        header = f"# {target.name} for one benchmark run: seeds (and agent timeout) set by evals/targets.py\n"
        config_path.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    _git(dest, "init", "-q", "-b", "main")
    _git(dest, "add", "-A")
    _git(dest, "-c", "user.name=growthhacker-evals", "-c", "user.email=evals@example.invalid",
         "-c", "commit.gpgsign=false", "commit", "-q", "-m", f"{target.name}: OPE pipeline baseline")
    return dest


def _git(repo: Path, *args: str) -> None:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise EvalsError(f"git {' '.join(args[:2])} failed in {repo}: {proc.stderr.strip()}")
