"""Markdown tables (the report's and the PR's) drawn as terminal tables.

The report renders its tables as markdown, the one source of their content (report.md, the PR body,
the sticky comment); a terminal shows raw pipes badly, so the CLI parses that markdown back into a
rich :class:`~rich.table.Table` with the same cells and column alignments.
"""

from __future__ import annotations

import re
from typing import Literal

from rich import box
from rich.table import Table
from rich.text import Text

# A cell boundary is a pipe not escaped by a backslash (the report escapes pipes in cell text).
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_UNESCAPE = re.compile(r"\\([\\`*\[\]|_])")


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [_UNESCAPE.sub(r"\1", cell.strip()) for cell in _CELL_SPLIT.split(inner)]


def _alignment(spec: str) -> Literal["left", "center", "right"]:
    spec = spec.strip()
    if spec.startswith(":") and spec.endswith(":"):
        return "center"
    return "right" if spec.endswith(":") else "left"


def terminal_table(markdown: str) -> Table:
    """The markdown table ``markdown`` (header, alignment row, rows) as a rich Table.

    Cell text is shown literally (no rich markup), with the markdown escapes removed. Lines that are
    not table rows are ignored; a table without an alignment row gets left-aligned columns.
    """
    rows = [_cells(line) for line in markdown.splitlines() if line.strip().startswith("|")]
    if not rows:
        return Table()
    header, body = rows[0], rows[1:]
    aligns: list[Literal["left", "center", "right"]] = ["left"] * len(header)
    if body and all(re.fullmatch(r":?-+:?", cell) for cell in body[0]):
        aligns = [_alignment(cell) for cell in body[0]] + aligns[len(body[0]):]
        body = body[1:]
    # Light rules and no outer padding: the deltas table has long cells and terminals are often 80 wide.
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)
    for name, align in zip(header, aligns, strict=False):
        table.add_column(name, justify=align, overflow="fold")
    for row in body:
        table.add_row(*(Text(cell) for cell in row[: len(header)]))
    return table
