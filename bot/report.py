"""The run report in markdown: deltas table, per-seed detail, history, totals.

The renderers are pure functions of result objects so the GitHub layer can reuse them for PR bodies
and sticky comments. The plot is :mod:`bot.plot`; :func:`write_report` writes both.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from bot.decision import Assessment, Criteria, GuardrailCheck, assess
from bot.plot import plot_objective
from bot.results import EvalResult, IterationSummary, RunSummary
from bot.stats import Goal, compare

DASH = "—"
#: The icon before each objective outcome in a deltas table.
OUTCOME_ICON = {"better": "⚡", "worse": "❌", "within noise": "➖", "undecided": "❔"}
_HYPOTHESIS_CHARS = 80
_REASON_CHARS = 60
# Characters that would end a table cell, start code/links/emphasis or escape the next character.
# "_" is left alone: CommonMark ignores it inside words, and metric names are full of it.
_MD_SPECIAL = re.compile(r"([\\`*\[\]|])")


def fmt_num(value: float) -> str:
    """``value`` with 4 significant digits; returns "—" for NaN."""
    return DASH if math.isnan(value) else f"{value:.4g}"


def fmt_pct(fraction: float) -> str:
    """``fraction`` (0.231) as a signed percentage with one decimal ("+23.1%"), three significant digits
    from a million percent on ("+5.01e+09%"); "—" for NaN."""
    if math.isnan(fraction):
        return DASH
    return f"{fraction * 100:+.1f}%" if abs(fraction) < 1e4 else f"{fraction * 100:+.3g}%"


def fmt_delta(value: float) -> str:
    """A difference with 4 significant digits and an explicit sign ("+0.0123"); "—" for NaN."""
    return DASH if math.isnan(value) else f"{value:+.4g}"


def md_escape(text: str, limit: int | None = None) -> str:
    """``text`` as one line of literal markdown (safe inside a table cell), cut to ``limit`` chars.

    Returns the escaped text; whitespace runs (newlines included) become one space, and HTML is
    neutralised because agent and human text ends up in PR comments. Raises nothing.
    """
    flat = " ".join(text.split())
    if limit is not None and len(flat) > limit:
        # Cut before escaping so the ellipsis never splits an escape sequence.
        flat = flat[: limit - 1].rstrip() + "…"
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", flat)


def _mean_sd(result: EvalResult, metric: str) -> str:
    n = len(result.values(metric))
    if n == 0:
        return DASH
    return f"{fmt_num(result.mean(metric))} ± {fmt_num(result.stdev(metric))} (n={n})"


def _arrow(goal: Goal) -> str:
    return "↓" if goal == "minimize" else "↑"


def objective_cell(assessment: Assessment) -> str:
    """The objective's verdict with its icon, e.g. "⚡ better (won 5/5 seeds)"."""
    decision = assessment.objective
    return f"{OUTCOME_ICON[decision.outcome]} {decision.label}"


def _guardrail_cell(check: GuardrailCheck) -> str:
    if check.allowance.max_regression is None and check.holds:
        return f"➖ {check.label}"
    return f"{'✅' if check.holds else '❌'} {check.label}"


def deltas_table(base: EvalResult, head: EvalResult, criteria: Criteria) -> str:
    """A CodSpeed-style markdown table comparing ``head`` against ``base``: the objective, then each
    guardrail.

    Returns the table: base and head as "mean ± sd (n=…)" over their own successful seeds, Δ and Δ%
    from the paired comparison (Δ% = change relative to the base mean), and the verdict of the one
    rule (:mod:`bot.decision`): for the objective better / worse / within noise / undecided with the
    seeds the head won, for a guardrail within or breaks its allowance. The arrow after the metric
    shows which direction is better. Raises nothing.
    """
    assessment = assess(base, head, criteria)
    verdicts = {criteria.metric: objective_cell(assessment)}
    for check in assessment.guardrails:
        verdicts.setdefault(check.allowance.metric, _guardrail_cell(check))
    rows = ["| metric | base | head | Δ | Δ% | verdict |", "|---|---:|---:|---:|---:|:---|"]
    for metric, goal in criteria.goals.items():
        comparison = compare(base, head, metric, goal)
        cells = [
            f"{md_escape(metric)} {_arrow(goal)}",
            _mean_sd(base, metric),
            _mean_sd(head, metric),
            fmt_delta(comparison.delta),
            fmt_pct(comparison.relative),
            verdicts[metric],
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _seed_cell(result: EvalResult, seed: int, metric: str) -> tuple[str, float]:
    """The cell text and the value (NaN unless ok) of ``seed`` in ``result``."""
    for seed_result in result.seeds:
        if seed_result.seed != seed:
            continue
        if not seed_result.ok:
            return f"failed ({seed_result.failure or 'unknown'})", math.nan
        value = seed_result.metrics.get(metric, math.nan)
        return (fmt_num(value) if metric in seed_result.metrics else "missing"), value
    return DASH, math.nan


def per_seed_table(base: EvalResult, head: EvalResult, metric: str) -> str:
    """A markdown table of ``metric`` per seed for ``base`` and ``head`` with their difference.

    Returns the table over the union of seeds (base order first); a failed seed shows its failure
    kind, a seed one side did not run shows "—", and Δ is shown only when both sides have a value.
    Raises nothing.
    """
    seeds = list(dict.fromkeys([s.seed for s in base.seeds] + [s.seed for s in head.seeds]))
    rows = ["| seed | base | head | Δ |", "|---:|---:|---:|---:|"]
    for seed in seeds:
        base_text, base_value = _seed_cell(base, seed, metric)
        head_text, head_value = _seed_cell(head, seed, metric)
        rows.append(f"| {seed} | {base_text} | {head_text} | {fmt_delta(head_value - base_value)} |")
    return "\n".join(rows)


def _is_failed(it: IterationSummary) -> bool:
    return it.status in ("failed", "flagged") or it.search is None


def _status_cell(it: IterationSummary) -> str:
    if it.failure_kind == "not_validated":
        return "did not validate"
    if it.status in ("failed", "flagged") and it.failure_reason:
        return f"{it.status}: {md_escape(it.failure_reason, _REASON_CHARS)}"
    return it.status


def _confirmed_cell(it: IterationSummary) -> str:
    return {True: "✅ yes", False: "❌ no", None: DASH}[it.confirmed]


def history_table(summary: RunSummary) -> str:
    """A markdown table with one row per iteration; the winner's number carries a 🏆.

    Returns the table (header only when there are no iterations): persona, the hypothesis shortened
    and escaped, status (with the failure reason), the search-seed mean of the objective, its paired
    change relative to the baseline and whether it confirmed on held-out seeds. Raises nothing.
    """
    rows = [
        "| # | persona | hypothesis | status | objective (search mean) | Δ% vs baseline | confirmed |",
        "|---:|---|---|---|---:|---:|:---:|",
    ]
    for it in summary.iterations:
        number = f"{it.iteration} 🏆" if it.iteration == summary.winner else str(it.iteration)
        objective = relative = math.nan
        if it.search is not None and not _is_failed(it):
            objective = it.search.mean(summary.metric)
            relative = compare(summary.baseline_search, it.search, summary.metric, summary.goal).relative
        rows.append(
            f"| {number} | {md_escape(it.persona)} | {md_escape(it.hypothesis, _HYPOTHESIS_CHARS)}"
            f" | {_status_cell(it)} | {fmt_num(objective)} | {fmt_pct(relative)} | {_confirmed_cell(it)} |"
        )
    return "\n".join(rows)


def _fmt_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _held_out(summary: RunSummary, best: IterationSummary) -> tuple[EvalResult, EvalResult, str]:
    """Baseline and winner results to report: held-out seeds when both exist, else search seeds."""
    if summary.baseline_confirm is not None and best.confirm is not None:
        return summary.baseline_confirm, best.confirm, "held-out"
    # A winner always has search results; an empty result renders as "—" rather than crashing.
    return summary.baseline_search, best.search or EvalResult(tree="", seeds=[]), "search"


def _verdict_line(summary: RunSummary) -> str:
    best = summary.best
    if best is None:
        reason = md_escape(summary.reason) if summary.reason else "no candidate beat the baseline."
        return f"**No improvement:** {reason}"
    base, head, kind = _held_out(summary, best)
    decision = assess(base, head, Criteria.of_run(summary)).objective
    metric = md_escape(summary.metric)
    if decision.improvement > 0:
        line = f"iteration {best.iteration} improves {metric} by {abs(decision.improvement):.1%}"
    else:
        line = f"iteration {best.iteration} changes {metric} by {fmt_pct(decision.comparison.relative)}"
    return f"**Winner:** {line} on {kind} seeds: {decision.label}."


def _fence(text: str, lang: str) -> str:
    # A fence longer than any backtick run inside the text, so a diff can never close it early.
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text.rstrip(chr(10))}\n{fence}"


def _details(summary_text: str, body: str) -> str:
    # Blank lines around the body: GitHub only renders markdown inside <details> when separated.
    return f"<details>\n<summary>{summary_text}</summary>\n\n{body}\n\n</details>"


def _winner_sections(summary: RunSummary, best: IterationSummary) -> list[str]:
    base, head, kind = _held_out(summary, best)
    parts = [
        f"## Iteration {best.iteration} vs baseline ({kind} seeds)",
        deltas_table(base, head, Criteria.of_run(summary)),
    ]
    detail = []
    if best.search is not None:
        detail += ["**Search seeds**", per_seed_table(summary.baseline_search, best.search, summary.metric)]
    if summary.baseline_validation is not None and best.validation is not None:
        detail += ["**Validation seeds**",
                   per_seed_table(summary.baseline_validation, best.validation, summary.metric)]
    if summary.baseline_confirm is not None and best.confirm is not None:
        detail += [
            "**Held-out seeds**",
            per_seed_table(summary.baseline_confirm, best.confirm, summary.metric),
        ]
    if detail:
        parts.append(_details("Per-seed detail", "\n\n".join(detail)))
    quote = "\n".join(f"> {md_escape(line)}" for line in best.hypothesis.splitlines() if line.strip())
    parts += [f"## Winning change ({md_escape(best.persona)})", quote or f"> {DASH}"]
    if best.diff.strip():
        parts.append(_fence(best.diff, "diff"))
    return parts


def _totals(summary: RunSummary) -> str:
    tokens = sum(it.tokens for it in summary.iterations)
    usd = sum(it.usd for it in summary.iterations)
    iteration_time = sum(it.duration_s for it in summary.iterations)
    baselines = [r for r in (summary.baseline_search, summary.baseline_confirm) if r is not None]
    baseline_time = sum(s.duration_s for r in baselines for s in r.seeds)
    items = [f"- Tokens: {tokens:,}"]
    if usd > 0:
        # Cents hide the cost of cheap runs; show more digits below one cent.
        items.append(f"- Cost: ${usd:.2f}" if usd >= 0.01 else f"- Cost: ${usd:.4f}")
    items.append(f"- Wall time: {_fmt_duration(iteration_time)} in iterations")
    n_seeds = sum(len(r.seeds) for r in baselines)
    items.append(f"- Baseline evaluation: {_fmt_duration(baseline_time)} over {n_seeds} seeds")
    return "\n".join(items)


def render_markdown(summary: RunSummary, plot_name: str | None = "plot.png") -> str:
    """The whole run report as markdown.

    Returns the report: title, one-line verdict, the winner's deltas on held-out seeds (objective and
    guardrails) with per-seed detail, its hypothesis and diff, the iteration history, totals and the
    plot link (omitted when ``plot_name`` is None). Works for runs without a winner and with zero
    iterations. Raises KeyError if ``summary.winner`` names an iteration that is not in the summary.
    """
    failed = sum(1 for it in summary.iterations if _is_failed(it))
    context = (
        f"Agent `{md_escape(summary.agent)}` · base `{summary.base_commit[:12]}` · objective "
        f"{md_escape(summary.metric)} ({summary.goal}) · "
        f"{len(summary.iterations)} iterations, {failed} failed"
    )
    parts = [f"# GrowthHacker run {md_escape(summary.run_id)}", _verdict_line(summary), context]
    if summary.stopped_early:
        parts.append(f"Stopped early: {md_escape(summary.stopped_early)}")
    if summary.branch:
        parts.append(f"Branch: `{md_escape(summary.branch)}`")
    best = summary.best
    if best is not None:
        if summary.reason:
            parts.append(f"Selection: {md_escape(summary.reason)}")
        parts += _winner_sections(summary, best)
    else:
        baseline = _mean_sd(summary.baseline_search, summary.metric)
        parts.append(f"Baseline {md_escape(summary.metric)} on search seeds: {baseline}")
    parts += ["## Iterations", history_table(summary) if summary.iterations else "No iterations ran."]
    parts += ["## Totals", _totals(summary)]
    if plot_name is not None:
        parts.append(f"![{md_escape(summary.metric)} per iteration]({plot_name})")
    return "\n\n".join(parts) + "\n"


def write_report(summary: RunSummary, out_dir: Path) -> tuple[Path, Path]:
    """Write ``out_dir/report.md`` and ``out_dir/plot.png`` (creating ``out_dir``).

    Returns ``(report_path, plot_path)``. Raises OSError if either file cannot be written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_path = plot_objective(summary, out_dir / "plot.png")
    report_path = out_dir / "report.md"
    report_path.write_text(render_markdown(summary, plot_name=plot_path.name), encoding="utf-8")
    return report_path, plot_path
