"""Markdown the bot posts on GitHub: PR title and body, the sticky comment, the check run summary.

Pure functions of result objects. Tables come from :mod:`bot.report` so the PR, the comment, the job
summary and the local report agree. Text written by agents or humans is escaped (``md_escape``) or
fenced; every body is cut to GitHub's 65,536-character limit by :func:`truncate_body`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.config import Config
from bot.decision import Conclusion, Criteria, assess
from bot.errors import GitHubError
from bot.github.commands import HELP_LINES
from bot.report import OUTCOME_ICON, deltas_table, fmt_num, fmt_pct, history_table, md_escape, per_seed_table
from bot.results import EvalResult, IterationSummary, RunSummary

#: GitHub rejects issue, PR and comment bodies longer than this many characters.
BODY_LIMIT = 65536
#: Marks the one comment per PR the bot edits in place after a run (optimize, iterate, undo).
STICKY_MARKER = "<!-- growthhacker:sticky -->"
#: Marks the one comment per PR the verify workflow edits in place (its own, so a verification never
#: overwrites a run's richer comment on the same PR).
VERIFY_MARKER = "<!-- growthhacker:verify -->"
_RUN_MARKER = re.compile(r"<!-- growthhacker:run=(?P<run>[A-Za-z0-9._-]+) iteration=(?P<it>\d+|none) -->")
_TITLE_CHARS = 72


def run_marker(run_id: str, iteration: int | None) -> str:
    """A hidden HTML comment tying a PR body to its run and iteration (read back by outcomes)."""
    return f"<!-- growthhacker:run={run_id} iteration={'none' if iteration is None else iteration} -->"


def parse_run_marker(text: str) -> tuple[str, int | None] | None:
    """The (run id, iteration) from a :func:`run_marker` in ``text``, or None if there is none."""
    match = _RUN_MARKER.search(text)
    if match is None:
        return None
    it = match["it"]
    return match["run"], None if it == "none" else int(it)


def replace_run_marker(text: str, run_id: str, iteration: int | None) -> str:
    """``text`` with its run marker (the first one) naming ``run_id``/``iteration`` instead.

    A text without a marker gets one on its first line. Raises nothing.
    """
    marker = run_marker(run_id, iteration)
    if _RUN_MARKER.search(text) is None:
        return f"{marker}\n{text}"
    return _RUN_MARKER.sub(lambda _: marker, text, count=1)


def truncate_body(text: str, limit: int = BODY_LIMIT, *, link: str | None = None) -> str:
    """``text`` cut to at most ``limit`` characters, with a note saying so.

    Returns ``text`` unchanged when it fits. Otherwise cuts at a line boundary, closes an open code
    fence and open ``<details>`` blocks so the rest of the page still renders, and appends a note
    linking to the full report (``link``, e.g. the workflow run) or else pointing to the job summary.
    Raises nothing.
    """
    if len(text) <= limit:
        return text
    reserve = 400  # room for the closers and the note
    cut = text[: max(0, limit - reserve)]
    if "\n" in cut:
        cut = cut[: cut.rindex("\n")]
    closers = []
    fences = re.findall(r"^(`{3,})", cut, flags=re.MULTILINE)
    if len(fences) % 2 == 1:
        closers.append(fences[-1])
    open_details = cut.count("<details>") - cut.count("</details>")
    closers += ["</details>"] * max(0, open_details)
    where = f"[the workflow run]({link}) (job summary and artifacts)" if link else (
        "the workflow run's job summary and artifacts"
    )
    note = (
        f"> [!NOTE]\n> Truncated: {len(text) - len(cut):,} more characters did not fit GitHub's "
        f"{limit:,}-character limit. The full report is in {where}."
    )
    result = "\n".join([cut, *closers, "", note])
    return result[:limit]


def _fence(text: str, lang: str = "") -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}"


def _details(summary: str, body: str) -> str:
    return f"<details>\n<summary>{summary}</summary>\n\n{body}\n\n</details>"


def _quote(text: str) -> str:
    lines = [f"> {md_escape(line)}" for line in text.splitlines() if line.strip()]
    return "\n".join(lines) or "> —"


def commands_section() -> str:
    """The "how to steer" section every bot PR and comment ends with."""
    return "### Steer GrowthHacker\nComment on this PR (first line only):\n\n" + "\n".join(HELP_LINES)


def _winner(run: RunSummary) -> IterationSummary:
    best = run.best
    if best is None:
        raise GitHubError(
            f"run {run.run_id} selected no candidate ({run.reason or 'no improvement'}); no PR to render"
        )
    return best


def _compared(run: RunSummary, best: IterationSummary) -> tuple[EvalResult, EvalResult, str]:
    if run.baseline_confirm is not None and best.confirm is not None:
        return run.baseline_confirm, best.confirm, "held-out"
    return run.baseline_search, best.search or EvalResult(tree="", seeds=[]), "search"


def pr_title(run: RunSummary) -> str:
    """``GrowthHacker: <hypothesis>`` shortened to one line.

    Raises:
        GitHubError: the run has no winner.
    """
    hypothesis = " ".join(_winner(run).hypothesis.split())
    if len(hypothesis) > _TITLE_CHARS:
        hypothesis = hypothesis[: _TITLE_CHARS - 1].rstrip() + "…"
    return f"GrowthHacker: {hypothesis}"


def _deltas_block(run: RunSummary, best: IterationSummary) -> list[str]:
    base, head, kind = _compared(run, best)
    parts = [
        f"## Metric deltas ({kind} seeds, measured in the same job)",
        deltas_table(base, head, Criteria.of_run(run)),
    ]
    detail = []
    if best.search is not None:
        detail += ["**Search seeds**", per_seed_table(run.baseline_search, best.search, run.metric)]
    if run.baseline_validation is not None and best.validation is not None:
        detail += ["**Validation seeds**",
                   per_seed_table(run.baseline_validation, best.validation, run.metric)]
    if run.baseline_confirm is not None and best.confirm is not None:
        detail += ["**Held-out seeds**", per_seed_table(run.baseline_confirm, best.confirm, run.metric)]
    if detail:
        parts.append(_details("Per-seed detail", "\n\n".join(detail)))
    return parts


def _cost(run: RunSummary) -> str:
    tokens = sum(it.tokens for it in run.iterations)
    usd = sum(it.usd for it in run.iterations)
    minutes = sum(it.duration_s for it in run.iterations) / 60
    return (
        f"Agent `{md_escape(run.agent)}` · {len(run.iterations)} iterations · {tokens:,} tokens · "
        f"${usd:.2f} · {minutes:.1f} min of iterations"
    )


def _plot(run: RunSummary, plot_url: str) -> str:
    return f"![{md_escape(run.metric)} per iteration]({plot_url})"


def _run_link(run_url: str) -> str:
    return (
        f"Workflow run: {run_url} (logs, the job summary, and the run's artifact with `report.md`, "
        "`plot.png` and `pr.md`)"
    )


def pr_body(
    run: RunSummary,
    *,
    rationale: str = "",
    run_url: str | None = None,
    plot_url: str | None = None,
    previous_head: str | None = None,
) -> str:
    """The pull request description for the run's winning candidate.

    Returns markdown: hypothesis, rationale, diff summary (full diff folded), deltas table with
    per-seed detail, iteration history, the plot (``plot_url``), cost, the workflow run, and the
    commands a reviewer can use, preceded by a hidden run marker. ``previous_head`` is the PR head an
    ``iterate`` run started from: a note then says the deltas compare against that commit. Cut to
    GitHub's limit.

    Raises:
        GitHubError: the run has no winner.
    """
    best = _winner(run)
    why = rationale.strip() or run.reason or "Selected post hoc as the best verified iteration."
    parts = [
        run_marker(run.run_id, best.iteration),
        "## Hypothesis",
        _quote(best.hypothesis),
        "## Rationale",
        f"{md_escape(why)}\n\nPersona: `{md_escape(best.persona)}` · base commit `{run.base_commit[:12]}` · "
        "integrity check passed (flagged candidates are never selected).",
    ]
    if previous_head:
        parts.append(
            f"> [!NOTE]\n> Iterated on this PR (`/growthhacker iterate`): this run started from the PR's "
            f"earlier head `{previous_head[:7]}`, so the deltas below compare the new head with that commit, "
            "not with the base branch."
        )
    parts += [
        "## Diff summary",
        md_escape(best.diff_summary) if best.diff_summary.strip() else "See the diff below.",
    ]
    if best.diff.strip():
        parts.append(_details("Full diff", _fence(best.diff, "diff")))
    parts += _deltas_block(run, best)
    parts += ["## Iteration history", history_table(run)]
    if plot_url:
        parts.append(_plot(run, plot_url))
    parts += ["## Cost", _cost(run)]
    if run_url:
        parts.append(_run_link(run_url))
    parts.append(commands_section())
    return truncate_body("\n\n".join(parts) + "\n", link=run_url)


def run_comment(run: RunSummary, *, run_url: str | None = None, plot_url: str | None = None) -> str:
    """The sticky comment after an optimize or iterate run: verdict, deltas, history, the plot
    (``plot_url``), the workflow run, commands.

    Works for runs without a winner (it then says so). Cut to GitHub's limit. Raises nothing.
    """
    parts = [STICKY_MARKER, f"### GrowthHacker run `{md_escape(run.run_id)}`"]
    best = run.best
    if best is None:
        parts.append(f"**No improvement:** {md_escape(run.reason or 'no candidate beat the baseline.')}")
    else:
        base, head, kind = _compared(run, best)
        decision = assess(base, head, Criteria.of_run(run)).objective
        comparison = decision.comparison
        parts.append(
            f"**Iteration {best.iteration}** changes {md_escape(run.metric)} by "
            f"{fmt_pct(comparison.relative)} ({fmt_num(comparison.base_mean)} → "
            f"{fmt_num(comparison.cand_mean)}) on {kind} seeds: {decision.label}."
        )
        parts += _deltas_block(run, best)[1:]
    parts.append(_details("Iteration history", history_table(run)))
    if plot_url:
        parts.append(_plot(run, plot_url))
    parts.append(_cost(run))
    if run_url:
        parts.append(_run_link(run_url))
    parts.append(commands_section())
    return truncate_body("\n\n".join(parts) + "\n", link=run_url)


@dataclass(frozen=True)
class CheckReport:
    """What a check run (or commit status) shows: conclusion, one-line title, markdown summary."""

    conclusion: Conclusion
    title: str
    summary: str


def check_report(base: EvalResult, head: EvalResult, config: Config) -> CheckReport:
    """Judge ``head`` against ``base`` (same job, same seeds) for a check run, by the one rule.

    The conclusion is :attr:`bot.decision.Assessment.conclusion`: ``success`` when the objective is
    better and every guardrail within its allowance, ``failure`` when the head failed to evaluate, a
    guardrail broke its allowance or the objective is worse, ``neutral`` otherwise (within noise,
    undecided). The title states the objective's change and verdict. Raises nothing.
    """
    criteria = Criteria.of(config)
    assessment = assess(base, head, criteria)
    decision = assessment.objective
    comparison = decision.comparison
    title = (
        f"{criteria.metric} {fmt_pct(comparison.relative)} "
        f"({fmt_num(comparison.base_mean)} → {fmt_num(comparison.cand_mean)}): {decision.label}"
    )
    problems = []
    failed = assessment.failure
    if failed is not None:
        problems.append(
            f"head failed on seed {failed.seed}: {failed.failure} {md_escape(failed.reason or '')}".rstrip()
        )
    problems += [f"guardrail {md_escape(check.reason)}" for check in assessment.broken]
    summary = "\n\n".join([*(f"- ❌ {p}" for p in problems), f"{md_escape(decision.reason)}.",
                            deltas_table(base, head, criteria)])
    return CheckReport(
        conclusion=assessment.conclusion, title=title[:200], summary=truncate_body(summary, BODY_LIMIT - 1)
    )


def verify_comment(
    base: EvalResult,
    head: EvalResult,
    config: Config,
    *,
    base_sha: str,
    head_sha: str,
    run_url: str | None = None,
) -> str:
    """The sticky comment for a verify run: base vs head measured in the same job on the same runner.

    Returns markdown with the verdict, the deltas table, per-seed detail and the commands. Cut to
    GitHub's limit. Raises nothing.
    """
    report = check_report(base, head, config)
    icons = {"success": OUTCOME_ICON["better"], "neutral": "➖", "failure": OUTCOME_ICON["worse"]}
    icon = icons[report.conclusion]
    metric = config.evaluate.objective.metric
    parts = [
        VERIFY_MARKER,
        f"### GrowthHacker verification · `{head_sha[:7]}` vs base `{base_sha[:7]}`",
        f"{icon} **{md_escape(report.title)}**",
        report.summary,
        _details("Per-seed detail", per_seed_table(base, head, metric)),
        "Base and head were evaluated in the same job on the same runner, on the same seeds.",
    ]
    if run_url:
        parts.append(f"Workflow run: {run_url}")
    parts.append(commands_section())
    return truncate_body("\n\n".join(parts) + "\n")
