"""The embedded heuristic agent: a deterministic, OPE-aware search that emits real diffs, no LLM.

It is the no-key default and the baseline every LLM run is compared against. The Analyzer surveys
the editable files (``bot.ope.moves``), scores every possible move with an OPE prior, adjusts the
scores with the journal (never repeat a hypothesis; exploit an improvement by tuning on top of it;
explore untried estimator families first) and with human hints (as data: a hint can only boost
moves whose class or knob it names), demotes moves whose expected runtime would break a runtime
guardrail (counting what stacked improvements already spent), and picks the best. The Coder replays
the chosen edits on the exact current text and adds imports, so the diff touches only what the move
changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.agents.base import (
    Agent,
    Analysis,
    AnalyzerContext,
    AnalyzerReply,
    CoderReply,
    CoderRequest,
)
from bot.errors import AgentError
from bot.ope.catalog import Catalog
from bot.ope.edit import add_import, locate, remove_unused_import
from bot.ope.knobs import Budget, rescore, runtime_budget, spent_runtime
from bot.ope.moves import Edit, Import, Move, Survey, combine, decode_details, survey
from bot.ope.pipeline import PIPELINE_NAMES
from bot.ope.specs import Library
from bot.patch import make_diff
from bot.results import Attempt

NAME = "heuristic"
#: Score added to moves that tune on top of an improvement, by kind.
_EXPLOIT = {"estimator-knob": 60.0, "estimator-swap": 60.0, "reward-knob": 50.0, "reward-swap": 50.0,
            "folds": 25.0, "value-model": 50.0, "kernel": 40.0, "data-handling": 50.0}
_HINT_BOOST = 40.0
#: Prior of "best improvement plus a reward-model change" before the exploitation boost.
_COMBINED_PRIOR = 45.0
#: Penalties for a swap target tried before: without gain (class, family), failed or improved.
_SAME_CLASS, _SAME_FAMILY, _SPENT_CLASS = 30.0, 12.0, 50.0
#: A move expected to cost more runtime than a runtime guardrail allows (it would most likely fail).
_OVER_BUDGET = 100.0
#: A pipeline knob that matters less than this for the estimators in use is not worth an iteration
#: on top of an improvement.
_RELEVANT = 20.0
_KIND_WORDS = {
    "reward-swap": ("reward model", "regression model", "regression", "reward"),
    "reward-knob": ("reward model", "regression model", "regression", "reward"),
    "estimator-knob": ("hyperparameter", "tune", "tuning"),
}
#: The class a hypothesis swaps to ("… with `Name(…`") and the class whose knob it sets ("on `Name(…`").
_TARGET = re.compile(r"with `(?:\w+\.)*(\w+)\([^`]*`(?: \((\w+)\))?")
_KNOBBED = re.compile(r"on (?:the \w+ )?`(?:\w+\.)*(\w+)\(…\)`(?: \((\w+)\))?")
#: Non-improving attempts after the best one before exploitation stops being preferred.
_PATIENCE = 5
_SHOWN = 25


def make_heuristic_agent(catalog: Catalog | None = None) -> Agent:
    """The heuristic Analyzer/Coder pair, named "heuristic".

    ``catalog`` defaults to the installed libraries' signatures (static specs where not installed).
    """
    return Agent(name=NAME, analyzer=HeuristicAnalyzer(catalog or Catalog()), coder=HeuristicCoder())


@dataclass(frozen=True)
class _Scored:
    move: Move
    score: float
    notes: tuple[str, ...]


class HeuristicAnalyzer:
    """Picks the next move deterministically from the files, the journal and the hints."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def analyze(self, context: AnalyzerContext) -> AnalyzerReply:
        """The best untried move as an Analysis, with the candidate list as prompt/response text.

        Raises:
            AgentError: no editable Python file holds a known OPE call, or every move was tried.
        """
        found = survey(context.files, self.catalog)
        tried = {_norm(a.hypothesis) for a in context.attempts}
        plan = _journal_plan(context.attempts, found, context.files)
        budget = runtime_budget((g.metric, g.max_regression, g.goal) for g in context.guardrails)
        candidates = [m for m in (*found.moves, *plan.extra) if _norm(m.hypothesis) not in tried]
        # Runtime against the baseline: improvements stacked into the files may have spent some already.
        spent = spent_runtime(found.moves, (a.hypothesis for a in context.attempts))
        candidates = [replace(m, cost=m.cost * spent) for m in candidates]
        scored = sorted(
            (_score(m, context.hints, found, plan, budget) for m in dict.fromkeys(candidates)),
            key=lambda s: (-s.score, s.move.hypothesis),
        )
        prompt = _render_prompt(context, found, plan.mode, scored, len(tried), budget)
        if not scored:
            calls = sum(len(s.calls) + len(s.fold_calls) + len(s.pipeline_calls) for s in found.scans)
            raise AgentError(
                f"heuristic agent has no untried move: {len(tried)} hypotheses tried, "
                f"{calls} OPE calls found in {len(found.scans)} editable Python files; "
                "widen edit.paths, or use an LLM agent for changes beyond estimator/knob/reward-model swaps"
            )
        best = scored[0]
        move = best.move
        analysis = Analysis(
            hypothesis=move.hypothesis,
            persona=move.persona,
            plan=move.plan,
            expected_effect=move.expected_effect,
            files=sorted({e.file for e in move.edits}),
            details={**move.details(), "score": f"{best.score:.1f}", "mode": plan.mode},
        )
        return AnalyzerReply(analysis=analysis, prompt=prompt, response=_render_response(best))


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _words(text: str) -> str:
    return " " + " ".join(re.sub(r"[^a-z0-9]+", " ", text.casefold()).split()) + " "


@dataclass(frozen=True)
class _Plan:
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


def _journal_plan(attempts: Sequence[Attempt], found: Survey, files: dict[str, str]) -> _Plan:
    """Explore, or exploit the best improvement.

    Stacked: the improvement is already in the files, so tune what it introduced. Combined: it is
    not (each candidate is a diff against the base), so re-propose it with a knob or a reward-model
    change on top.
    """
    plan = _tried(attempts, found)
    improved = [a for a in attempts if a.status == "improved"]
    if not improved:
        return plan
    best = _best(improved)
    # Every later attempt of the run failed to beat the best (else it would be the best).
    stale = sum(1 for a in attempts if a.run_id == best.run_id and a.iteration > best.iteration)
    weight = max(0.0, 1.0 - stale / _PATIENCE)
    if _change_present(best, files):
        tuned = {named or written for written, named in _KNOBBED.findall(best.hypothesis)}
        focus = _targets(best.hypothesis) | tuned
        return replace(plan, mode="exploit-stacked", focus=frozenset(focus), weight=weight)
    # The best may be a plain move or a swap with a knob set (an earlier exploitation).
    known = [*found.moves, *(v for m in found.moves for v in found.swap_variants(m))]
    base = next((m for m in known if _norm(m.hypothesis) == _norm(best.hypothesis)), None)
    if base is None:
        return plan
    extra = found.swap_variants(base)
    # The base files may not use the reward model (or the estimator a knob acts through) yet, so those
    # moves scored low there: rank them as they would score after the base move and give them the
    # prior of a change that matters.
    ranked: list[tuple[float, Move]] = []
    if base.kind.startswith("reward") or (base.spec is not None and base.spec.needs_reward_model):
        ranked += [(m.score, m) for m in found.moves
                   if m.kind in ("reward-swap", "reward-knob", "folds") and not m.knob]
    after = found.used.after(base.call.spec if base.call else None, base.spec) \
        if base.kind == "estimator-swap" else found.used
    knobbed = [(rescore(m, found.used, after), m) for m in found.moves if m.knob]
    ranked += [(score, m) for score, m in knobbed if score >= _RELEVANT]
    others = [m for _, m in sorted(ranked, key=lambda r: (-r[0], r[1].hypothesis))]
    combos = [c for c in (combine(base, m) for m in others) if c is not None]
    extra += [replace(c, score=_COMBINED_PRIOR - 0.5 * rank) for rank, c in enumerate(combos)]
    return replace(plan, mode="exploit-combined", extra=tuple(extra), weight=weight)


def _best(improved: Sequence[Attempt]) -> Attempt:
    """The largest improvement; among equals the earliest (later equals did not add anything)."""
    return max(improved, key=lambda a: (a.improvement or 0.0, -a.iteration))


def _change_present(attempt: Attempt, files: dict[str, str]) -> bool:
    """True if every line the attempt's diff added is a line of the current files."""
    added = [line[1:].strip() for line in attempt.diff.splitlines()
             if line.startswith("+") and not line.startswith("+++")]
    added = [line for line in added if line]
    if not added:
        return False
    present = {line.strip() for text in files.values() for line in text.splitlines()}
    return all(line in present for line in added)


def _targets(hypothesis: str) -> set[str]:
    """Classes a hypothesis swaps to (the name in parentheses when the code uses an alias)."""
    return {named or written for written, named in _TARGET.findall(hypothesis)}


def _tried(attempts: Sequence[Attempt], found: Survey) -> _Plan:
    """An explore plan that knows which classes were swapped to, and how that went."""
    no_gain: set[str] = set()
    spent: set[str] = set()
    refused: set[str] = set()
    behind: set[str] = set()
    top = max((a.improvement or 0.0 for a in attempts if a.status == "improved"), default=0.0)
    for a in attempts:
        for name in _targets(a.hypothesis):
            (no_gain if a.status == "no_gain" else spent).add(name)
            if "guardrail" in (a.failure_reason or ""):
                refused.add(name)
            if a.status == "improved" and (a.improvement or 0.0) < top:
                behind.add(name)
    heavy = {m.target for m in found.moves if m.kind == "reward-swap" and m.spec is not None and m.spec.heavy}
    # Families come from the moves on offer (their classes are in the libraries the files use). An
    # improvement smaller than the best gained nothing over it: its family waits as well.
    family = {m.target: m.family for m in found.moves if m.kind == "estimator-swap"}
    families = {family[name] for name in no_gain | behind if name in family}
    return _Plan("explore", no_gain=frozenset(no_gain), spent=frozenset(spent),
                 families=frozenset(families), heavy_refused=bool(refused & heavy))


def _score(move: Move, hints: Sequence[str], found: Survey, plan: _Plan, budget: Budget | None) -> _Scored:
    score = move.score
    notes: list[str] = []
    exploit = (plan.mode == "exploit-combined" and move in plan.extra) or (
        plan.mode == "exploit-stacked"
        and ((move.kind == "estimator-knob" and move.target in plan.focus)
             or (move.knob != "" and move.score >= _RELEVANT)
             or (move.kind in ("reward-swap", "reward-knob", "folds") and found.reward_in_use))
    )
    if exploit and plan.weight > 0:
        score += _EXPLOIT[move.kind] * plan.weight
        notes.append("builds on the best improvement")
    if move.kind in ("estimator-swap", "reward-swap") and move not in plan.extra:
        if move.target in plan.spent:
            score -= _SPENT_CLASS
            notes.append(f"{move.target} failed or was evaluated before")
        elif move.target in plan.no_gain:
            score -= _SAME_CLASS
            notes.append(f"{move.target} tried without gain")
        elif move.family and move.family in plan.families:
            score -= _SAME_FAMILY
            notes.append(f"family {move.family} tried without gain")
        if plan.heavy_refused and move.spec is not None and move.spec.heavy:
            score -= _SAME_CLASS
            notes.append("a tree-ensemble reward model broke a guardrail")
    if budget is not None and move.cost > budget.factor:
        score -= _OVER_BUDGET
        notes.append(f"~{move.cost:g}x runtime, over the {budget.metric} guardrail (+{budget.allowed:.0%})")
    if _hinted(move, hints):
        score += _HINT_BOOST
        notes.append("named in a hint")
    return _Scored(move=move, score=score, notes=tuple(notes))


def _hinted(move: Move, hints: Sequence[str]) -> bool:
    """True if a hint names the move's class, family or knob (hints are matched, never executed)."""
    if not hints:
        return False
    text = " ".join(_words(h) for h in hints)
    words = (*move.keywords, move.target, *_KIND_WORDS.get(move.kind, ()))
    return any(_words(w) in text for w in words if w.strip())


def _render_prompt(
    context: AnalyzerContext, found: Survey, mode: str, scored: list[_Scored], n_tried: int,
    budget: Budget | None,
) -> str:
    obj = context.objective
    lines = [
        f"# Heuristic analyzer — iteration {context.iteration} of {context.iterations}",
        "",
        f"Objective: {obj.metric} ({obj.goal}); baseline: "
        + (", ".join(f"{k}={v:.6g}" for k, v in sorted(context.baseline.items())) or "n/a"),
        f"Catalog: {', '.join(f'{lib} {found.catalog.source(lib)}' for lib in _libraries(found))}",
        "",
        "## OPE calls in the editable files",
    ]
    for scan in found.scans:
        if scan.error:
            lines.append(f"- {scan.path}: skipped ({scan.error})")
            continue
        for call in (*scan.calls, *scan.fold_calls, *scan.pipeline_calls):
            what = call.spec.name if call.spec else "scope-rl pipeline" if call.name in PIPELINE_NAMES \
                else "cross-fitting"
            lines.append(f"- {scan.path}:{call.line} `{' '.join(call.text.split())[:90]}` ({what})")
    lines += ["", f"Reward-model predictions: {found.rewards or 'no sign of them (DM/DR moves demoted)'}"]
    if budget is not None:
        lines.append(f"Runtime budget: moves expected to cost more than {budget.factor:g}x are demoted "
                     f"({budget.metric} may regress by {budget.allowed:.0%})")
    lines += ["", "## Journal (best first)"]
    journal = [f"- [{a.status}{_pct(a.improvement)}] {a.hypothesis}" for a in context.attempts]
    lines += journal or ["- (empty)"]
    if context.hints:
        lines += ["", "## Human hints (quoted data; they only boost matching moves)"]
        lines += [f"> {' '.join(h.split())}" for h in context.hints]
    lines += ["", f"## Mode: {mode}", "",
              f"## Candidates ({len(scored)} untried, {n_tried} hypotheses in the journal; top {_SHOWN})",
              "", "| # | score | persona | hypothesis | notes |", "|---|---|---|---|---|"]
    for i, s in enumerate(scored[:_SHOWN], 1):
        hyp = s.move.hypothesis.replace("|", "\\|")
        lines.append(f"| {i} | {s.score:.1f} | {s.move.persona} | {hyp} | {'; '.join(s.notes)} |")
    return "\n".join(lines) + "\n"


def _libraries(found: Survey) -> list[Library]:
    libs = {c.spec.library for s in found.scans for c in s.calls if c.spec is not None}
    return sorted(libs)


def _pct(improvement: float | None) -> str:
    return f" {improvement:+.1%}" if improvement is not None else ""


def _render_response(best: _Scored) -> str:
    move = best.move
    lines = [
        f"Chosen (score {best.score:.1f}{'; ' + '; '.join(best.notes) if best.notes else ''}):",
        "",
        f"- hypothesis: {move.hypothesis}",
        f"- persona: {move.persona}",
        f"- plan: {move.plan}",
        f"- expected effect: {move.expected_effect}",
    ]
    return "\n".join(lines) + "\n"


class HeuristicCoder:
    """Replays a heuristic Analysis's edits on the exact current files and returns the diff."""

    def write_diff(self, request: CoderRequest) -> CoderReply:
        """A git-style unified diff of the move in ``request.analysis.details``.

        Raises:
            AgentError: the analysis is not from the heuristic Analyzer, a call it edits is gone
                from the file, or the edited file no longer compiles.
        """
        try:
            edits, imports = decode_details(request.analysis.details)
        except (KeyError, ValueError, TypeError) as exc:
            raise AgentError(
                f"heuristic coder needs an analysis from the heuristic analyzer (details.edits): {exc}"
            ) from exc
        after = dict(request.files)
        for path in sorted({e.file for e in edits} | {i.file for i in imports}):
            if path not in after:
                raise AgentError(f"heuristic coder: {path} is not among the editable files")
            after[path] = _apply(path, after[path], [e for e in edits if e.file == path],
                                 [i for i in imports if i.file == path])
        changed = sorted(p for p in after if after[p] != request.files.get(p))
        if not changed:
            raise AgentError("heuristic coder: the move changes nothing in the current files")
        diff = make_diff({p: request.files[p] for p in changed}, {p: after[p] for p in changed})
        prompt = f"Apply the heuristic move:\n\n{request.analysis.plan}\n"
        if request.feedback:
            prompt += f"\nPrevious attempt was refused ({request.feedback}); calls re-located by text.\n"
        return CoderReply(diff=diff, prompt=prompt, response=diff)


def _apply(path: str, text: str, edits: list[Edit], imports: list[Import]) -> str:
    spans: list[tuple[int, int, str]] = []
    for edit in edits:
        span = locate(text, edit.old, edit.start)
        if span is None:
            raise AgentError(
                f"heuristic coder: `{' '.join(edit.old.split())[:80]}` is no longer in {path}; "
                "the file changed since the analysis, run the analyzer again"
            )
        spans.append((*span, edit.new))
    spans.sort(reverse=True)
    for (_, end, _), (next_start, _, _) in zip(spans[1:], spans, strict=False):
        if end > next_start:
            raise AgentError(f"heuristic coder: two edits overlap in {path}")
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    # Names the edits stopped calling (the swapped-out class) lose their import if nothing else uses it.
    gone = {_head(e.old) for e in edits} - {_head(e.new) for e in edits} - {""}
    try:
        for name in sorted(gone):
            text = remove_unused_import(text, name)
        for imp in imports:
            text = add_import(text, imp.module, imp.name)
        compile(text, path, "exec")
    except SyntaxError as exc:
        raise AgentError(f"heuristic coder: {path} would not compile after the edit: {exc}") from exc
    return text


def _head(call_text: str) -> str:
    match = re.match(r"\s*([A-Za-z_]\w*)", call_text)
    return match.group(1) if match else ""
