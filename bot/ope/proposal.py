"""A move: one concrete candidate change (edits + imports) with its hypothesis, prior score and cost.

``bot.ope.moves`` (estimators, reward models, obp folds) and ``bot.ope.knobs`` (scope-rl pipeline
knobs) both produce moves; the heuristic agent ranks and combines them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from bot.ope.edit import merge_replacements
from bot.ope.scan import CallSite
from bot.ope.specs import Spec
from bot.results import Persona

MoveKind = Literal[
    "estimator-swap", "estimator-knob", "reward-swap", "reward-knob", "folds",
    "value-model", "kernel", "data-handling",
]
_PERSONA: dict[MoveKind, Persona] = {
    "estimator-swap": "estimator",
    "estimator-knob": "hyperparameter",
    "reward-swap": "regression-model",
    "reward-knob": "regression-model",
    "folds": "data-handling",
    # scope-rl's FQE is the value (regression) model of DM and DR.
    "value-model": "regression-model",
    "kernel": "hyperparameter",
    "data-handling": "data-handling",
}


@dataclass(frozen=True)
class Edit:
    """Replace ``old`` (found at ``start``) with ``new`` in ``file``."""

    file: str
    start: int
    end: int
    old: str
    new: str


@dataclass(frozen=True)
class Import:
    """Make ``from module import name`` available in ``file``."""

    file: str
    module: str
    name: str


@dataclass(frozen=True)
class Move:
    """One candidate change, ready for the Coder."""

    kind: MoveKind
    hypothesis: str
    plan: str
    expected_effect: str
    score: float
    edits: tuple[Edit, ...]
    imports: tuple[Import, ...] = ()
    #: The class the move swaps to, or the class (or pipeline call) whose knob it tunes.
    target: str = ""
    family: str = ""
    #: Words a human hint may mention to boost this move.
    keywords: tuple[str, ...] = ()
    #: Expected runtime of the evaluation relative to now (2.0: about twice as long); an estimate
    #: about the move, not part of what the move is.
    cost: float = field(default=1.0, compare=False)
    #: The scope-rl pipeline knob the move sets (``bot.ope.pipeline.KnobKey``), "" for other moves.
    knob: str = ""
    call: CallSite | None = field(default=None, compare=False)
    spec: Spec | None = field(default=None, compare=False)

    @property
    def persona(self) -> Persona:
        """The Analyzer persona this kind of move belongs to."""
        return _PERSONA[self.kind]

    def details(self) -> dict[str, str]:
        """The move as JSON strings for ``Analysis.details`` (what the Coder needs)."""
        return {
            "kind": self.kind,
            "target": self.target,
            "edits": json.dumps([e.__dict__ for e in self.edits]),
            "imports": json.dumps([i.__dict__ for i in self.imports]),
        }


def decode_details(details: Mapping[str, str]) -> tuple[list[Edit], list[Import]]:
    """The edits and imports encoded by :meth:`Move.details`.

    Raises KeyError, ValueError or TypeError if the details were not written by a Move.
    """
    edits = [Edit(**e) for e in json.loads(details["edits"])]
    imports = [Import(**i) for i in json.loads(details.get("imports", "[]"))]
    return edits, imports


def combine(first: Move, second: Move) -> Move | None:
    """Both moves as one (``second`` on top of ``first``), or None if they change the same text.

    Edits of one span (two knobs of one call, or an estimator inside the call whose knob is set) are
    merged into one edit when the characters they change do not overlap. The cost multiplies.
    """
    edits = list(first.edits)
    for b in second.edits:
        for i, a in enumerate(edits):
            if a.file == b.file and a.start < b.end and b.start < a.end:
                merged = merge_replacements((a.start, a.old, a.new), (b.start, b.old, b.new))
                if merged is None:
                    return None
                start, old, new = merged
                edits[i] = Edit(a.file, start, start + len(old), old, new)
                break
        else:
            edits.append(b)
    imports = tuple(dict.fromkeys(first.imports + second.imports))
    return replace(
        second, hypothesis=f"{first.hypothesis} Plus: {second.hypothesis}",
        plan=f"{first.plan}; then {second.plan}", edits=tuple(edits), imports=imports,
        cost=first.cost * second.cost,
    )
