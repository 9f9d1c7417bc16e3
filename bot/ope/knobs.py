"""Moves on scope-rl's pipeline knobs: FQE steps and folds, kernel bandwidth, reward after done.

A knob is found where a pipeline sets it (a keyword or positional argument with a literal value, or
a module-level constant passed by name: then the constant is edited) or could set it (a scope-rl
call that omits it: the library default applies and the keyword is added). A value the code computes
(``n_steps=args.steps``) is left alone. The score of a move is its knob's relevance to the
estimators the files construct (``relevance``), plus a preference among its candidate values (the
weights are in ``bot.ope.weights``); its ``cost`` is the expected runtime factor (FQE steps and folds
scale the FQE fit), which the heuristic weighs against the repository's runtime guardrails.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from bot.ope.edit import rewrite_call
from bot.ope.pipeline import PIPELINE_KNOBS, KnobKey, PipelineCall, PipelineKnob
from bot.ope.proposal import Change, Edit, Move, MoveKind
from bot.ope.scan import Arg, CallSite, FileScan
from bot.ope.specs import Scalar, Spec
from bot.ope.weights import WEIGHTS

_KIND: dict[KnobKey, MoveKind] = {
    "fqe-steps": "value-model", "fqe-folds": "folds", "bandwidth": "kernel",
    "reward-after-done": "data-handling",
}
#: FQE step multipliers, and bandwidth multipliers in trying order.
_STEP_FACTORS = (2, 3, 4, 8)
_BANDWIDTH_FACTORS = (5.0, 2.0, 10.0, 0.5)
_FOLDS = (2, 3, 5)


@dataclass(frozen=True)
class InUse:
    """The scope-rl estimators the editable files construct: what a pipeline knob acts through."""

    specs: tuple[Spec, ...]

    def after(self, removed: Spec | None, added: Spec | None) -> InUse:
        """The estimators once ``removed`` is swapped for ``added`` (either may be None)."""
        specs = [s for s in self.specs if s != removed]
        return InUse(tuple(dict.fromkeys([*specs, *([added] if added is not None else [])])))


def in_use(scans: Iterable[FileScan]) -> InUse:
    """The scope-rl estimator specs constructed in ``scans``."""
    specs = (c.spec for s in scans for c in s.calls if c.spec is not None)
    return InUse(tuple(dict.fromkeys(s for s in specs if s.library == "scope-rl" and s.role == "estimator")))


def relevance(key: str, used: InUse) -> float:
    """How much knob ``key`` should matter for the estimators in ``used`` (0 when it cannot): the
    value ``WEIGHTS.relevance`` gives the situation (``unknown`` when no estimator is constructed in
    the editable files)."""
    table = WEIGHTS.relevance.get(key)
    if table is None:
        return 0.0
    return table[_situation(key, used.specs) if used.specs else "unknown"]


def _situation(key: str, specs: tuple[Spec, ...]) -> str:
    """Which of ``WEIGHTS.relevance[key]``'s situations the estimators ``specs`` are in."""
    families = {s.family for s in specs}
    weighting = [s for s in specs if s.family != "dm"]  # everything but DM reads the logged rewards
    if key == "fqe-steps":
        # DM alone: the estimate is the FQE value. Next to other estimators the objective may be theirs.
        if families == {"dm"}:
            return "dm-only"
        return "dm" if "dm" in families else "dr" if "dr" in families else "none"
    if key == "fqe-folds":
        return "dr" if "dr" in families else "dm" if "dm" in families else "none"
    if key == "bandwidth":
        kernel = [s for s in weighting if s.action_type == "continuous"]
        if not kernel:
            return "continuous-dm" if any(s.action_type == "continuous" for s in specs) else "discrete"
        return "kernel-unbounded" if any(not s.self_normalized for s in kernel) else "kernel-self-normalized"
    return "weighting" if weighting else "dm-only"  # reward-after-done


def rescore(move: Move, before: InUse, after: InUse) -> float:
    """``move``'s score if the files constructed the estimators ``after`` instead of ``before``."""
    return move.score - relevance(move.knob, before) + relevance(move.knob, after)


def pipeline_moves(scan: FileScan, call: CallSite, spec: PipelineCall, used: InUse) -> list[Move]:
    """Every knob move on ``call`` (a scope-rl pipeline call described by ``spec``)."""
    if call.args and sum(a.keyword is None for a in call.args) > len(spec.params):
        return []  # more positional arguments than the version takes: not the call we think it is
    out: list[Move] = []
    for knob in PIPELINE_KNOBS:
        if spec.name not in knob.calls or knob.keyword not in spec.params:
            continue
        if knob.key in ("fqe-steps", "fqe-folds") and not _fits(call, spec):
            continue  # FQE is not fitted by this call: its settings change nothing
        prior = relevance(knob.key, used)
        if prior <= 0:
            continue
        out += _knob_moves(scan, call, spec, knob, prior)
    return out


def skip_unused_fqe(
    move: Move, scans: Iterable[FileScan], calls: Mapping[str, PipelineCall], used: InUse
) -> Move:
    """``move`` (an estimator swap) plus switching FQE fitting off where no estimator needs it after.

    FQE dominates a scope-rl pipeline's runtime; once only importance-sampling estimators remain,
    ``require_value_prediction=True`` fits it for nothing. Only a literal True is switched off, and
    only when the files construct estimators, none of them DM or DR-family after the swap.
    """
    if move.kind != "estimator-swap" or move.call is None or move.spec is None:
        return move
    after = used.after(move.call.spec, move.spec)
    if not after.specs or any(s.family in ("dm", "dr") for s in after.specs):
        return move
    edits: list[Edit] = []
    switched: list[str] = []
    for scan in scans:
        for call in scan.pipeline_calls:
            spec = calls.get(call.name)
            arg = _argument(call, spec, spec.fits_when) if spec is not None and spec.fits_when else None
            if spec is None or spec.fits_when is None or arg is None or _value(arg.value) is not True:
                continue
            new = _set(call, arg, spec.fits_when, "False")
            edits.append(Edit(scan.path, call.start, call.end, call.text, new))
            switched.append(f"`{spec.fits_when}=False` on {call.where()}")
    if not edits:
        return move
    note = f" FQE is then unused: {', '.join(switched)} skips fitting it."
    plans = "; ".join(f"In {e.file}, replace the call `{_compact(e.old)}` with `{_compact(e.new)}`"
                      for e in edits)
    return replace(move, hypothesis=move.hypothesis + note, plan=f"{move.plan}; {plans}",
                   edits=move.edits + tuple(edits))


def _fits(call: CallSite, spec: PipelineCall) -> bool:
    if spec.fits_when is None:
        return True
    arg = _argument(call, spec, spec.fits_when)
    # A computed value may be True: keep the knob.
    return arg is not None and _value(arg.value) not in (False, None, 0)


def _argument(call: CallSite, spec: PipelineCall, name: str) -> Arg | None:
    """The argument passing parameter ``name`` (by keyword or by position), or None if omitted."""
    keyword = call.keyword(name)
    if keyword is not None or name not in spec.params:
        return keyword
    index = spec.params.index(name)
    positional = [a for a in call.args if a.keyword is None]
    return positional[index] if index < len(positional) else None


def _value(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _UNKNOWN


_UNKNOWN = object()


@dataclass(frozen=True)
class _Candidate:
    value: str
    bonus: float
    cost: float
    effect: str


def _knob_moves(
    scan: FileScan, call: CallSite, spec: PipelineCall, knob: PipelineKnob, prior: float
) -> list[Move]:
    arg = _argument(call, spec, knob.keyword)
    constant = scan.constant(arg.value.strip()) if arg is not None else None
    if constant is not None:
        current: object = _value(scan.text[constant.value_start : constant.value_end])
    else:
        current = spec.default(knob.keyword) if arg is None else _value(arg.value)
    out: list[Move] = []
    for candidate in _candidates(knob.key, current, spec.default(knob.keyword)):
        if constant is not None:
            rel = constant.value_start - constant.start
            new = constant.text[:rel] + candidate.value + constant.text[constant.value_end - constant.start :]
            edit = Edit(scan.path, constant.start, constant.end, constant.text, new)
            what = f"set `{constant.name} = {candidate.value}` (passed as `{knob.keyword}` to {call.where()})"
            plan = f"In {scan.path}, replace `{_compact(constant.text)}` with `{_compact(new)}`"
        else:
            new = _set(call, arg, knob.keyword, candidate.value)
            edit = Edit(scan.path, call.start, call.end, call.text, new)
            what = f"set `{knob.keyword}={candidate.value}` on {call.where()}"
            plan = f"In {scan.path}, replace the call `{_compact(call.text)}` with `{_compact(new)}`"
        # The value before: the library default, the constant's value, or the argument as written.
        before = repr(current) if arg is None or constant is not None else _compact(arg.value)
        was = f"default {before}" if arg is None else before
        out.append(Move(
            kind=_KIND[knob.key],
            hypothesis=f"In {scan.path}, {what} (was {was}): {knob.help}",
            plan=plan,
            expected_effect=candidate.effect,
            score=prior + candidate.bonus,
            edits=(edit,),
            target=call.name,
            keywords=knob.keywords,
            cost=candidate.cost,
            knob=knob.key,
            call=call,
            changes=(Change(_KIND[knob.key], scan.path, call.where(), call.name, knob=knob.key,
                            keyword=knob.keyword, was=before, value=candidate.value),),
        ))
    return out


def _set(call: CallSite, arg: Arg | None, keyword: str, value: str) -> str:
    """``call``'s text with the argument set to ``value``: in place (a positional argument stays
    positional, so later positional arguments remain valid), or as a new keyword argument."""
    if arg is not None and arg.keyword is None:
        return call.text[: arg.value_start - call.start] + value + call.text[arg.value_end - call.start :]
    return rewrite_call(call, values={keyword: value})


def _candidates(key: KnobKey, current: object, default: Scalar) -> list[_Candidate]:
    """Candidate values (source literals) for knob ``key`` now at ``current``; none if that is not a
    value of the expected type (computed, or a literal of the wrong kind)."""
    number = current if isinstance(current, int | float) and not isinstance(current, bool) else None
    if number is None or not math.isfinite(number) or number <= 0:
        number = None
    if key == "fqe-steps":
        known = default if isinstance(default, int) and not isinstance(default, bool) else None
        return _steps(number, known) if isinstance(number, int) else []
    if key == "fqe-folds":
        return _folds(number) if isinstance(number, int) else []
    if key == "bandwidth":
        return _bandwidths(float(number)) if number is not None else []
    if current is True:
        effect = ("keeps the reward of the step flagged done (the last step of each episode in scope-rl's "
                  "datasets) in every IS/DR estimate: removes a downward bias of about one step's reward")
        return [_Candidate("False", 0.0, 1.0, effect)]
    return []


def _steps(current: int, default: int | None) -> list[_Candidate]:
    under = default is not None and current * 4 <= default
    share = ""
    if default is not None and under:
        share = f" ({current / default:.0%} of scope-rl's default {default})"
    out: list[_Candidate] = []
    w = WEIGHTS
    for factor in _STEP_FACTORS:
        # More steps help an undertrained FQE most up to a point; beyond, cost grows faster than gain.
        bonus = w.fqe_steps_gain * math.log2(min(factor, w.fqe_steps_saturation))
        bonus -= w.fqe_steps_beyond if factor > w.fqe_steps_saturation else 0.0
        bonus += w.fqe_undertrained if under else 0.0
        effect = (f"FQE trains {factor}x longer ({current} → {current * factor} steps{share}): a better "
                  f"fitted Q-function lowers DM's bias and DR's variance; FQE time grows about {factor}x")
        out.append(_Candidate(str(current * factor), bonus, float(factor), effect))
    return out


def _folds(current: int) -> list[_Candidate]:
    out: list[_Candidate] = []
    for rank, k in enumerate(f for f in _FOLDS if f != current):
        effect = (f"cross-fits FQE over {k} folds (was {current}): each trajectory is valued by a model that "
                  f"did not see it; FQE time grows about {k / current:.3g}x")
        out.append(_Candidate(str(k), -WEIGHTS.fqe_fold_order * rank, k / current, effect))
    return out


def _bandwidths(current: float) -> list[_Candidate]:
    out: list[_Candidate] = []
    for rank, factor in enumerate(_BANDWIDTH_FACTORS):
        value = current * factor
        text = repr(float(f"{value:.6g}"))  # scope-rl checks the type: always a float literal
        wider = "a wider kernel flattens the continuous-action importance weights (less variance, more bias)"
        effect = f"kernel bandwidth {current:g} → {value:g}: " + (
            wider if factor > 1 else "a narrower kernel, less smoothing bias, more variance")
        out.append(_Candidate(text, -WEIGHTS.value_order * rank, 1.0, effect))
    return out


def _compact(text: str) -> str:
    return " ".join(text.split()).replace("( ", "(").replace(", )", ")").replace(",)", ")")



#: Knobs whose value the runtime scales with (FQE steps, FQE folds).
_COSTLY = frozenset({"fqe-steps", "fqe-folds"})


@dataclass(frozen=True)
class Setting:
    """A keyword an earlier attempt set on a call, and the value it had before (source text)."""

    keyword: str
    #: The call, named as ``Change.call`` names it.
    call: str
    was: str


def spent_runtime(moves: Iterable[Move], earlier: Iterable[Setting]) -> float:
    """The runtime factor the files already spend against the code before the journal's changes.

    The loop stacks improvements: once an attempt has doubled FQE's steps, every later candidate runs
    twice as long as the baseline a runtime guardrail compares with. Each costly knob's value now is
    the value before its moves (``moves``: the moves on the files as they are); its first value is the
    smallest value before that the journal's attempts (``earlier``) name for it (these knobs only
    ever go up).
    """
    first: dict[tuple[str, str], float] = {}
    for setting in earlier:
        old = _number(setting.was)
        if old is not None:
            key = (setting.keyword, setting.call)
            first[key] = min(old, first.get(key, old))
    now = {(c.keyword, c.call): _number(c.was) for m in moves for c in m.changes if c.knob in _COSTLY}
    factor = 1.0
    for key, value in now.items():
        base = first.get(key, value)
        if value is not None and base is not None and 0 < base < value:
            factor *= value / base
    return factor


def _number(text: str) -> float | None:
    value = _value(text)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


_RUNTIME_WORDS = frozenset({"time", "times", "seconds", "secs", "sec", "s", "runtime", "duration", "latency",
                            "wall", "cpu", "elapsed"})


@dataclass(frozen=True)
class Budget:
    """The runtime factor a move may cost before it likely breaks a runtime guardrail."""

    factor: float
    metric: str
    allowed: float


def runtime_budget(guardrails: Iterable[tuple[str, float, str]]) -> Budget | None:
    """The tightest budget of the runtime-like guardrails ``(metric, max_regression, goal)``, or None.

    A metric is runtime-like when a word of its name says so (``ope_seconds``, ``runtime_s``).
    """
    budgets = [
        Budget(1.0 + WEIGHTS.budget_share * allowed, metric, allowed)
        for metric, allowed, goal in guardrails
        if goal == "minimize" and _RUNTIME_WORDS & set(_name_words(metric))
    ]
    return min(budgets, key=lambda b: b.factor, default=None)


def _name_words(metric: str) -> list[str]:
    return [w for w in "".join(c if c.isalnum() else " " for c in metric.casefold()).split() if w]
