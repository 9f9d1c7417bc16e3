"""Markdown for GitHub: PR title/body, sticky comments, check reports, truncation."""

from __future__ import annotations

import pytest

from bot.config import Config, parse_config
from bot.errors import GitHubError
from bot.github.render import (
    BODY_LIMIT,
    STICKY_MARKER,
    VERIFY_MARKER,
    check_report,
    parse_run_marker,
    pr_body,
    pr_title,
    replace_run_marker,
    run_comment,
    run_marker,
    truncate_body,
    verify_comment,
)
from bot.results import EvalResult, IterationSummary, RunSummary, SeedResult

CONFIG_YAML = """
evaluate:
  command: python evaluate.py --seed {seed} --out {metrics_path}
  objective: {metric: relative_ee, goal: minimize}
  guardrails: [{metric: runtime_s, max_regression: 0.5}]
edit:
  paths: ["ope_pipeline/**/*.py"]
"""


DIFF = "--- a/ope_pipeline/estimator.py\n+++ b/ope_pipeline/estimator.py\n@@ -1 +1 @@\n-A\n+B\n"


@pytest.fixture
def config() -> Config:
    return parse_config(CONFIG_YAML)


def result(errors: list[float], runtime: float = 1.0, first_seed: int = 0) -> EvalResult:
    seeds = [
        SeedResult(seed=first_seed + i, ok=True, metrics={"relative_ee": e, "runtime_s": runtime})
        for i, e in enumerate(errors)
    ]
    return EvalResult(tree="t", seeds=seeds)


def summary(winner: int | None = 2) -> RunSummary:
    return RunSummary(
        run_id="20261125-abc",
        agent="heuristic",
        base_commit="0123456789abcdef",
        metric="relative_ee",
        goal="minimize",
        guardrails=["runtime_s"],
        baseline_search=result([0.20, 0.22, 0.24]),
        baseline_confirm=result([0.21, 0.23, 0.25], first_seed=100),
        iterations=[
            IterationSummary(
                iteration=1,
                hypothesis="Switch to DR",
                persona="estimator",
                status="no_gain",
                search=result([0.21, 0.23, 0.25]),
                tokens=1000,
                usd=0.01,
            ),
            IterationSummary(
                iteration=2,
                hypothesis="Use self-normalized IPW (SNIPW) to cut variance",
                persona="estimator",
                status="improved",
                diff=DIFF,
                diff_summary="ope_pipeline/estimator.py: IPW → SNIPW",
                search=result([0.10, 0.11, 0.12]),
                confirm=result([0.11, 0.12, 0.13], first_seed=100),
                confirmed=True,
                tokens=2000,
                usd=0.02,
            ),
        ],
        winner=winner,
        reason="best confirmed improvement",
    )


def test_the_title_is_the_hypothesis_on_one_short_line() -> None:
    run = summary()
    long = run.model_copy(
        update={
            "iterations": [
                run.iterations[0],
                run.iterations[1].model_copy(update={"hypothesis": "word " * 40}),
            ]
        }
    )

    assert pr_title(run) == "GrowthHacker: Use self-normalized IPW (SNIPW) to cut variance"
    assert len(pr_title(long)) <= len("GrowthHacker: ") + 72 and pr_title(long).endswith("…")


def test_the_body_has_every_section_a_reviewer_needs() -> None:
    body = pr_body(summary(), rationale="SNIPW normalises the weights", run_url="https://ci/run/1")

    for heading in (
        "## Hypothesis",
        "## Rationale",
        "## Diff summary",
        "## Metric deltas (held-out seeds",
        "## Iteration history",
        "## Cost",
        "### Steer GrowthHacker",
    ):
        assert heading in body
    assert "> Use self-normalized IPW (SNIPW) to cut variance" in body
    assert "SNIPW normalises the weights" in body
    assert "| relative_ee ↓ |" in body
    assert "/growthhacker iterate" in body and "https://ci/run/1" in body
    assert parse_run_marker(body) == ("20261125-abc", 2)


def test_the_body_reports_the_cost_of_all_iterations() -> None:
    assert "3,000 tokens · $0.03" in pr_body(summary())


def test_agent_text_cannot_inject_html_into_the_body() -> None:
    run = summary()
    evil = run.iterations[1].model_copy(update={"hypothesis": "<img src=x onerror=alert(1)> try DR"})
    body = pr_body(run.model_copy(update={"iterations": [run.iterations[0], evil]}))

    assert "<img" not in body and "&lt;img" in body


def test_a_run_without_a_winner_has_no_pr_body() -> None:
    with pytest.raises(GitHubError, match="selected no candidate"):
        pr_body(summary(winner=None))


def test_the_run_comment_is_sticky_and_states_the_change() -> None:
    comment = run_comment(summary())

    assert comment.startswith(STICKY_MARKER)
    assert "**Iteration 2** changes relative_ee by -47.8%" in comment
    assert "on held-out seeds: better (won 3/3 seeds)." in comment


def test_the_run_comment_without_a_winner_says_so() -> None:
    assert "**No improvement:** best confirmed improvement" in run_comment(summary(winner=None))


def test_run_markers_round_trip() -> None:
    assert parse_run_marker("x " + run_marker("r-1.2", None) + " y") == ("r-1.2", None)
    assert parse_run_marker("no marker") is None


PLOT = "https://github.com/acme/ope/blob/growthhacker/journal/plots/20261125-abc.png?raw=true"


def test_the_body_shows_the_plot_and_links_the_run_and_its_artifact() -> None:
    body = pr_body(summary(), run_url="https://github.com/acme/ope/actions/runs/7", plot_url=PLOT)

    assert f"![relative_ee per iteration]({PLOT})" in body
    assert "Workflow run: https://github.com/acme/ope/actions/runs/7 (logs" in body
    assert "`report.md`, `plot.png` and `pr.md`" in body


def test_the_run_comment_shows_the_plot() -> None:
    assert f"![relative_ee per iteration]({PLOT})" in run_comment(summary(), plot_url=PLOT)


def test_the_body_of_an_iterate_run_says_what_its_deltas_compare_against() -> None:
    body = pr_body(summary(), previous_head="fedcba9876543210")

    assert "started from the PR's earlier head `fedcba9`" in body
    assert "not with the base branch" in body
    assert "earlier head" not in pr_body(summary())


def test_replacing_the_run_marker_keeps_the_rest_of_the_text() -> None:
    text = f"{run_marker('run-b', 2)}\n## Hypothesis\n> b"

    replaced = replace_run_marker(text, "run-a", 1)

    assert replaced == f"{run_marker('run-a', 1)}\n## Hypothesis\n> b"


def test_replacing_the_run_marker_adds_one_to_a_text_without_it() -> None:
    assert parse_run_marker(replace_run_marker("a human wrote this", "run-a", None)) == ("run-a", None)


# ---- check reports -----------------------------------------------------------------------------
def test_a_clear_improvement_succeeds_with_the_delta_in_the_title(config: Config) -> None:
    report = check_report(result([0.20, 0.22, 0.24]), result([0.10, 0.12, 0.13]), config)

    assert report.conclusion == "success"
    assert report.title == "relative_ee -47.0% (0.22 → 0.1167): better (won 3/3 seeds)"


def test_no_change_is_neutral(config: Config) -> None:
    report = check_report(result([0.20, 0.22, 0.24]), result([0.20, 0.22, 0.24]), config)

    assert report.conclusion == "neutral"


def test_a_broken_guardrail_fails_even_when_the_objective_improves(config: Config) -> None:
    report = check_report(result([0.20, 0.22, 0.24]), result([0.10, 0.12, 0.13], runtime=2.0), config)

    assert report.conclusion == "failure"
    assert "guardrail runtime_s 1 → 2: breaks allowance (+100% of +50%)" in report.summary


def test_a_head_that_failed_to_evaluate_fails(config: Config) -> None:
    head = EvalResult(tree="t", seeds=[SeedResult(seed=0, ok=False, failure="crash", reason="ImportError")])

    report = check_report(result([0.20]), head, config)

    assert report.conclusion == "failure" and "head failed on seed 0: crash ImportError" in report.summary


def test_the_verify_comment_compares_base_and_head_of_the_same_job(config: Config) -> None:
    comment = verify_comment(
        result([0.20, 0.22, 0.24]), result([0.10, 0.12, 0.13]), config, base_sha="b" * 40, head_sha="a" * 40
    )

    assert comment.startswith(VERIFY_MARKER) and STICKY_MARKER not in comment  # its own comment
    assert "`aaaaaaa` vs base `bbbbbbb`" in comment
    assert "same job on the same runner" in comment
    assert "<summary>Per-seed detail</summary>" in comment


# ---- truncation --------------------------------------------------------------------------------
def test_text_that_fits_is_unchanged() -> None:
    assert truncate_body("short") == "short"


def test_truncation_respects_the_limit_and_says_so() -> None:
    text = "\n".join(f"line {i}" for i in range(20_000))

    cut = truncate_body(text)

    assert len(cut) <= BODY_LIMIT
    assert "Truncated:" in cut and "job summary" in cut


def test_truncation_closes_an_open_code_fence_and_details_block() -> None:
    text = "<details>\n<summary>diff</summary>\n\n```diff\n" + "+x\n" * 40_000

    cut = truncate_body(text, limit=2000)

    before_note = cut.split("> [!NOTE]")[0]
    assert before_note.count("```") == 2
    assert before_note.count("</details>") == 1
