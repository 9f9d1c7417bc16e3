"""Candidate changes ("moves") to an OPE pipeline, derived from the source and the catalog.

A move is a small, concrete edit: swap an estimator for another of the same library and action
type, tune one knob, swap or tune the reward model, change the cross-fitting folds. Each carries a
prior score (OPE knowledge: e.g. DR-family and self-normalised estimators before DM when the
baseline is plain IPW) and a hypothesis text that names the file, the call and the change without
line numbers, for the humans who read the journal; what it changes is recorded as data
(``bot.ope.proposal.Change``). The weights of the priors are in ``bot.ope.weights``. Moves on
scope-rl's pipeline knobs (FQE steps and folds, kernel bandwidth, reward after done) come from
``bot.ope.knobs``; the move type itself lives in ``bot.ope.proposal`` (re-exported here).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from bot.ope.catalog import Catalog
from bot.ope.edit import rewrite_call
from bot.ope.knobs import InUse, in_use, pipeline_moves, skip_unused_fqe
from bot.ope.names import KeyPlan, KeyReads, current_key, keep_key
from bot.ope.proposal import Change, Edit, Import, Move, MoveKind, combine, decode_details
from bot.ope.scan import CallSite, FileScan, reward_evidence, scan_file
from bot.ope.specs import (
    DEFAULT_RANDOM_STATE,
    FOLD_VALUES,
    FOLDS_KEYWORD,
    REWARD_CARRY,
    ROOTS,
    Knob,
    Scalar,
    Spec,
)
from bot.ope.structure import with_reward_model, with_value_prediction
from bot.ope.weights import WEIGHTS

__all__ = ["Change", "Edit", "Import", "Move", "MoveKind", "Survey", "combine", "decode_details", "survey"]

_FOLDS_EFFECT = (
    "More folds: each fold's reward model trains on more data and cross-fitting keeps a round's own "
    "reward out of its prediction; fewer folds fit faster. Costs one model fit per fold."
)


@dataclass(frozen=True)
class Survey:
    """What the editable files hold and every move they allow."""

    scans: tuple[FileScan, ...]
    catalog: Catalog
    #: Why reward-model predictions look available (None: no sign of them).
    rewards: str | None
    #: True if an estimator that uses the reward model is constructed.
    reward_in_use: bool
    #: (called name, keyword) pairs passed anywhere in the files.
    call_keywords: frozenset[tuple[str, str]]
    #: The scope-rl estimators constructed (what pipeline knobs act through).
    used: InUse = field(default_factory=lambda: InUse(()))
    #: Where the project reads estimators' result keys (what a swap must keep).
    reads: KeyReads = field(default_factory=lambda: KeyReads({}, {}, ()))
    moves: tuple[Move, ...] = ()

    def swap_variants(self, move: Move) -> list[Move]:
        """The swap ``move`` again, each time with one knob of its target set to a candidate value."""
        if move.kind != "estimator-swap" or move.call is None or move.spec is None:
            return []
        scan = next(s for s in self.scans if s.path == move.call.file)
        out: list[Move] = []
        for knob in move.spec.knobs:
            for i, value in enumerate(knob.values):
                variant = _swap(scan, move.call, move.spec, {knob.name: value}, self.reads)
                if variant is not None:
                    variant = self.without_unused_fqe(variant)
                if variant is not None and variant.edits != move.edits:
                    out.append(replace(variant, score=WEIGHTS.swap_variant - WEIGHTS.value_order * i))
        return out

    def without_unused_fqe(self, move: Move) -> Move:
        """``move`` plus switching off FQE fitting that no estimator needs after it (see ``knobs``)."""
        calls = {c.name: c for c in self.catalog.pipeline_calls()}
        return skip_unused_fqe(move, self.scans, calls, self.used)


def survey(
    files: Mapping[str, str], catalog: Catalog, readonly: Mapping[str, str] | None = None,
    learned: frozenset[str] = frozenset(),
) -> Survey:
    """Scan every ``.py`` file of ``files`` (the editable ones) and list the moves they allow (sorted
    by file, then position). ``readonly`` (the project's other files) and ``learned`` (keys a crash
    showed are read) only tell where result keys are read."""
    scans = tuple(scan_file(p, t, catalog) for p, t in sorted(files.items()) if p.endswith(".py"))
    calls = [c for s in scans for c in s.calls]
    keys = {k for c in calls for k in (current_key(c),) if k}
    base = Survey(
        scans=scans, catalog=catalog, rewards=reward_evidence(list(scans)),
        reward_in_use=any(c.spec is not None and c.spec.needs_reward_model for c in calls),
        call_keywords=frozenset(k for s in scans for k in s.call_keywords), used=in_use(scans),
        reads=KeyReads(files, readonly or {}, keys, learned),
    )
    pipeline = {c.name: c for c in catalog.pipeline_calls()}
    moves: list[Move] = []
    for scan in scans:
        for call in scan.calls:
            assert call.spec is not None  # scan_file only keeps calls it matched
            if call.spec.role == "estimator":
                moves += _estimator_swaps(base, scan, call)
            elif call.spec.role == "reward-model":
                moves += _reward_swaps(base, scan, call)
            moves += _knob_moves(base, scan, call)
        for call in scan.fold_calls:
            moves += _fold_moves(base, scan, call)
        for call in scan.pipeline_calls:
            if call.name in pipeline:
                moves += pipeline_moves(scan, call, pipeline[call.name], base.used)
    return replace(base, moves=tuple(_unread_last(moves, calls, base.reads)))


def _unread_last(moves: list[Move], calls: list[CallSite], reads: KeyReads) -> list[Move]:
    """``moves`` with those on an estimator whose estimate nothing reads by name demoted, when the
    project reads another estimator's by name: the one it reads is the one the objective measures
    (``values["dr"]`` next to an IPW and a DM in the same list)."""
    estimators = [c for c in calls if c.spec is not None and c.spec.role == "estimator"]
    keys = {(c.file, c.start): current_key(c) for c in estimators}
    read = {where for where, key in keys.items() if key is not None and reads.read(key)}
    if not read or len(read) == len(keys):
        return moves
    return [replace(m, score=m.score - WEIGHTS.unread_estimator)
            if m.call is not None and (m.call.file, m.call.start) in keys.keys() - read else m
            for m in moves]


def _estimator_swaps(survey: Survey, scan: FileScan, call: CallSite) -> list[Move]:
    src = call.spec
    assert src is not None
    present = {c.spec.name for c in scan.calls if c.spec is not None}
    out: list[Move] = []
    for target in survey.catalog.estimators(src.library):
        if target.action_type != src.action_type or target.name in present:
            continue
        if call.legacy and target.legacy_name is None:
            continue
        move = _swap(scan, call, target, {}, survey.reads)
        if move is None:
            continue
        score = float(target.prior)
        if src.family in ("dr", "dm") and target.family == "ipw":
            score -= WEIGHTS.drops_reward_model
        if target.action_type == "continuous" and target.family != "dm":
            score -= WEIGHTS.kernel_self_normalized if target.self_normalized else WEIGHTS.kernel_unbounded
        # DM and the DR family read reward (obp) or value (scope-rl: FQE) predictions.
        if (target.needs_reward_model or target.family == "dm") and not survey.rewards:
            structured = _with_model(survey, move)
            if structured is not None:
                out.append(replace(structured, score=score - WEIGHTS.adds_model))
                continue
            if target.needs_reward_model:
                score -= WEIGHTS.needs_missing_rewards
        out.append(replace(survey.without_unused_fqe(move), score=score))
    return out


def _with_model(survey: Survey, swap: Move) -> Move | None:
    """``swap`` together with the reward or value model its target needs (``bot.ope.structure``)."""
    if swap.spec is None:
        return None
    if swap.spec.library == "obp":
        return with_reward_model(swap, survey.scans)
    return with_value_prediction(swap, survey.scans, {c.name: c for c in survey.catalog.pipeline_calls()})


def _reward_swaps(survey: Survey, scan: FileScan, call: CallSite) -> list[Move]:
    src = call.spec
    assert src is not None
    out: list[Move] = []
    for target in survey.catalog.reward_models():
        if target.family != src.family or target.name == src.name:
            continue
        move = _swap(scan, call, target, {}, survey.reads)
        if move is not None:
            score = (WEIGHTS.reward_swap + target.prior / WEIGHTS.reward_swap_prior_divisor
                     if survey.reward_in_use else target.prior / WEIGHTS.reward_swap_idle_divisor)
            out.append(replace(move, score=score))
    return out


def _swap(
    scan: FileScan, call: CallSite, target: Spec, extra: Mapping[str, str], reads: KeyReads
) -> Move | None:
    """``call`` rewritten to construct ``target``, or None if that cannot be done safely (a name it
    cannot import, arguments it cannot name, a result key it cannot keep)."""
    src = call.spec
    assert src is not None
    ref = _reference(scan, call, target)
    positional = _positional_names(call, src)
    if ref is None or positional is None:
        return None
    local, written, imports = ref
    taken = {k for c in scan.calls if c is not call for k in (current_key(c),) if k}
    keeping = keep_key(scan, call, target, local, reads, taken) if src.role == "estimator" else KeyPlan()
    if keeping is None:
        return None
    local = keeping.callee or local
    given = [a.keyword or positional[i] for i, a in enumerate(call.args)]
    if src.role == "estimator":
        drop = {name for name in given if not _carries(src, target, name)}
    else:
        drop = {name for name in given if name not in REWARD_CARRY or name not in target.params}
    kept = set(given) - drop
    values: dict[str, str] = {}
    for key, value in target.swap_values:
        knob = target.knob(key)
        if knob is not None and knob.name not in kept:
            values[knob.name] = value
    values.update(extra)
    values.update(keeping.values)
    if src.role != "estimator" and "random_state" in target.params and "random_state" not in kept:
        values["random_state"] = DEFAULT_RANDOM_STATE
    if any(r not in kept and r not in values for r in target.required):
        return None
    new = rewrite_call(call, callee=local, values=values, positional_names=positional, drop=drop)
    shown = _compact(new)
    if len(shown) > 100:
        shown = f"{local}(…{''.join(f', {k}={v}' for k, v in values.items())})"
    kind: MoveKind = "estimator-swap" if src.role == "estimator" else "reward-swap"
    # An alias hides the class: name it for the reader.
    named = "" if local.rsplit(".", 1)[-1] == written else f" ({written})"
    plan = _plan(scan.path, call.text, new, imports)
    return Move(
        kind=kind,
        hypothesis=f"In {scan.path}, replace {call.where()} with `{shown}`{named}: {target.description}",
        plan=f"{plan}; {keeping.note}" if keeping.note else plan,
        expected_effect=target.description,
        score=0.0,
        edits=(Edit(scan.path, call.start, call.end, call.text, new), *keeping.edits),
        imports=imports,
        target=written,
        family=target.family,
        keywords=target.keywords,
        call=call,
        spec=target,
        changes=(Change(kind, scan.path, call.where(), written, target.family, value=_compact(new),
                        result_key=keeping.key),),
    )


def _carries(src: Spec, target: Spec, name: str) -> bool:
    """Whether an estimator keyword keeps its meaning on ``target`` (same knob, or a plain option)."""
    old = src.knob_named(name)
    if old is None:
        return name in target.params
    new = target.knob(old.key)
    return new is not None and new.name == name


def _knob_moves(survey: Survey, scan: FileScan, call: CallSite) -> list[Move]:
    spec = call.spec
    assert spec is not None
    positional = _positional_names(call, spec)
    if positional is None:
        return []
    current = {a.keyword or positional[i]: a.value for i, a in enumerate(call.args)}
    out: list[Move] = []
    for knob in spec.knobs:
        if knob.requires is not None and knob.requires not in survey.call_keywords:
            continue
        for i, value in enumerate(knob.values):
            now = current.get(knob.name)
            if (now is not None and _same(now, value)) or (now is None and _is_default(value, knob)):
                continue
            new = rewrite_call(call, values={knob.name: value}, positional_names=positional)
            out.append(_knob_move(survey, scan, call, knob, value, now, new, i))
    return out


def _knob_move(
    survey: Survey, scan: FileScan, call: CallSite, knob: Knob, value: str, now: str | None, new: str,
    rank: int,
) -> Move:
    spec = call.spec
    assert spec is not None
    was = now if now is not None else "default"
    w = WEIGHTS
    if spec.role == "estimator":
        kind: MoveKind = "estimator-knob"
        score = w.estimator_knob - w.value_order * rank
    else:
        kind = "reward-knob"
        prior = w.reward_wrapper_knob if spec.role == "reward-wrapper" else w.reward_model_knob
        score = (prior - w.value_order * rank if survey.reward_in_use
                 else w.reward_knob_idle - w.value_order_idle * rank)
    return Move(
        kind=kind,
        hypothesis=f"In {scan.path}, set `{knob.name}={value}` on {call.where()}{_named(call)} (was {was}): "
        f"{knob.help}",
        plan=_plan(scan.path, call.text, new, ()),
        expected_effect=f"{knob.help} ({spec.name})",
        score=score,
        edits=(Edit(scan.path, call.start, call.end, call.text, new),),
        target=spec.name,
        family=spec.family,
        keywords=(*spec.keywords, knob.key, knob.name.strip("_")),
        call=call,
        spec=spec,
        changes=(Change(kind, scan.path, call.where(), spec.name, spec.family, knob.key, knob.name,
                        _compact(now) if now is not None else "", value),),
    )


def _named(call: CallSite) -> str:
    """" (ClassName)" when the call goes through an alias that hides the class, else ""."""
    return "" if call.callee.rsplit(".", 1)[-1] == call.name else f" ({call.name})"


def _fold_moves(survey: Survey, scan: FileScan, call: CallSite) -> list[Move]:
    arg = call.keyword(FOLDS_KEYWORD)
    assert arg is not None
    out: list[Move] = []
    for i, value in enumerate(FOLD_VALUES):
        if _same(arg.value, value):
            continue
        new = rewrite_call(call, values={FOLDS_KEYWORD: value})
        out.append(Move(
            kind="folds",
            hypothesis=f"In {scan.path}, set `{FOLDS_KEYWORD}={value}` on {call.where()} (was {arg.value})",
            plan=_plan(scan.path, call.text, new, ()),
            expected_effect=_FOLDS_EFFECT,
            score=(WEIGHTS.folds - WEIGHTS.fold_order * i if survey.reward_in_use
                   else WEIGHTS.folds_idle - WEIGHTS.value_order_idle * i),
            edits=(Edit(scan.path, call.start, call.end, call.text, new),),
            target=call.name,
            keywords=("cross fitting", "crossfitting", "folds", "n folds", "fold"),
            call=call,
            changes=(Change("folds", scan.path, call.where(), call.name, keyword=FOLDS_KEYWORD,
                            was=_compact(arg.value), value=value),),
        ))
    return out


def _reference(scan: FileScan, call: CallSite, spec: Spec) -> tuple[str, str, tuple[Import, ...]] | None:
    """(how the file names ``spec``'s class, the class name as written, imports to add): an existing
    import, the call's own module prefix, or a new ``from module import Name``; None if that name is
    taken by something else in the file. Legacy calls get the legacy name of the class."""
    use_legacy = call.legacy and spec.legacy_name is not None and spec.legacy_module is not None
    name = spec.legacy_name if use_legacy and spec.legacy_name else spec.name
    module = spec.legacy_module if use_legacy and spec.legacy_module else spec.module
    root = ROOTS[spec.library]
    for local, origin in scan.bindings:
        if "." in origin and origin.split(".", 1)[0] == root and origin.rsplit(".", 1)[1] == name:
            return local, name, ()
    if "." in call.callee and call.qualified.rsplit(".", 1)[0] == module:
        return f"{call.callee.rsplit('.', 1)[0]}.{name}", name, ()
    if name in scan.defined or scan.binding(name) is not None:
        return None
    return name, name, (Import(scan.path, module, name),)


def _positional_names(call: CallSite, spec: Spec) -> dict[int, str] | None:
    """Parameter names of the call's positional arguments, or None if they cannot be named."""
    out: dict[int, str] = {}
    for i, arg in enumerate(call.args):
        if arg.keyword is None:
            if i >= len(spec.params):
                return None
            out[i] = spec.params[i]
    return out


def _literal(text: str) -> tuple[bool, object]:
    try:
        return True, ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError):
        return False, None


def _same(a: str, b: str) -> bool:
    ok_a, va = _literal(a)
    ok_b, vb = _literal(b)
    return bool(va == vb) if ok_a and ok_b else a.strip() == b.strip()


def _is_default(value: str, knob: Knob) -> bool:
    ok, v = _literal(value)
    default: Scalar = knob.default
    return ok and default is not None and v == default


def _compact(text: str) -> str:
    return " ".join(text.split()).replace("( ", "(").replace(", )", ")").replace(",)", ")")


def _plan(path: str, old: str, new: str, imports: tuple[Import, ...]) -> str:
    plan = f"In {path}, replace the call `{_compact(old)}` with `{_compact(new)}`"
    if imports:
        plan += "; add " + ", ".join(f"`from {i.module} import {i.name}`" for i in imports)
    return plan
