"""Which scripts of a repository could be its evaluation: the ones that take a seed.

Read with :mod:`ast`, never run: a script is a candidate when its argparse options
(``add_argument("--seed")``, or a positional ``seed``), its click options or arguments, or its own
``sys.argv`` handling (``int(sys.argv[1])`` assigned to a seed, ``"--seed" in sys.argv``) take a
seed, and it can run as ``python path`` (an ``if __name__ == "__main__"`` block or code at module
level). Any name, any folder; tests, virtual environments and hidden directories are skipped.

Candidates are ranked: an option to write metrics to (``--out``, ``--metrics-out`` …) and a name
that says evaluation (``eval``, ``benchmark``, ``score`` …) count for it, names that say something
else (``train``, ``plot``, ``collect`` …) against it, and so does not reaching obp / scope-rl.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

SKIP_DIRS = frozenset({
    "node_modules", "__pycache__", "build", "dist", "site-packages", "venv", "env", ".venv",
    "test", "tests", "testing",
})  # fmt: skip
_MAX_FILE_BYTES = 500_000
_SEED_NAMES = frozenset({"seed", "seeds", "random_seed", "rng_seed", "random_state", "seed_value"})
_OUT_TOKENS = frozenset({"out", "output", "outfile", "metrics", "metric", "json", "results", "result",
                         "report", "scores", "dump", "save"})
_NOT_OUT_TOKENS = frozenset({"dir", "directory", "folder", "plot", "plots", "fig", "figure", "png", "model",
                             "models", "log", "logs", "ckpt", "checkpoint", "data", "cache", "csv"})
_EVAL_WORDS = frozenset({"eval", "evaluate", "evaluation", "evaluator", "benchmark", "bench", "score",
                         "scoring", "compare", "comparison", "experiment", "metrics", "assess", "audit",
                         "ope", "validate", "validation"})
_WEAK_WORDS = frozenset({"run", "main", "cli"})
_OTHER_WORDS = frozenset({"train", "plot", "collect", "download", "prepare", "preprocess", "generate",
                          "make", "figure", "figures", "viz", "visualize", "setup", "fit", "export",
                          "convert", "clean", "build"})

Via = Literal["argparse", "click", "sys.argv"]


@dataclass(frozen=True)
class Candidate:
    """A script that takes a seed, and how to run it for one seed."""

    path: str  # repo-relative POSIX path
    via: Via
    seed_arg: str  # "--seed {seed}", "--seed={seed}" or "{seed}" (positional)
    output_option: str | None  # "--out" …: where it can be told to write its metrics
    module: str | None = None  # dotted name when it must run as ``python -m`` (relative imports)
    score: int = 0
    reasons: tuple[str, ...] = field(default=())

    def command(self, metrics_path: bool) -> str:
        """The command template for one seed (``{seed}``; ``{metrics_path}`` if ``metrics_path``)."""
        target = f"-m {self.module}" if self.module else shlex.quote(self.path)
        out = f" {self.output_option} {{metrics_path}}" if metrics_path and self.output_option else ""
        return f"python {target} {self.seed_arg}{out}"


def python_files(repo: Path) -> list[str]:
    """Repo-relative POSIX paths of Python files, shallowest first, skipping tests, virtual
    environments, hidden and build directories, and test files. Raises nothing."""
    found: list[str] = []
    for current, dirs, files in os.walk(repo):
        here = Path(current)
        dirs[:] = sorted(
            d for d in dirs
            if not d.startswith(".") and d not in SKIP_DIRS and not (here / d / "pyvenv.cfg").exists()
        )
        rel = here.relative_to(repo)
        found += [
            (rel / name).as_posix() for name in sorted(files)
            if name.endswith(".py") and not name.startswith("test_") and name != "conftest.py"
        ]
    return sorted(found, key=lambda p: (p.count("/"), p))


def parse_file(path: Path) -> ast.Module | None:
    """The syntax tree of ``path``, or None if it is unreadable, too large or not valid Python."""
    try:
        if path.stat().st_size > _MAX_FILE_BYTES:
            return None
        return ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None


def _strings(call: ast.Call) -> list[str]:
    return [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]


def _attr(node: ast.expr) -> str:
    """``a.b.c`` as a dotted string ("" if it is not a plain name chain)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _attr(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _norm(option: str) -> str:
    return option.lstrip("-").replace("-", "_").lower()


def is_seed_name(option: str) -> bool:
    """Whether an option or parameter name (``--seed``, ``--random-seed``, ``seed``) is a seed."""
    name = _norm(option)
    return name in _SEED_NAMES or (name.endswith("_seed") and not name.startswith(("n_", "num_")))


def is_output_name(option: str) -> bool:
    """Whether an option name (``--out``, ``--metrics-file``, ``--json-out``) names a metrics file."""
    tokens = set(_norm(option).split("_"))
    return bool(tokens & _OUT_TOKENS) and not tokens & _NOT_OUT_TOKENS


def _long_option(options: list[str]) -> str:
    return max(options, key=lambda o: (o.startswith("--"), len(o)))


@dataclass
class _Cli:
    via: Via | None = None
    seed_arg: str | None = None
    output: str | None = None


def _argparse_and_click(tree: ast.Module, cli: _Cli) -> None:
    positional = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        method, names = node.func.attr, _strings(node)
        is_click = method in ("option", "argument") and _attr(node.func.value) == "click"
        if method == "add_argument" or is_click:
            via: Via = "argparse" if method == "add_argument" else "click"
            options = [n for n in names if n.startswith("-")]
            if options:
                if cli.seed_arg is None and any(is_seed_name(o) for o in options):
                    cli.via, cli.seed_arg = via, f"{_long_option(options)} {{seed}}"
                elif cli.output is None and _is_value_option(node) and any(map(is_output_name, options)):
                    cli.output = _long_option(options)
            elif names and (method == "add_argument" or method == "argument"):
                if cli.seed_arg is None and is_seed_name(names[0]) and positional == 0:
                    cli.via, cli.seed_arg = via, "{seed}"
                positional += 1


def _is_value_option(call: ast.Call) -> bool:
    """An option that takes a value (not ``action="store_true"`` / ``is_flag=True``)."""
    for keyword in call.keywords:
        if keyword.arg == "action" and isinstance(keyword.value, ast.Constant) and keyword.value.value in (
            "store_true", "store_false", "count", "store_const"
        ):
            return False
        if keyword.arg == "is_flag" and isinstance(keyword.value, ast.Constant) and keyword.value.value:
            return False
    return True


def _argv_names(tree: ast.Module) -> set[str]:
    """Names that mean ``sys.argv`` in this module."""
    names = {"sys.argv"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "sys":
            names |= {a.asname or a.name for a in node.names if a.name == "argv"}
    return names


def _sys_argv(tree: ast.Module, cli: _Cli) -> None:
    argv = _argv_names(tree)
    uses_argv = any(_attr(n) in argv for n in ast.walk(tree) if isinstance(n, ast.Name | ast.Attribute))
    if not uses_argv:
        return
    for node in ast.walk(tree):
        # seed = int(sys.argv[1]) (also inside a conditional expression)
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and is_seed_name(t.id) for t in node.targets
        ):
            for sub in ast.walk(node.value):
                if (isinstance(sub, ast.Subscript) and _attr(sub.value) in argv
                        and isinstance(sub.slice, ast.Constant) and sub.slice.value == 1):
                    cli.via, cli.seed_arg = "sys.argv", "{seed}"
                    return
        # "--seed" in sys.argv / argv.index("--seed") / arg.startswith("--seed=")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("--"):
            option = node.value.rstrip("=")
            if is_seed_name(option):
                joined = node.value.endswith("=")
                cli.via, cli.seed_arg = "sys.argv", f"{option}={{seed}}" if joined else f"{option} {{seed}}"
                return


def _runnable(tree: ast.Module) -> bool:
    """Runs something as ``python file.py``: a ``__main__`` block or statements at module level."""
    for stmt in tree.body:
        if isinstance(stmt, ast.If) and "__main__" in ast.unparse(stmt.test):
            return True
        if isinstance(stmt, ast.Expr | ast.Assign | ast.AugAssign | ast.With | ast.For | ast.If):
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue  # a docstring
            if any(isinstance(n, ast.Call) for n in ast.walk(stmt)):
                return True
    return False


def _module_name(repo: Path, path: str) -> str | None:
    """The dotted name to run ``path`` with ``python -m`` from ``repo``, if its folders are packages."""
    parts = PurePosixPath(path).with_suffix("").parts
    for depth in range(1, len(parts)):
        if not (repo.joinpath(*parts[:depth]) / "__init__.py").is_file():
            return None
    return ".".join(parts)


def _words(path: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", PurePosixPath(path).stem.lower())) - {""}


def inspect_script(repo: Path, path: str, reaches_ope: Callable[[str], bool]) -> Candidate | None:
    """The :class:`Candidate` for ``path`` if it takes a seed and can run as a script, else None."""
    tree = parse_file(repo / path)
    if tree is None or not _runnable(tree):
        return None
    cli = _Cli()
    _argparse_and_click(tree, cli)
    if cli.seed_arg is None:
        _sys_argv(tree, cli)
    if cli.seed_arg is None or cli.via is None:
        return None
    relative = any(isinstance(n, ast.ImportFrom) and n.level > 0 for n in ast.walk(tree))
    module = _module_name(repo, path) if relative else None
    score, reasons = 0, [f"takes a seed ({cli.via}: {cli.seed_arg.replace(' {seed}', '')})"]
    if cli.output:
        score += 3
        reasons.append(f"can write to {cli.output}")
    words = _words(path)
    if words & _EVAL_WORDS:
        score += 2
        reasons.append("its name says evaluation")
    elif words & _WEAK_WORDS:
        score += 1
    if words & _OTHER_WORDS:
        score -= 2
        reasons.append(f"its name says {'/'.join(sorted(words & _OTHER_WORDS))}")
    if reaches_ope(path):
        score += 2
        reasons.append("runs obp/scope-rl code")
    else:
        score -= 3
    return Candidate(path, cli.via, cli.seed_arg, cli.output, module, score, tuple(reasons))


def rank(candidates: list[Candidate]) -> list[Candidate]:
    """Best first: highest score, then the shallowest path, then by name."""
    return sorted(candidates, key=lambda c: (-c.score, c.path.count("/"), c.path))


def find_candidates(repo: Path, files: list[str], reaches_ope: Callable[[str], bool]) -> list[Candidate]:
    """Every script in ``files`` that takes a seed, ranked (see :func:`rank`); ``reaches_ope(path)``
    says whether a script runs obp / scope-rl code. Raises nothing."""
    found = (inspect_script(repo, p, reaches_ope) for p in files)
    return rank([c for c in found if c is not None])
