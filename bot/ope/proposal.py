"""A move: one concrete candidate change (edits + imports) with its hypothesis, prior score and cost.

``bot.ope.moves`` (estimators, reward models, obp folds) and ``bot.ope.knobs`` (scope-rl pipeline
knobs) both produce moves; the heuristic agent ranks and combines them. What a move changes is data
(:class:`Change`, one per change; a combined move has several) that goes into the journal with the
move (``Move.details``), so a later iteration knows what was tried without reading the hypothesis,
which is prose for humans.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Literal

from bot.ope.edit import merge_replacements
from bot.ope.scan import CallSite
from bot.ope.specs import Spec
from bot.results import Persona

MoveKind = Literal[
    "estimator-swap", "estimator-knob", "reward-swap", "reward-knob", "folds",
    "value-model", "kernel", "data-handling", "add-model",
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
    # A swap to DM/DR together with the reward (or value) model it needs: the model is the new part.
    "add-model": "regression-model",
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
class Change:
    """One change a move makes, as data: what the journal keeps and the heuristic reads back."""

    kind: MoveKind
    file: str
    #: The call changed, named without a position (``CallSite.where``: `` `IPW(…)` ``).
    call: str
    #: The class swapped to (as the file names it), or the class (or pipeline call) whose knob is set.
    target: str
    family: str = ""
    #: The knob's key (``Knob.key`` or ``bot.ope.pipeline.KnobKey``); "" for a swap or a fold count.
    knob: str = ""
    #: The keyword set (for a module constant: the keyword it is passed as); "" for a swap.
    keyword: str = ""
    #: The value before, as source text ("" when unknown: an omitted argument of unknown default).
    was: str = ""
    #: The value after, as source text; for a swap the new call.
    value: str = ""
    #: For an estimator swap: the key its estimate is returned under after the change. Not part of
    #: what makes two changes the same (:attr:`key`).
    result_key: str = ""

    @property
    def key(self) -> tuple[str, ...]:
        """What makes two changes the same change (the family follows from the target)."""
        return (self.kind, self.file, self.call, self.target, self.knob, self.keyword, self.was, self.value)


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
    #: What the move changes, in order (one change; a combined move's first, then the next).
    changes: tuple[Change, ...] = field(kw_only=True)

    @property
    def persona(self) -> Persona:
        """The Analyzer persona this kind of move belongs to."""
        return _PERSONA[self.kind]

    @property
    def id(self) -> str:
        """A stable name of the move: the same changes give the same id, in any run or wording."""
        canonical = json.dumps([c.key for c in self.changes], separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]

    def details(self) -> dict[str, str]:
        """The move as strings for ``Analysis.details``: its id, kind, target, family, knob, changes
        (JSON), and the edits and imports (JSON) the Coder replays."""
        return {
            "move": self.id,
            "kind": self.kind,
            "target": self.target,
            "family": self.family,
            "knob": self.knob,
            "changes": json.dumps([asdict(c) for c in self.changes]),
            "edits": json.dumps([asdict(e) for e in self.edits]),
            "imports": json.dumps([asdict(i) for i in self.imports]),
        }


def decode_details(details: Mapping[str, str]) -> tuple[list[Edit], list[Import]]:
    """The edits and imports encoded by :meth:`Move.details`.

    Raises KeyError, ValueError or TypeError if the details were not written by a Move.
    """
    edits = [Edit(**e) for e in json.loads(details["edits"])]
    imports = [Import(**i) for i in json.loads(details.get("imports", "[]"))]
    return edits, imports


def decode_changes(details: Mapping[str, str]) -> tuple[Change, ...] | None:
    """The changes encoded by :meth:`Move.details`, or None if ``details`` hold none (details of
    another agent, or of a heuristic before changes were recorded) or cannot be read."""
    known = {f.name for f in fields(Change)}
    try:
        # Fields a later version added are left out: what this version knows of a change still reads.
        changes = tuple(Change(**{k: v for k, v in c.items() if k in known})
                        for c in json.loads(details["changes"]))
    except (KeyError, ValueError, TypeError, AttributeError):
        return None
    return changes or None


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
        cost=first.cost * second.cost, changes=first.changes + second.changes,
    )
