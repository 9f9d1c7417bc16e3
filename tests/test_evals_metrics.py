"""The benchmark's metric definitions (evals/metrics.py) and report, on hand-made run records."""

from __future__ import annotations

import math
from pathlib import Path

from evals.metrics import ALL_TARGETS, by_framework, cell, cells, is_positive, is_reliable, is_trap
from evals.report import PLOT_FILE, REPORT_FILE, pct, render, seed_table, trap_table, write
from tests.helpers.evals import positive, record


def test_a_finished_run_with_an_evaluated_candidate_is_reliable_without_improvement() -> None:
    run = record(winner=None)

    assert is_reliable(run) and not is_positive(run)


def test_a_crashed_run_is_not_reliable_even_with_a_verdict() -> None:
    assert not is_reliable(record(process="crashed", exit_code=1))


def test_a_run_whose_candidates_all_failed_is_not_reliable() -> None:
    assert not is_reliable(record(evaluated=0, statuses={"failed": 3}))


def test_a_run_whose_baseline_failed_is_not_reliable() -> None:
    assert not is_reliable(record(baseline_ok=False))


def test_a_run_without_a_recorded_verdict_is_not_reliable() -> None:
    assert not is_reliable(record(verdict_recorded=False))


def test_a_winner_with_a_positive_heldout_improvement_is_positive() -> None:
    assert is_positive(positive(0.25))


def test_a_winner_without_heldout_improvement_is_not_positive() -> None:
    assert not is_positive(record(winner=1, heldout_improvement=0.0))


def test_a_nan_improvement_is_not_positive() -> None:
    assert not is_positive(record(winner=1, heldout_improvement=math.nan))


def test_cell_rates_use_every_run_as_denominator() -> None:
    runs = [positive(0.5), positive(0.1), record(), record(process="timeout", exit_code=None)]

    m = cell("t1", "heuristic", runs)

    assert (m.runs, m.reliable, m.positive) == (4, 3, 2)
    assert m.reliability == 0.75 and m.positive_rate == 0.5


def test_mean_and_median_improvement_are_over_positive_runs_only() -> None:
    runs = [positive(0.1), positive(0.2), positive(0.9), record(heldout_improvement=-0.5)]

    m = cell("t1", "heuristic", runs)

    assert math.isclose(m.mean_improvement, 0.4) and math.isclose(m.median_improvement, 0.2)


def test_improvements_are_nan_without_positive_runs() -> None:
    m = cell("t1", "heuristic", [record()])

    assert math.isnan(m.mean_improvement) and math.isnan(m.median_improvement)


def test_extreme_value_failures_sum_extreme_candidates_and_heldout_rejections_over_runs() -> None:
    runs = [record(extreme_values=2, heldout_rejections=1), record(extreme_values=1)]

    m = cell("t1", "two_agent", runs)

    assert (m.extreme_values, m.heldout_rejections) == (3, 1)


def test_tokens_dollars_and_wall_time_are_means_per_run() -> None:
    runs = [record("two_agent", tokens=1000, usd=0.5, wall_s=60.0),
            record("two_agent", tokens=3000, usd=1.5, wall_s=180.0)]

    m = cell("t1", "two_agent", runs)

    assert (m.tokens_per_run, m.usd_per_run, m.wall_s_per_run) == (2000.0, 1.0, 120.0)


def test_overhead_ratio_is_the_mean_of_per_run_ratios_skipping_runs_without_iterations() -> None:
    runs = [record(overhead_s_per_iteration=1.0, eval_s_per_iteration=10.0),
            record(overhead_s_per_iteration=3.0, eval_s_per_iteration=10.0),
            record(overhead_s_per_iteration=None, eval_s_per_iteration=None)]

    assert math.isclose(cell("t1", "heuristic", runs).overhead_ratio or 0.0, 0.2)


def test_run_overhead_ratio_is_the_bots_share_of_each_runs_wall_time_skipping_runs_never_evaluated() -> None:
    runs = [record(wall_s=102.0, eval_s=100.0), record(wall_s=55.0, eval_s=50.0),
            record(wall_s=3.0, eval_s=0.0)]

    assert math.isclose(cell("t1", "heuristic", runs).run_overhead_ratio or 0.0, (0.02 + 0.1) / 2)


def test_cells_group_by_target_then_framework_in_canonical_order() -> None:
    runs = [record("two_agent", "b"), record("heuristic", "b"), record("default", "a"),
            record("heuristic", "a")]

    assert [(m.target, m.framework) for m in cells(runs)] == [
        ("a", "heuristic"), ("a", "default"), ("b", "heuristic"), ("b", "two_agent")]


def test_by_framework_pools_every_target() -> None:
    runs = [positive(0.2, target="a"), record(target="b"), record("default", "a")]

    summary = {m.framework: m for m in by_framework(runs)}

    assert summary["heuristic"].target == ALL_TARGETS
    assert (summary["heuristic"].runs, summary["heuristic"].positive, summary["default"].runs) == (2, 1, 1)


def test_pct_formats_rates_signed_improvements_and_missing_values() -> None:
    assert (pct(1.0), pct(0.453), pct(0.25, signed=True), pct(None), pct(math.nan)) == (
        "100%", "45.3%", "+25.0%", "—", "—")


def test_the_report_puts_the_study_figures_beside_ours() -> None:
    runs = [positive(0.5, framework="two_agent"), record("two_agent")]

    text = render(runs, "title")

    row = next(line for line in text.splitlines() if line.startswith("| two_agent | 2 |"))
    assert "50% (1/2)" in row and "positive 45%" in row and "mean +106.7%" in row and "median +4.4%" in row


def test_the_report_names_machine_configuration_and_every_cell() -> None:
    runs = [positive(0.5, target="obp-x"), record("default", "scope-y")]

    text = render(runs, "evals")

    assert "test machine" in text and "iterations per run: 3" in text
    assert "| obp-x | heuristic | 1 |" in text and "| scope-y | default | 1 |" in text


def test_write_creates_the_report_and_the_plot(tmp_path: Path) -> None:
    runs = [positive(0.5), positive(0.2), record(), positive(0.1, framework="two_agent")]

    report = write(runs, tmp_path, "evals")

    assert report == tmp_path / REPORT_FILE and PLOT_FILE in report.read_text(encoding="utf-8")
    assert (tmp_path / PLOT_FILE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_seconds_per_seed_pool_every_run_of_a_target() -> None:
    runs = [record(target="a", seeds_evaluated=4, eval_s=40.0, seed_s_max=12.0),
            record("two_agent", "a", seeds_evaluated=6, eval_s=90.0, seed_s_max=20.0), record(target="b")]

    table = seed_table(runs)

    assert "| a | 10 | 13.0 s | 20.0 s |" in table and "| b | 0 | — | — |" in table


# --- traps -----------------------------------------------------------------------------------------


def test_a_candidate_worse_than_the_baseline_on_the_audit_seeds_is_a_trap() -> None:
    assert is_trap(-0.2) and not is_trap(0.1) and not is_trap(None)


def test_a_candidate_that_fails_on_the_audit_seeds_where_the_baseline_does_not_is_a_trap() -> None:
    assert is_trap(None, "extreme_value on seed 501: estimate 3.2e9")
    runs = [record(audit=[500], incumbent=1, incumbent_audit=None,
                   incumbent_audit_failure="extreme_value on seed 501: estimate 3.2e9")]

    assert cell("t1", "heuristic", runs).trap_incumbents == 1


def test_trap_rates_count_audited_runs_only() -> None:
    audited = [record(audit=[500], incumbent=1, incumbent_audit=-0.3, winner=None, not_validated=0),
               positive(0.2, audit=[500], incumbent=2, incumbent_audit=0.2, winner_audit=0.1),
               positive(0.4, audit=[500], incumbent=1, incumbent_audit=-0.1, winner_audit=-0.1)]

    m = cell("t1", "heuristic", [*audited, record()])

    assert (m.audited, m.trap_incumbents, m.trap_winners) == (3, 2, 1)


def test_the_trap_table_separates_runs_with_and_without_validation() -> None:
    runs = [record(audit=[500], validate=[200, 201, 202], incumbent=1, incumbent_audit=0.1, not_validated=2),
            record(audit=[500], incumbent=1, incumbent_audit=-0.4)]

    table = trap_table(runs)

    assert "| t1 | heuristic | 3 | 1 | 0% (0/1) | 0% (0/1) | 2 |" in table
    assert "| t1 | heuristic | off | 1 | 100% (1/1) | 0% (0/1) | 0 |" in table
    assert "## Traps" in render(runs, "title") and "## Traps" not in render([record()], "title")
