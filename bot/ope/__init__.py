"""OPE domain knowledge: the estimator/reward-model catalog and the moves it allows on source code.

- :mod:`bot.ope.specs` — static knowledge (families, priors, knobs and candidate values).
- :mod:`bot.ope.catalog` — the same, with names and parameters read from the installed libraries.
- :mod:`bot.ope.scan` / :mod:`bot.ope.edit` — find OPE calls in source; rewrite one call, fix imports.
- :mod:`bot.ope.pipeline` — scope-rl's pipeline knobs (FQE steps/folds, kernel bandwidth, reward after
  done) and the calls that take them.
- :mod:`bot.ope.proposal` — a move (edits, hypothesis, prior score, runtime cost, its changes as data)
  and how two combine.
- :mod:`bot.ope.moves` — candidate changes (estimator swaps, knob tuning, reward models, folds).
- :mod:`bot.ope.knobs` — moves on the scope-rl pipeline knobs, their relevance and runtime budget.
- :mod:`bot.ope.names` — result keys: where the project reads an estimate by name, how a swap keeps it.
- :mod:`bot.ope.structure` — swaps to DM/DR together with the reward or value model they need.
- :mod:`bot.ope.weights` — every weight the heuristic scores moves with, in one table.
"""

from __future__ import annotations

from bot.ope.catalog import Catalog, catalog_markdown
from bot.ope.specs import Knob, Spec

__all__ = ["Catalog", "Knob", "Spec", "catalog_markdown"]
