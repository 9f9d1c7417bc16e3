"""How the journal steers an iteration: explore, or exploit the best improvement (stacked or combined)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.agents.heuristic.memory import Memory, Recalled
from bot.ope.knobs import rescore
from bot.ope.moves import Move, Survey, combine
from bot.ope.weights import WEIGHTS

_REWARD_KINDS = ("reward-swap", "reward-knob", "folds")


@dataclass(frozen=True)
class Plan:
    """How the journal steers this iteration."""

    #: "explore" | "exploit-stacked" | "exploit-combined"
    mode: str
    #: Combined mode: the best improvement re-proposed with one more change (the moves to boost).
    extra: tuple[Move, ...] = ()
    #: Stacked mode: classes the best improvement introduced (their knobs are tuned first).
    focus: frozenset[str] = frozenset()
    #: How much an exploiting move gains: fades with each later attempt that did not improve.
    weight: float = 1.0
    #: Classes swapped to without gain; to be avoided (failed, or improved: a swap back to a class
    #: that improved mostly recreates that attempt, which stacking builds on already); and the
    #: estimator families swapped to without gain.
    no_gain: frozenset[str] = frozenset()
    spent: frozenset[str] = frozenset()
    families: frozenset[str] = frozenset()
    #: A heavy reward model broke a guardrail (most likely runtime): demote the other heavy ones.
    heavy_refused: bool = False
    #: Families of change (move kinds) that broke the evaluation, with what happened: avoided while
    #: any other family has an untried move.
    broken: tuple[tuple[str, str], ...] = ()


def journal_plan(memory: Memory, found: Survey, files: dict[str, str]) -> Plan:
    """Explore, or exploit the best improvement.

    Stacked: the improvement is already in the files, so tune what it introduced. Combined: it is
    not (each candidate is a diff against the base), so re-propose it with a knob or a reward-model
    change on top.
    """
    plan = _explore(memory, found)
    improved = [a for a in memory.attempts if a.attempt.status == "improved"]
    if not improved:
        return plan
    best = _best(improved)
    # Every later attempt of the run failed to beat the best (else it would be the best).
    stale = sum(1 for r in memory.attempts
                if r.attempt.run_id == best.attempt.run_id and r.attempt.iteration > best.attempt.iteration)
    weight = max(0.0, 1.0 - stale / WEIGHTS.patience)
    if _change_present(best, files):
        return replace(plan, mode="exploit-stacked", focus=best.swapped | best.tuned, weight=weight)
    # The best may be a plain move or a swap with a knob set (an earlier exploitation).
    known = [*found.moves, *(v for m in found.moves for v in found.swap_variants(m))]
    base = next((m for m in known if best.tried(m)), None)
    if base is None:
        return plan
    extra = found.swap_variants(base)
    # The base files may not use the reward model (or the estimator a knob acts through) yet, so those
    # moves scored low there: rank them as they would score after the base move and give them the
    # prior of a change that matters.
    ranked: list[tuple[float, Move]] = []
    if base.kind.startswith("reward") or (base.spec is not None and base.spec.needs_reward_model):
        ranked += [(m.score, m) for m in found.moves if m.kind in _REWARD_KINDS and not m.knob]
    after = found.used.after(base.call.spec if base.call else None, base.spec) \
        if base.kind == "estimator-swap" else found.used
    knobbed = [(rescore(m, found.used, after), m) for m in found.moves if m.knob]
    ranked += [(score, m) for score, m in knobbed if score >= WEIGHTS.relevant]
    others = [m for _, m in sorted(ranked, key=lambda r: (-r[0], r[1].hypothesis))]
    combos = [c for c in (combine(base, m) for m in others) if c is not None]
    extra += [replace(c, score=WEIGHTS.combined_prior - WEIGHTS.value_order * rank)
              for rank, c in enumerate(combos)]
    return replace(plan, mode="exploit-combined", extra=tuple(extra), weight=weight)


def _best(improved: list[Recalled]) -> Recalled:
    """The largest improvement; among equals the earliest (later equals did not add anything)."""
    return max(improved, key=lambda r: (r.attempt.improvement or 0.0, -r.attempt.iteration))


def _change_present(best: Recalled, files: dict[str, str]) -> bool:
    """True if every line the attempt's diff added is a line of the current files."""
    added = [line[1:].strip() for line in best.attempt.diff.splitlines()
             if line.startswith("+") and not line.startswith("+++")]
    added = [line for line in added if line]
    if not added:
        return False
    present = {line.strip() for text in files.values() for line in text.splitlines()}
    return all(line in present for line in added)


def _explore(memory: Memory, found: Survey) -> Plan:
    """An explore plan that knows which classes were swapped to, and how that went."""
    no_gain: set[str] = set()
    spent: set[str] = set()
    refused: set[str] = set()
    behind: set[str] = set()
    top = max((r.attempt.improvement or 0.0 for r in memory.attempts if r.attempt.status == "improved"),
              default=0.0)
    for r in memory.attempts:
        if r.broke and r.understood:
            continue  # it renamed a result key the code reads: every swap keeps that key now
        for name in r.swapped:
            (no_gain if r.attempt.status == "no_gain" else spent).add(name)
            if r.refused:
                refused.add(name)
            if r.attempt.status == "improved" and (r.attempt.improvement or 0.0) < top:
                behind.add(name)
    heavy = {m.target for m in found.moves if m.kind == "reward-swap" and m.spec is not None and m.spec.heavy}
    # Families come from the moves on offer (their classes are in the libraries the files use). An
    # improvement smaller than the best gained nothing over it: its family waits as well.
    family = {m.target: m.family for m in found.moves if m.kind == "estimator-swap"}
    families = {family[name] for name in no_gain | behind if name in family}
    paths = [s.path for s in found.scans]
    broken = tuple(sorted((kind, _what_broke(r, paths)) for kind, r in memory.broken_families().items()))
    return Plan("explore", no_gain=frozenset(no_gain), spent=frozenset(spent),
                families=frozenset(families), heavy_refused=bool(refused & heavy), broken=broken)


def _what_broke(recalled: Recalled, editable: list[str]) -> str:
    """What happened to an attempt that broke the evaluation, in one line: the crash read from its
    traceback, else its failure kind."""
    where = f"iteration {recalled.attempt.iteration}"
    if recalled.crash is not None:
        return f"{where}: {recalled.crash.describe(editable)}"
    return f"{where}: {recalled.attempt.failure_kind}"
