"""What the heuristic remembers of the journal: which moves were tried, what they changed, how it went.

It reads an attempt's ``details`` (the :class:`~bot.ope.proposal.Change` list and move id the
heuristic wrote when it proposed the move) and its ``failure_kind``. Attempts without them (journals
from before these were recorded, or another agent's attempts) are read from their prose by
:mod:`bot.agents.heuristic.legacy`, the only place that parses a hypothesis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.agents.heuristic.legacy import norm_hypothesis, read_hypothesis, reason_says_guardrail
from bot.crash import Crash
from bot.ope.knobs import Setting
from bot.ope.moves import Move
from bot.ope.proposal import decode_changes
from bot.results import Attempt, IterationFailure

_SWAPS = ("estimator-swap", "reward-swap")
#: Failures that say the change broke the evaluation (rather than was refused, or lost).
BROKE: frozenset[IterationFailure] = frozenset({
    "crash", "timeout", "metrics_missing", "metrics_malformed", "non_finite", "extreme_value",
    "check_failed", "compile_error",
})


@dataclass(frozen=True)
class Recalled:
    """One past attempt as the heuristic remembers it."""

    attempt: Attempt
    #: The id of the move tried (``Move.id``); None when the attempt carries no heuristic details.
    move: str | None
    #: Classes it swapped to (estimators and reward models), as the files name them.
    swapped: frozenset[str]
    #: Classes (or pipeline calls) whose knob it set.
    tuned: frozenset[str]
    #: The keywords it set, with their values before.
    settings: tuple[Setting, ...]
    #: A guardrail broke (most likely runtime).
    refused: bool
    #: The move's kind (its family of change: ``estimator-swap``, ``reward-knob`` …), when known.
    kind: str | None = None
    #: The change broke the evaluation (a crash, a timeout, unusable metrics); ``crash`` says how.
    broke: bool = False
    crash: Crash | None = None
    #: The result keys the swaps of the move returned their estimates under.
    keys: frozenset[str] = frozenset()

    @property
    def understood(self) -> bool:
        """True if it broke only because it renamed a result key the code reads (``KeyError`` on a key
        it moved away from): the next swaps keep that key, so its family is not to blame."""
        key = self.crash.key if self.crash is not None else None
        return key is not None and bool(self.keys) and key not in self.keys

    def tried(self, move: Move) -> bool:
        """True if this attempt tried ``move``: the same id, or (without one) the same hypothesis."""
        if self.move is not None:
            return self.move == move.id
        return norm_hypothesis(self.attempt.hypothesis) == norm_hypothesis(move.hypothesis)


def recall(attempt: Attempt) -> Recalled:
    """``attempt`` as data: from its details, or from its text when it has none."""
    refused = (attempt.failure_kind == "guardrail" if attempt.failure_kind is not None
               else reason_says_guardrail(attempt.failure_reason))
    broke = attempt.status == "failed" and attempt.failure_kind in BROKE
    changes = decode_changes(attempt.details)
    if changes is None:
        swapped, tuned, settings = read_hypothesis(attempt.hypothesis)
        return Recalled(attempt, None, swapped, tuned, settings, refused, broke=broke, crash=attempt.crash)
    return Recalled(
        attempt=attempt,
        move=attempt.details.get("move"),
        swapped=frozenset(c.target for c in changes if c.kind in _SWAPS),
        tuned=frozenset(c.target for c in changes if c.kind not in _SWAPS),
        settings=tuple(Setting(c.keyword, c.call, c.was) for c in changes if c.keyword),
        refused=refused,
        kind=attempt.details.get("kind") or None,
        broke=broke,
        crash=attempt.crash,
        keys=frozenset(c.result_key for c in changes if c.result_key),
    )


@dataclass(frozen=True)
class Memory:
    """The journal's attempts (best first, as the Analyzer gets them), recalled."""

    attempts: tuple[Recalled, ...]
    #: Ids of the moves tried, and the (normalised) hypotheses of the attempts without an id.
    ids: frozenset[str]
    texts: frozenset[str]

    def tried(self, move: Move) -> bool:
        """True if an attempt tried ``move`` (see :meth:`Recalled.tried`)."""
        return move.id in self.ids or norm_hypothesis(move.hypothesis) in self.texts

    @property
    def n_tried(self) -> int:
        """How many distinct moves the journal holds."""
        return len(self.ids) + len(self.texts)

    @property
    def settings(self) -> Iterable[Setting]:
        """Every keyword the attempts set, with its value before."""
        return (s for a in self.attempts for s in a.settings)

    @property
    def learned_keys(self) -> frozenset[str]:
        """Result keys an evaluation crashed without (``KeyError: 'ipw'``): the code reads them."""
        return frozenset(a.crash.key for a in self.attempts if a.broke and a.crash and a.crash.key)

    def broken_families(self) -> dict[str, Recalled]:
        """The families of change (move kinds) whose attempts broke the evaluation, each with its
        latest such attempt; a key the code reads and a swap renamed is not its family's fault."""
        out: dict[str, Recalled] = {}
        for a in sorted(self.attempts, key=lambda r: (r.attempt.run_id, r.attempt.iteration)):
            if a.broke and a.kind is not None and not a.understood:
                out[a.kind] = a
        return out


def remember(attempts: Iterable[Attempt]) -> Memory:
    """The heuristic's memory of ``attempts``."""
    recalled = tuple(recall(a) for a in attempts)
    return Memory(
        attempts=recalled,
        ids=frozenset(a.move for a in recalled if a.move is not None),
        texts=frozenset(norm_hypothesis(a.attempt.hypothesis) for a in recalled if a.move is None),
    )
