"""The run report: numbers and verdicts in the markdown, awkward summaries, and a real PNG plot."""

from __future__ import annotations

import re
import struct
from pathlib import Path

from bot.decision import Allowance, Criteria
from bot.plot import plot_objective
from bot.report import (
    deltas_table,
    fmt_num,
    fmt_pct,
    history_table,
    md_escape,
    per_seed_table,
    render_markdown,
    write_report,
)
from bot.results import EvalResult, IterationSummary, RunSummary, SeedResult

SEARCH = [0, 1, 2]
CONFIRM = [100, 101, 102, 103, 104]


def evaluation(seeds: list[int], ee: list[float], runtime: list[float] | None = None) -> EvalResult:
    runtime = runtime if runtime is not None else [10.0] * len(seeds)
    return EvalResult(
        tree="t",
        seeds=[
            SeedResult(seed=s, ok=True, metrics={"relative_ee": v, "runtime_s": r}, duration_s=2.0)
            for s, v, r in zip(seeds, ee, runtime, strict=True)
        ],
    )


def failed_iteration(
    n: int, reason: str = "[context_mismatch] in est.py: hunk 1 not found"
) -> IterationSummary:
    return IterationSummary(
        iteration=n, hypothesis=f"idea {n}", persona="estimator", status="failed", failure_reason=reason
    )


def summary_with_winner() -> RunSummary:
    """Iteration 2 wins: relative_ee 0.108 → 0.084 on held-out seeds (-22.2%), runtime 10 → 15 (+50%)."""
    loser = IterationSummary(
        iteration=1,
        hypothesis="Switch to IPW",
        persona="estimator",
        status="no_gain",
        search=evaluation(SEARCH, [0.12, 0.13, 0.12]),
        tokens=1200,
        usd=0.25,
        duration_s=30.0,
    )
    winner = IterationSummary(
        iteration=2,
        hypothesis="Use DR with a gradient-boosted reward model",
        persona="regression-model",
        status="improved",
        diff="--- a/est.py\n+++ b/est.py\n@@ -1 +1 @@\n-model = Ridge()\n+model = GBR()\n",
        search=evaluation(SEARCH, [0.08, 0.09, 0.085], runtime=[15.0] * 3),
        confirm=evaluation(CONFIRM, [0.08, 0.085, 0.09, 0.08, 0.085], runtime=[15.0] * 5),
        confirmed=True,
        tokens=800,
        usd=0.25,
        duration_s=45.0,
    )
    return RunSummary(
        run_id="run-42",
        agent="anthropic",
        base_commit="0123456789abcdef",
        metric="relative_ee",
        goal="minimize",
        guardrails=["runtime_s"],
        allowances={"runtime_s": 0.5},
        baseline_search=evaluation(SEARCH, [0.10, 0.12, 0.11]),
        baseline_confirm=evaluation(CONFIRM, [0.10, 0.11, 0.12, 0.10, 0.11]),
        iterations=[loser, winner, failed_iteration(3)],
        winner=2,
        reason="iteration 2 beat the baseline on search and held-out seeds",
    )


def no_winner_summary(iterations: list[IterationSummary]) -> RunSummary:
    return RunSummary(
        run_id="run-0",
        agent="heuristic",
        base_commit="abc",
        metric="relative_ee",
        goal="minimize",
        baseline_search=evaluation(SEARCH, [0.10, 0.12, 0.11]),
        iterations=iterations,
        reason="no candidate beat the baseline on the search seeds",
    )


def table_cells(row: str) -> list[str]:
    """Split a markdown table row on unescaped pipes, as GitHub does."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def row_of(table: str, first_cell: str) -> list[str]:
    rows = [table_cells(line) for line in table.splitlines() if line.startswith("|")]
    return next(cells for cells in rows if cells[0] == first_cell)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --- formatting ------------------------------------------------------------------------------------


def test_numbers_have_four_significant_digits_and_nan_is_a_dash() -> None:
    assert [fmt_num(0.0123456), fmt_num(12345.6), fmt_num(float("nan"))] == ["0.01235", "1.235e+04", "—"]


def test_percentages_are_signed_with_one_decimal() -> None:
    assert [fmt_pct(0.2314), fmt_pct(-0.05), fmt_pct(float("nan"))] == ["+23.1%", "-5.0%", "—"]


def test_escape_neutralises_html_links_and_pipes() -> None:
    assert md_escape("a | b <script>[x](y)") == r"a \| b &lt;script&gt;\[x\](y)"


# --- deltas table ----------------------------------------------------------------------------------


OBJECTIVE = Criteria(metric="relative_ee", goal="minimize")


def with_runtime(allowance: float | None) -> Criteria:
    return Criteria(metric="relative_ee", goal="minimize",
                    guardrails=(Allowance("runtime_s", "minimize", allowance),))


def test_deltas_table_shows_mean_sd_delta_and_better_with_the_seeds_won() -> None:
    base = evaluation(CONFIRM, [0.10, 0.11, 0.12, 0.10, 0.11])
    head = evaluation(CONFIRM, [0.08, 0.085, 0.09, 0.08, 0.085])

    table = deltas_table(base, head, OBJECTIVE)

    assert row_of(table, "relative_ee ↓") == [
        "relative_ee ↓",
        "0.108 ± 0.008367 (n=5)",
        "0.084 ± 0.004183 (n=5)",
        "-0.024",
        "-22.2%",
        "⚡ better (won 5/5 seeds)",
    ]


def test_deltas_table_marks_a_consistent_worsening_as_worse() -> None:
    base = evaluation(SEARCH, [0.10, 0.11, 0.12])
    head = evaluation(SEARCH, [0.15, 0.16, 0.17])

    assert row_of(deltas_table(base, head, OBJECTIVE), "relative_ee ↓")[-1] == "❌ worse (won 0/3 seeds)"


def test_deltas_table_says_a_leaning_result_is_undecided_and_how_many_seeds_would_decide() -> None:
    base = evaluation(SEARCH, [0.10, 0.12, 0.11])
    head = evaluation(SEARCH, [0.09, 0.13, 0.10])

    cell = row_of(deltas_table(base, head, OBJECTIVE), "relative_ee ↓")[-1]

    assert cell == "❔ undecided (won 2/3 seeds; needs about 11)"


def test_deltas_table_calls_a_result_without_direction_within_noise() -> None:
    base = evaluation(SEARCH, [0.10, 0.12, 0.11])
    head = evaluation(SEARCH, [0.09, 0.13, 0.11])

    cell = row_of(deltas_table(base, head, OBJECTIVE), "relative_ee ↓")[-1]

    assert cell == "➖ within noise (won 1/3 seeds)"


def test_deltas_table_uses_the_up_arrow_for_maximize() -> None:
    base = evaluation(SEARCH, [0.10, 0.12, 0.11])

    table = deltas_table(base, base, Criteria(metric="relative_ee", goal="maximize"))

    assert row_of(table, "relative_ee ↑")[3:] == ["+0", "+0.0%", "➖ within noise (won 0/3 seeds)"]


def test_deltas_table_shows_dashes_for_a_missing_metric() -> None:
    base = evaluation(SEARCH, [0.1] * 3)

    table = deltas_table(base, base, Criteria(metric="coverage", goal="maximize"))

    assert row_of(table, "coverage ↑")[1:] == ["—"] * 4 + ["❔ undecided (no paired seeds)"]


def test_deltas_table_shows_a_guardrail_within_its_allowance() -> None:
    base = evaluation(SEARCH, [0.1] * 3, runtime=[10.0, 11.0, 12.0])
    head = evaluation(SEARCH, [0.05] * 3, runtime=[15.0, 16.0, 17.0])

    row = row_of(deltas_table(base, head, with_runtime(2.0)), "runtime_s ↓")

    assert row[3:] == ["+5", "+45.5%", "✅ within allowance (+45% of +200%)"]


def test_deltas_table_shows_a_guardrail_that_breaks_its_allowance() -> None:
    base = evaluation(SEARCH, [0.1] * 3, runtime=[10.0, 11.0, 12.0])
    head = evaluation(SEARCH, [0.05] * 3, runtime=[15.0, 16.0, 17.0])

    row = row_of(deltas_table(base, head, with_runtime(0.2)), "runtime_s ↓")

    assert row[-1] == "❌ breaks allowance (+45% of +20%)"


def test_deltas_table_of_a_run_that_did_not_record_allowances_shows_the_change_only() -> None:
    base = evaluation(SEARCH, [0.1] * 3, runtime=[10.0, 11.0, 12.0])
    head = evaluation(SEARCH, [0.05] * 3, runtime=[15.0, 16.0, 17.0])

    row = row_of(deltas_table(base, head, with_runtime(None)), "runtime_s ↓")

    assert row[-1] == "➖ +45% (allowance not recorded)"


# --- per-seed table --------------------------------------------------------------------------------


def test_per_seed_table_shows_failure_kind_and_no_delta() -> None:
    base = evaluation(SEARCH, [0.10, 0.12, 0.11])
    head = EvalResult(
        tree="h",
        seeds=[
            SeedResult(seed=0, ok=True, metrics={"relative_ee": 0.09}),
            SeedResult(seed=1, ok=False, failure="timeout", reason="killed after 600 s"),
        ],
    )

    table = per_seed_table(base, head, "relative_ee")

    assert row_of(table, "0") == ["0", "0.1", "0.09", "-0.01"]
    assert row_of(table, "1") == ["1", "0.12", "failed (timeout)", "—"]
    assert row_of(table, "2") == ["2", "0.11", "—", "—"]


# --- history ---------------------------------------------------------------------------------------


def test_history_row_has_objective_change_and_winner_mark() -> None:
    table = history_table(summary_with_winner())

    assert row_of(table, "2 🏆") == [
        "2 🏆",
        "regression-model",
        "Use DR with a gradient-boosted reward model",
        "improved",
        "0.085",
        "-22.7%",
        "✅ yes",
    ]


def test_history_row_of_a_failed_iteration_shows_the_reason_and_no_numbers() -> None:
    table = history_table(summary_with_winner())

    assert row_of(table, "3")[3:] == [
        r"failed: \[context_mismatch\] in est.py: hunk 1 not found",
        "—",
        "—",
        "—",
    ]


def test_pipe_and_newline_in_hypothesis_do_not_break_the_table() -> None:
    iteration = failed_iteration(1)
    iteration = iteration.model_copy(update={"hypothesis": "use a | b\nthen | c"})

    table = history_table(no_winner_summary([iteration]))

    rows = [line for line in table.splitlines() if line.startswith("|")]
    assert len(rows) == 3
    assert all(len(table_cells(row)) == 7 for row in rows)
    assert row_of(table, "1")[2] == r"use a \| b then \| c"


def test_long_hypothesis_is_shortened_to_about_80_characters() -> None:
    iteration = failed_iteration(1).model_copy(update={"hypothesis": "word " * 100})

    cell = row_of(history_table(no_winner_summary([iteration])), "1")[2]

    assert len(cell) <= 80
    assert cell.endswith("…")


# --- whole report ----------------------------------------------------------------------------------


def test_report_states_the_winner_and_its_held_out_improvement() -> None:
    text = render_markdown(summary_with_winner())

    winner = "iteration 2 improves relative_ee by 22.2% on held-out seeds: better (won 5/5 seeds)."
    assert f"**Winner:** {winner}" in text


def test_report_deltas_are_on_held_out_seeds_with_guardrails() -> None:
    text = render_markdown(summary_with_winner())

    assert "## Iteration 2 vs baseline (held-out seeds)" in text
    assert row_of(text, "relative_ee ↓")[1:3] == ["0.108 ± 0.008367 (n=5)", "0.084 ± 0.004183 (n=5)"]
    assert row_of(text, "runtime_s ↓")[3:] == ["+5", "+50.0%", "✅ within allowance (+50% of +50%)"]


def test_report_has_per_seed_detail_for_search_and_held_out_seeds() -> None:
    text = render_markdown(summary_with_winner())

    details = text[text.index("<details>") : text.index("</details>")]
    assert "**Search seeds**" in details and "**Held-out seeds**" in details
    assert "| 104 | 0.11 | 0.085 | -0.025 |" in details


def test_report_shows_the_winning_hypothesis_and_diff() -> None:
    text = render_markdown(summary_with_winner())

    assert "> Use DR with a gradient-boosted reward model" in text
    assert "```diff\n--- a/est.py\n+++ b/est.py\n@@ -1 +1 @@\n-model = Ridge()\n+model = GBR()\n```" in text


def test_backticks_in_the_diff_get_a_longer_fence() -> None:
    summary = summary_with_winner()
    winner = summary.iteration(2).model_copy(update={"diff": "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+```\n"})
    summary = summary.model_copy(update={"iterations": [winner]})

    text = render_markdown(summary)

    assert "````diff\n" in text
    assert "+```\n````" in text


def test_report_totals_tokens_cost_and_time() -> None:
    text = render_markdown(summary_with_winner())

    assert "- Tokens: 2,000" in text
    assert "- Cost: $0.50" in text
    assert "- Wall time: 1m 15s in iterations" in text


def test_report_shows_sub_cent_costs() -> None:
    iteration = failed_iteration(1).model_copy(update={"usd": 0.0042})

    assert "- Cost: $0.0042" in render_markdown(no_winner_summary([iteration]))


def test_report_gives_the_selection_reason_for_a_winner() -> None:
    text = render_markdown(summary_with_winner())

    assert "Selection: iteration 2 beat the baseline on search and held-out seeds" in text


def test_report_omits_cost_when_nothing_was_spent() -> None:
    text = render_markdown(no_winner_summary([failed_iteration(1)]))

    assert "- Tokens: 0" in text
    assert "Cost" not in text


def test_report_links_the_plot_unless_told_not_to() -> None:
    summary = summary_with_winner()

    assert "![relative_ee per iteration](chart.png)" in render_markdown(summary, plot_name="chart.png")
    assert "![" not in render_markdown(summary, plot_name=None)


def test_report_without_a_winner_gives_the_reason_and_no_winner_sections() -> None:
    no_gain = IterationSummary(
        iteration=1,
        hypothesis="Try SNIPW",
        persona="estimator",
        status="no_gain",
        search=evaluation(SEARCH, [0.2, 0.2, 0.2]),
    )

    text = render_markdown(no_winner_summary([no_gain]))

    assert "**No improvement:** no candidate beat the baseline on the search seeds" in text
    assert "Baseline relative_ee on search seeds: 0.11 ± 0.01 (n=3)" in text
    assert "Winning change" not in text and "🏆" not in text
    assert row_of(text, "1")[4:] == ["0.2", "+81.8%", "—"]


def test_report_where_every_iteration_failed() -> None:
    text = render_markdown(no_winner_summary([failed_iteration(1), failed_iteration(2, "timeout")]))

    assert "2 iterations, 2 failed" in text
    assert row_of(text, "2")[3:] == ["failed: timeout", "—", "—", "—"]


def test_report_with_zero_iterations() -> None:
    text = render_markdown(no_winner_summary([]))

    assert "0 iterations, 0 failed" in text
    assert "No iterations ran." in text
    assert "| # |" not in text


# --- plot and files --------------------------------------------------------------------------------


def test_plot_is_a_png_of_sane_size(tmp_path: Path) -> None:
    path = plot_objective(summary_with_winner(), tmp_path / "plot.png")

    width, height = png_size(path)
    assert 400 <= width <= 2000 and 300 <= height <= 1500
    assert path.stat().st_size > 5_000


def test_plot_with_zero_iterations_is_a_png(tmp_path: Path) -> None:
    path = plot_objective(no_winner_summary([]), tmp_path / "plot.png")

    assert png_size(path) == (800, 450)


def test_plot_with_only_failures_and_values_over_decades(tmp_path: Path) -> None:
    wide = IterationSummary(
        iteration=2,
        hypothesis="h",
        persona="estimator",
        status="no_gain",
        search=evaluation(SEARCH, [50.0] * 3),
    )
    summary = no_winner_summary([failed_iteration(1), wide, failed_iteration(3)])

    path = plot_objective(summary, tmp_path / "sub" / "plot.png")

    assert png_size(path) == (800, 450)


def test_write_report_writes_markdown_and_plot(tmp_path: Path) -> None:
    report_path, plot_path = write_report(summary_with_winner(), tmp_path / "out")

    assert report_path == tmp_path / "out" / "report.md"
    assert plot_path == tmp_path / "out" / "plot.png"
    assert "](plot.png)" in report_path.read_text(encoding="utf-8")
    assert png_size(plot_path) == (800, 450)
