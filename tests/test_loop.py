"""The inner loop on a toy target: real git worktree, real eval subprocesses, scripted agent."""

from __future__ import annotations

from bot.git import git
from bot.journal import ConfirmationRecorded, IterationRecorded, RunFinished
from bot.loop import LoopEvent
from tests.helpers.loop import run_loop
from tests.helpers.toy import CONFIG, PARAMS, Step, toy_files


def test_best_confirmed_candidate_wins_and_is_committed_on_a_branch(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files(scale=1.0))
    steps = [
        Step("scale 0.6", "SCALE = 0.6\n"),
        Step("scale 0.3", "SCALE = 0.3\n"),
        Step("scale 2.0", "SCALE = 2.0\n"),
    ]

    summary, _, _ = run_loop(repo, steps)

    assert summary.winner == 2
    assert summary.branch == "growthhacker/r1"
    assert [it.status for it in summary.iterations] == ["improved", "improved", "no_gain"]
    committed = git(repo, "show", f"{summary.branch}:{PARAMS}")
    assert committed == "SCALE = 0.3\n"
    assert "scale 0.3" in git(repo, "log", "-1", "--format=%B", summary.branch)
    assert (repo / PARAMS).read_text() == "SCALE = 1.0\n", "the user's checkout must not change"


def test_a_search_only_win_does_not_validate_and_never_touches_the_held_out_seeds(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files(scale=1.0))
    steps = [Step("overfit the search seeds", "SCALE = 1.0\nOVERFIT = True\n")]
    events: list[LoopEvent] = []

    summary, _, journal = run_loop(repo, steps, events=events)

    trap = summary.iterations[0]
    assert (trap.status, trap.failure_kind) == ("no_gain", "not_validated")
    assert (trap.failure_reason or "").startswith("did not validate: err +")
    assert trap.validation is not None and [s.seed for s in trap.validation.seeds] == [200, 201, 202]
    assert summary.winner is None
    assert not [r for r in journal.records() if isinstance(r, ConfirmationRecorded)]
    kinds = [e.kind for e in events if e.iteration == 1]
    assert kinds[-3:] == ["validating", "not_validated", "iteration_done"]


def test_without_a_validation_tier_the_held_out_seeds_reject_a_search_only_win(make_repo) -> None:  # type: ignore[no-untyped-def]
    files = toy_files(scale=1.0)
    files[".growthhacker.yml"] = CONFIG.replace("seeds: {search", "seeds: {validate: [], search")
    repo = make_repo(files)
    steps = [Step("overfit the search seeds", "SCALE = 1.0\nOVERFIT = True\n")]

    summary, _, journal = run_loop(repo, steps)

    assert summary.iterations[0].status == "improved"
    assert summary.winner is None
    assert "did not confirm on the held-out seeds" in summary.reason
    confirmations = [r for r in journal.records() if isinstance(r, ConfirmationRecorded)]
    assert len(confirmations) == 1 and not confirmations[0].confirmed
    assert "worse (won 0/5 seeds)" in confirmations[0].reason


def test_a_trap_then_a_real_gain_ends_with_the_real_gain_and_the_agents_see_the_trap(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files(scale=1.0))
    steps = [Step("overfit the search seeds", "SCALE = 1.0\nOVERFIT = True\n"),
             Step("scale 0.3", "SCALE = 0.3\n")]

    summary, agent, _ = run_loop(repo, steps)

    assert summary.winner == 2
    assert [(it.status, it.failure_kind) for it in summary.iterations] == [
        ("no_gain", "not_validated"), ("improved", None)]
    seen = agent.contexts[1]
    assert seen.files[PARAMS] == "SCALE = 1.0\n", "the trap is no incumbent: the next build starts from base"
    assert seen.attempts[0].failure_kind == "not_validated"
    assert (seen.attempts[0].failure_reason or "").startswith("did not validate")


def test_crash_nan_and_guardrail_failures_are_recorded_not_fatal(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files(scale=1.0))
    steps = [
        Step("crash", "SCALE = 0.3\nCRASH = True\n"),
        Step("nan", "SCALE = 0.3\nNAN = True\n"),
        Step("slow", "SCALE = 0.3\nCOST = 3.0\n"),
        Step("good", "SCALE = 0.35\n"),
    ]

    summary, _, _ = run_loop(repo, steps, max_same_failures=5)

    outcomes = [(it.status, it.failure_kind) for it in summary.iterations]
    assert outcomes == [
        ("failed", "crash"), ("failed", "non_finite"), ("no_gain", "guardrail"), ("improved", None),
    ]
    assert "runtime_s" in (summary.iterations[2].failure_reason or ""), "the reason names the guardrail"
    assert summary.winner == 4


def test_malformed_diff_is_repaired_with_the_engine_reason(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files())
    steps = [Step("scale 0.3", "SCALE = 0.3\n", raw_first=("this is not a diff",))]

    summary, agent, _ = run_loop(repo, steps)

    assert summary.winner == 1
    assert agent.requests[1].feedback is not None and "empty_diff" in agent.requests[1].feedback
    assert agent.requests[1].previous_diff == "this is not a diff"


def test_protected_file_edit_is_refused_before_evaluation(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files())
    evil = (
        "--- a/evaluate.py\n+++ b/evaluate.py\n@@ -1 +1 @@\n"
        "-import argparse, json, pathlib, random, sys, time\n+import os\n"
    )
    steps = [Step("edit the harness", "SCALE = 0.3\n", raw_first=(evil, evil, evil))]

    summary, _, _ = run_loop(repo, steps)

    assert summary.iterations[0].status == "failed"
    assert "protected_path" in (summary.iterations[0].failure_reason or "")


def test_iteration_files_are_written(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files())
    run_loop(repo, [Step("scale 0.3", "SCALE = 0.3\n")])

    it_dir = repo / ".growthhacker" / "runs" / "r1" / "1"
    for name in (
        "analysis.json",
        "candidate.diff",
        "metrics.json",
        "prompt-analyzer.md",
        "response-analyzer.md",
        "prompt-coder-0.md",
        "response-coder-0.md",
    ):
        assert (it_dir / name).is_file(), name
    assert (it_dir / "logs" / "seed-0.log").is_file()
    assert "+SCALE = 0.3" in (it_dir / "candidate.diff").read_text()


def test_next_candidate_builds_on_the_incumbent_and_sees_the_journal(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files())
    steps = [Step("scale 0.5", "SCALE = 0.5\n"), Step("add cost flag", "SCALE = 0.5\nCOST = 1.0\n")]

    _, agent, _ = run_loop(repo, steps)

    second = agent.contexts[1]
    assert second.files[PARAMS] == "SCALE = 0.5\n"
    assert [a.hypothesis for a in second.attempts] == ["scale 0.5"]
    assert second.attempts[0].status == "improved"


def test_same_failure_reason_pauses_the_run(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_files())
    steps = [Step(f"crash {i}", f"SCALE = 0.{i}\nCRASH = True\n") for i in range(1, 6)]
    events: list[LoopEvent] = []

    summary, _, journal = run_loop(repo, steps, events=events, max_same_failures=3)

    assert len(summary.iterations) == 3
    assert summary.stopped_early is not None and "consecutive failures" in summary.stopped_early
    finished = [r for r in journal.records() if isinstance(r, RunFinished)]
    assert finished[0].winner is None
    assert any(e.kind == "stopped" for e in events)


def test_failing_baseline_ends_the_run_with_a_clear_reason(make_repo) -> None:  # type: ignore[no-untyped-def]
    files = toy_files()
    files[PARAMS] = "SCALE = 1.0\nCRASH = True\n"
    repo = make_repo(files)

    summary, agent, journal = run_loop(repo, [Step("x", "SCALE = 0.3\n")])

    assert summary.winner is None
    assert "unmodified repository fails its own evaluation" in summary.reason
    assert agent.contexts == []
    assert not [r for r in journal.records() if isinstance(r, IterationRecorded)]


def test_a_project_in_a_subdirectory_is_optimised_in_place(make_repo) -> None:  # type: ignore[no-untyped-def]
    files = {f"proj/{path}": text for path, text in toy_files().items()}
    files["README.md"] = "monorepo\n"
    repo = make_repo(files)
    steps = [Step("scale 0.3", "SCALE = 0.3\n")]

    summary, agent, _ = run_loop(repo / "proj", steps)

    assert list(agent.contexts[0].files) == ["proj/pipeline/__init__.py", "proj/pipeline/params.py"]
    assert summary.winner == 1
    assert git(repo, "show", f"{summary.branch}:proj/{PARAMS}") == "SCALE = 0.3\n"
    assert (repo / "proj" / ".growthhacker" / "journal.jsonl").is_file()
