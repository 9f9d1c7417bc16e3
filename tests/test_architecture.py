"""The shape of the package, checked: small modules, no import cycle, the domain below the agents.

The import graph is read from the source (``ast``), module-level imports only: an import inside a
function is how a module defers a heavy dependency (matplotlib) and does not make a load-time cycle.
``from bot.a.b import x`` is an edge to ``bot.a.b``, not to the package ``bot.a``.
"""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(BOT.rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The bot modules ``path`` imports at module level (the deepest known module of each name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name.startswith("bot"):
                found.add(name)
                break
    return found


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(path, known) - {name} for name, path in mods.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_module_in_bot_is_over_400_lines() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}

    too_long = {name: n for name, n in sizes.items() if n > MAX_LINES}

    assert not too_long, f"split these modules (over {MAX_LINES} lines): {too_long}"


def test_the_import_graph_has_no_cycle() -> None:
    assert find_cycle(import_graph()) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"bot.a": {"bot.b"}, "bot.b": {"bot.c"}, "bot.c": {"bot.a"}, "bot.d": set()}

    assert find_cycle(graph) == ["bot.a", "bot.b", "bot.c", "bot.a"]


def test_the_ope_domain_does_not_import_the_agents() -> None:
    graph = import_graph()

    upward = {name: sorted(n for n in deps if n.startswith("bot.agents"))
              for name, deps in graph.items() if name.startswith("bot.ope")}

    assert not {name: deps for name, deps in upward.items() if deps}


def test_the_inner_loop_knows_nothing_of_github() -> None:
    graph = import_graph()
    core = ("bot.loop", "bot.gate", "bot.selection", "bot.stats", "bot.evaluate", "bot.journal",
            "bot.results", "bot.patch", "bot.workspace", "bot.agents", "bot.ope", "bot.report", "bot.plot")

    leaks = {name: sorted(d for d in deps if d.startswith("bot.github"))
             for name, deps in graph.items() if name.startswith(core)}

    assert not {name: deps for name, deps in leaks.items() if deps}
