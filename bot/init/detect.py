"""The `.growthhacker.yml` that ``growthhacker init`` proposes, detected from the repository.

Detection reads the repository's files, never runs them:

- the evaluation script: ``evaluate*.py`` / ``eval*.py`` (shallowest first), preferring one that takes
  ``--seed``; the flag it writes metrics to (``--out``, ``--output``, ``--metrics`` …) is looked up in
  its text;
- the editable paths: the packages (top-level directories) whose modules import ``obp`` or
  ``scope_rl``, tests and the evaluation script excluded; else every top-level package;
- the base branch: the branch currently checked out.

The objective defaults to ``relative_ee`` (minimize) with a comment to adjust it. The config is
validated with :func:`bot.config.parse_config` before anything is written; existing files are only
overwritten with ``force``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from bot.errors import WorkspaceError
from bot.git import run_git

_SKIP_DIRS = frozenset({"node_modules", "__pycache__", "build", "dist", "site-packages", "venv", "env"})
_TEST_DIRS = frozenset({"test", "tests", "testing"})
_MAX_DEPTH = 4
_OPE_IMPORT = re.compile(r"^\s*(?:from|import)\s+(?:obp|scope_rl)\b", re.MULTILINE)
_OUT_FLAG = re.compile(
    r"""["'](--(?:out|output|metrics|json|results?)(?:[-_](?:path|file|json))?)["']"""
)


@dataclass(frozen=True)
class Detected:
    """What init found in the repository, and notes on what it had to guess."""

    command: str
    editable: list[str]
    protected: list[str]
    base: str
    guardrails: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _python_files(repo: Path) -> list[str]:
    """Repo-relative POSIX paths of Python files, shallowest first, skipping envs, hidden and build dirs."""
    found: list[str] = []
    for current, dirs, files in os.walk(repo):
        rel = Path(current).relative_to(repo)
        depth = len(rel.parts)
        dirs[:] = sorted(
            d for d in dirs
            if not d.startswith(".") and d not in _SKIP_DIRS and depth < _MAX_DEPTH
            and not (Path(current) / d / "pyvenv.cfg").exists()
        )
        found += [(rel / name).as_posix() for name in sorted(files) if name.endswith(".py")]
    return sorted(found, key=lambda p: (p.count("/"), p))


def _read(repo: Path, path: str) -> str:
    try:
        return (repo / path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _is_test(path: str) -> bool:
    pure = PurePosixPath(path)
    in_tests = bool(_TEST_DIRS & set(pure.parts[:-1]))
    return in_tests or pure.name.startswith("test_") or pure.name == "conftest.py"


def _eval_script(repo: Path, files: list[str]) -> tuple[str | None, str]:
    scripts = [p for p in files if PurePosixPath(p).name.startswith("eval") and not _is_test(p)]
    with_seed = [p for p in scripts if "--seed" in _read(repo, p)]
    ranked = with_seed or scripts
    if not ranked:
        return None, ""
    return ranked[0], _read(repo, ranked[0])


def _editable(repo: Path, files: list[str], script: str | None) -> list[str]:
    importing = [
        p for p in files
        if p != script and not _is_test(p) and _OPE_IMPORT.search(_read(repo, p))
    ]
    if not importing:
        importing = [p for p in files if p.count("/") == 1 and p.endswith("/__init__.py") and not _is_test(p)]
    globs = [f"{p.split('/')[0]}/**/*.py" if "/" in p else p for p in importing]
    return list(dict.fromkeys(globs))


def _current_branch(repo: Path) -> str:
    try:
        return run_git(repo, "symbolic-ref", "--short", "-q", "HEAD").text().strip() or "main"
    except WorkspaceError:  # git missing: detection proposes values, it never fails
        return "main"


def detect(repo: Path) -> Detected:
    """Read ``repo`` and propose the config values (see the module docstring). Raises nothing."""
    files = _python_files(repo)
    script, text = _eval_script(repo, files)
    notes: list[str] = []
    if script is None:
        script_arg = "evaluate.py"
        notes.append("no evaluate*.py / eval*.py found: write one that takes --seed and writes a metrics "
                     "JSON, then fix evaluate.command")
    else:
        script_arg = shlex.quote(script)
        if "--seed" not in text:
            notes.append(f"{script} has no --seed option: add one (each seed runs as a separate process)")
    flag = _OUT_FLAG.search(text)
    out = flag.group(1) if flag else "--out"
    if script is not None and flag is None:
        notes.append(f"no metrics output option found in {script}: check `--out {{metrics_path}}`")
    editable = _editable(repo, files, script)
    if not editable:
        editable = ["**/*.py"]
        notes.append("no package imports obp or scope_rl: edit.paths allows every Python file; narrow it")
    return Detected(
        command=f"python {script_arg} --seed {{seed}} {out} {{metrics_path}}",
        editable=editable,
        protected=[script or "evaluate.py"],
        base=_current_branch(repo),
        guardrails=["runtime_s"] if "runtime_s" in text else [],
        notes=notes,
    )


def _flow(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


def render_config(found: Detected) -> str:
    """The `.growthhacker.yml` text for ``found``, commented for the user. Raises nothing."""
    guardrails = "".join(
        f"\n    - {{metric: {name}, max_regression: 0.5, goal: minimize}}  # +50% at most"
        for name in found.guardrails
    ) or " []"
    notes = "".join(f"# TODO: {note}\n" for note in found.notes)
    return f"""\
# GrowthHacker configuration, written by `growthhacker init` (README: "Configuration").
{notes}evaluate:
  # Runs once per seed; it must write a JSON object of metric name -> number to {{metrics_path}}.
  command: {json.dumps(found.command)}
  # ADJUST: the metric your evaluation writes that GrowthHacker should improve, and its direction.
  objective: {{metric: relative_ee, goal: minimize}}
  guardrails:{guardrails}
  seeds: {{search: [0, 1, 2], confirm: [100, 101, 102, 103, 104]}}
  timeout_s: 600
edit:
  # What agents may change (detected: the code that imports obp / scope_rl).
  paths: {_flow(found.editable)}
  # Never editable; .github/**, .growthhacker.yml and .growthhacker/** are always protected.
  protected: {_flow(found.protected)}
loop:
  iterations: 8
  agent: auto  # anthropic when ANTHROPIC_API_KEY is set, else the deterministic heuristic agent
github:
  base: {json.dumps(found.base)}
  branch_prefix: growthhacker/
  labels: [growthhacker]
  allowed_commenters: write  # repository permission needed for /growthhacker commands
"""
