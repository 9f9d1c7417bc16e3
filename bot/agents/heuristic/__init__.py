"""The embedded heuristic agent: a deterministic, OPE-aware search that emits real diffs, no LLM.

It is the no-key default and the baseline every LLM run is compared against. The Analyzer
(:mod:`.analyzer`) surveys the editable files (``bot.ope.moves``), scores every possible move with an
OPE prior, adjusts the scores (:mod:`.scoring`; every weight is in ``bot.ope.weights``) with the
journal (:mod:`.memory` reads what was tried from the records' details, :mod:`.plan` decides: never
repeat a move; exploit an improvement by tuning on top of it; explore untried estimator families
first) and with human hints (as data: a hint can only boost moves whose class or knob it names),
demotes moves whose expected runtime would break a runtime guardrail (counting what stacked
improvements already spent) and moves of a family of change that broke the evaluation (a crash read
from its traceback, a timeout, unusable metrics: tried only when nothing else is left), and picks the
best. The project's other files, read-only, tell where a result key is read, so every swap keeps it
(``bot.ope.names``); a ``KeyError`` on a key in a crash counts as such a read. The Coder
(:mod:`.coder`) replays the chosen edits on the exact current text and adds imports, so the diff
touches only what the move changes.
"""

from __future__ import annotations

from bot.agents.base import Agent
from bot.agents.heuristic.analyzer import HeuristicAnalyzer, Ranking
from bot.agents.heuristic.coder import HeuristicCoder
from bot.ope.catalog import Catalog

__all__ = ["NAME", "HeuristicAnalyzer", "HeuristicCoder", "Ranking", "make_heuristic_agent"]

NAME = "heuristic"


def make_heuristic_agent(catalog: Catalog | None = None) -> Agent:
    """The heuristic Analyzer/Coder pair, named "heuristic".

    ``catalog`` defaults to the installed libraries' signatures (static specs where not installed).
    """
    return Agent(name=NAME, analyzer=HeuristicAnalyzer(catalog or Catalog()), coder=HeuristicCoder())
