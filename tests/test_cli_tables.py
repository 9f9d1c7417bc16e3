"""The deltas table on a terminal: the report's markdown, drawn as a table with the same cells."""

from __future__ import annotations

import io

from rich.console import Console

from bot.cli.tables import terminal_table
from bot.decision import Allowance, Criteria
from bot.report import deltas_table
from bot.results import EvalResult, SeedResult


def result(values: list[float]) -> EvalResult:
    return EvalResult(tree="t", seeds=[SeedResult(seed=i, ok=True, metrics={"err": v, "runtime_s": 1.0})
                                       for i, v in enumerate(values)])


def rendered(table: object, width: int = 160) -> str:
    out = io.StringIO()
    Console(file=out, width=width, force_terminal=False).print(table)
    return out.getvalue()


def test_the_deltas_table_keeps_its_cells_and_alignment_without_pipes() -> None:
    criteria = Criteria(metric="err", goal="minimize", guardrails=(Allowance("runtime_s", "minimize", 0.5),))
    markdown = deltas_table(result([1.0, 2.0, 3.0]), result([0.5, 1.0, 1.5]), criteria)

    table = terminal_table(markdown)
    text = rendered(table)

    assert [c.header for c in table.columns] == ["metric", "base", "head", "Δ", "Δ%", "verdict"]
    assert [c.justify for c in table.columns] == ["left", "right", "right", "right", "right", "left"]
    assert table.row_count == 2
    assert "| metric |" not in text and "|---" not in text
    for cell in ("err ↓", "-50.0%", "⚡ better (won 3/3 seeds)", "runtime_s ↓"):
        assert cell in text


def test_escaped_pipes_and_brackets_are_cell_text() -> None:
    table = terminal_table("| a | b |\n|---|---:|\n| x \\| y | [bold]z\\* |\n")

    text = rendered(table)

    assert table.row_count == 1
    assert "x | y" in text and "[bold]z*" in text
