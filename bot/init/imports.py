"""What an entry point runs: the repository modules it imports, transitively, read with :mod:`ast`.

An import is resolved the way Python would find it when the script runs as ``python path``: against
the script's own folder, the repository root and ``src/`` (a ``src`` layout), and relative imports
against the importing module's package. Every package ``__init__`` on the way counts as imported.
Imports anywhere in a module count (inside functions too): what a module might run is what matters.

Each module reached is then classified by what it calls (:func:`inspect_module`): whether it builds
OPE estimators or reward models (anything from ``obp.ope`` or ``scope_rl.ope``, or a scikit-learn
model class), whether it imports obp / scope-rl at all, and whether it computes a ground truth.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from bot.init.candidates import parse_file

OPE_LIBRARIES = ("obp", "scope_rl")
#: Modules whose calls build an estimator or a reward model.
ESTIMATOR_MODULES = ("obp.ope", "scope_rl.ope")
#: scikit-learn subpackages of models (not preprocessing, model selection, metrics or utils).
SKLEARN_MODELS = frozenset({
    "linear_model", "ensemble", "tree", "neighbors", "neural_network", "svm", "naive_bayes",
    "kernel_ridge", "gaussian_process", "discriminant_analysis", "dummy", "calibration", "multiclass",
    "multioutput", "isotonic",
})  # fmt: skip
_GROUND_TRUTH_WORDS = ("ground_truth", "on_policy_policy_value", "calc_on_policy")


@dataclass(frozen=True)
class ModuleFacts:
    """What one repository module does, as far as its source says."""

    path: str
    builds_estimators: tuple[str, ...]  # qualified names it uses, e.g. "obp.ope.DoublyRobust"
    imports_ope: bool
    ground_truth: bool


def _module_file(root: Path, dotted: str) -> Path | None:
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_dir(repo: Path, path: str) -> Path:
    return (repo / path).parent


def _resolve_relative(repo: Path, path: str, level: int, module: str | None, names: list[str]) -> list[Path]:
    folder = _package_dir(repo, path)
    for _ in range(level - 1):
        folder = folder.parent
    found: list[Path] = []
    target = folder.joinpath(*module.split(".")) if module else folder
    if module:
        parts = module.split(".")
        for depth in range(1, len(parts) + 1):
            hit = _module_file(folder, ".".join(parts[:depth]))
            if hit is not None:
                found.append(hit)
    elif (folder / "__init__.py").is_file():
        found.append(folder / "__init__.py")
    for name in names:
        hit = _module_file(target, name)
        if hit is not None:
            found.append(hit)
    return found


def _resolve_absolute(roots: list[Path], dotted: str, names: list[str]) -> list[Path]:
    parts = dotted.split(".")
    for root in roots:
        if _module_file(root, parts[0]) is None:
            continue
        found = [hit for d in range(1, len(parts) + 1) if (hit := _module_file(root, ".".join(parts[:d])))]
        found += [hit for name in names if (hit := _module_file(root, f"{dotted}.{name}"))]
        return found
    return []


def direct_imports(repo: Path, path: str, tree: ast.Module) -> set[str]:
    """Repo-relative paths of the repository modules ``path`` imports (packages' ``__init__`` too)."""
    roots = [_package_dir(repo, path), repo, repo / "src"]
    hits: list[Path] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                hits += _resolve_absolute(roots, alias.name, [])
        elif isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names if a.name != "*"]
            if node.level:
                hits += _resolve_relative(repo, path, node.level, node.module, names)
            elif node.module:
                hits += _resolve_absolute(roots, node.module, names)
    resolved_repo = repo.resolve()
    out: set[str] = set()
    for hit in hits:
        resolved = hit.resolve()
        if resolved.is_relative_to(resolved_repo):
            out.add(resolved.relative_to(resolved_repo).as_posix())
    return out


def import_closure(repo: Path, entry: str) -> dict[str, ast.Module]:
    """The syntax trees of ``entry`` and every repository module it imports, transitively, by path.

    Modules that cannot be parsed are left out. Raises nothing.
    """
    trees: dict[str, ast.Module] = {}
    todo = [entry]
    while todo:
        path = todo.pop()
        if path in trees:
            continue
        tree = parse_file(repo / path)
        if tree is None:
            continue
        trees[path] = tree
        todo += sorted(direct_imports(repo, path, tree) - trees.keys())
    return trees


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> qualified name, for every import in the module."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _qualified(node: ast.expr, aliases: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _qualified(node.value, aliases)
        return f"{base}.{node.attr}" if base else None
    return None


def is_estimator(qualified: str) -> bool:
    """Whether ``qualified`` (``obp.ope.DoublyRobust``, ``sklearn.linear_model.Ridge``) is a class that
    builds an OPE estimator or a reward model."""
    parts = qualified.split(".")
    if not parts[-1][:1].isupper():  # a class, not a module (``scope_rl.ope.input``) or a function
        return False
    if any(qualified.startswith(f"{module}.") for module in ESTIMATOR_MODULES):
        return True
    return len(parts) >= 3 and parts[0] == "sklearn" and parts[1] in SKLEARN_MODELS


def inspect_module(path: str, tree: ast.Module) -> ModuleFacts:
    """What ``tree`` (the module at ``path``) builds and imports. Raises nothing."""
    aliases = _aliases(tree)
    used: set[str] = set()
    ground_truth = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Load):
            qualified = _qualified(node, aliases)
            if qualified and is_estimator(qualified):
                used.add(qualified)
        if isinstance(node, ast.Attribute) and any(w in node.attr for w in _GROUND_TRUTH_WORDS):
            ground_truth = True
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and any(
            w in node.value for w in _GROUND_TRUTH_WORDS
        ):
            ground_truth = True
    # ``obp.ope.X.method`` also loads ``obp.ope.X``: keep the class, not its attributes.
    specific = {q for q in used if not any(q.startswith(f"{other}.") for other in used)}
    imports_ope = any(q.split(".")[0] in OPE_LIBRARIES for q in aliases.values())
    return ModuleFacts(path, tuple(sorted(specific)), imports_ope, ground_truth)


def reaches_ope(repo: Path, entry: str) -> bool:
    """Whether ``entry`` or a repository module it imports imports obp or scope-rl."""
    return any(inspect_module(p, t).imports_ope for p, t in import_closure(repo, entry).items())
