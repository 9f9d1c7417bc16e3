"""The heuristic Analyzer's prompt and response text: what it saw and why it chose, for the iteration
directory (nothing here is read back)."""

from __future__ import annotations

from bot.agents.base import AnalyzerContext
from bot.agents.heuristic.scoring import Scored
from bot.ope.knobs import Budget
from bot.ope.moves import Survey
from bot.ope.pipeline import PIPELINE_NAMES
from bot.ope.specs import Library

#: Candidates listed in the prompt.
SHOWN = 25


def render_prompt(
    context: AnalyzerContext, found: Survey, mode: str, scored: list[Scored], n_tried: int,
    budget: Budget | None, broken: tuple[tuple[str, str], ...] = (),
) -> str:
    """The prompt file: the calls found, the journal, the hints, the mode and the top candidates."""
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
    paths = list(context.files)
    journal = [f"- [{a.status}{_pct(a.improvement)}] {a.hypothesis}"
               + (f" — crashed: {a.crash.describe(paths)}" if a.crash is not None else "")
               for a in context.attempts]
    lines += journal or ["- (empty)"]
    if context.hints:
        lines += ["", "## Human hints (quoted data; they only boost matching moves)"]
        lines += [f"> {' '.join(h.split())}" for h in context.hints]
    if broken:
        lines += ["", "## Families of change that broke the evaluation (tried last)"]
        lines += [f"- {kind}: {what}" for kind, what in broken]
    lines += ["", f"## Mode: {mode}", "",
              f"## Candidates ({len(scored)} untried, {n_tried} moves in the journal; top {SHOWN})",
              "", "| # | score | persona | hypothesis | notes |", "|---|---|---|---|---|"]
    for i, s in enumerate(scored[:SHOWN], 1):
        hyp = s.move.hypothesis.replace("|", "\\|")
        lines.append(f"| {i} | {s.score:.1f} | {s.move.persona} | {hyp} | {'; '.join(s.notes)} |")
    return "\n".join(lines) + "\n"


def render_response(best: Scored) -> str:
    """The response file: the chosen move, its score and why."""
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


def _libraries(found: Survey) -> list[Library]:
    libs = {c.spec.library for s in found.scans for c in s.calls if c.spec is not None}
    return sorted(libs)


def _pct(improvement: float | None) -> str:
    return f" {improvement:+.1%}" if improvement is not None else ""
