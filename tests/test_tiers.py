"""The seed tiers on the toy target: held-out seeds extended while undecided, and a run begun without
a validation tier resumed with one."""

from __future__ import annotations

from bot.journal import BaselineRecorded, ConfirmationRecorded, Journal
from bot.loop import LoopEvent
from bot.workspace import state_dir
from tests.helpers.loop import run_loop
from tests.helpers.toy import CONFIG, Step, toy_files

TWO_HELD_OUT = "seeds: {search: [0, 1, 2], confirm: [100, 101], extend: EXTEND}"


def toy_with(extend: int) -> dict[str, str]:
    files = toy_files(scale=1.0)
    seeds = "seeds: {search: [0, 1, 2], confirm: [100, 101, 102, 103, 104]}"
    files[".growthhacker.yml"] = CONFIG.replace(seeds, TWO_HELD_OUT.replace("EXTEND", str(extend)))
    return files


def test_an_undecided_finalist_gets_more_held_out_seeds_until_decided(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_with(extend=3))
    events: list[LoopEvent] = []

    summary, _, journal = run_loop(repo, [Step("scale 0.3", "SCALE = 0.3\n")], events=events)

    assert summary.winner == 1
    (confirmation,) = [r for r in journal.records() if isinstance(r, ConfirmationRecorded)]
    assert [s.seed for s in confirmation.confirm.seeds] == [100, 101, 102], "2/2 needs one more seed at 1/8"
    assert "better (won 3/3 seeds)" in confirmation.reason
    baselines = [r for r in journal.records() if isinstance(r, BaselineRecorded)]
    assert [s.seed for s in baselines[-1].confirm.seeds] == [100, 101, 102]
    assert any(e.kind == "extending" and "[102]" in e.message for e in events)
    assert summary.baseline_confirm is not None and len(summary.baseline_confirm.seeds) == 3


def test_without_extension_an_undecided_finalist_is_not_confirmed_and_says_what_it_needs(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(toy_with(extend=0))

    summary, _, journal = run_loop(repo, [Step("scale 0.3", "SCALE = 0.3\n")])

    assert summary.winner is None
    (confirmation,) = [r for r in journal.records() if isinstance(r, ConfirmationRecorded)]
    assert "undecided (won 2/2 seeds; needs about 3)" in confirmation.reason


def test_a_run_begun_without_validation_is_resumed_with_the_tier(make_repo) -> None:  # type: ignore[no-untyped-def]
    files = toy_files(scale=1.0)
    files[".growthhacker.yml"] = CONFIG.replace("seeds: {search", "seeds: {validate: [], search")
    repo = make_repo(files)
    run_loop(repo, [], run_id="old")
    journal = Journal(state_dir(repo) / "journal.jsonl")
    # What an older version left when it was killed after its baseline: no validation results.
    started, baseline = journal.by_run("old")[:2]
    assert isinstance(baseline, BaselineRecorded) and baseline.validation is None
    journal.path.unlink()
    journal.append(started)
    journal.append(baseline)
    (repo / ".growthhacker.yml").write_text(CONFIG, encoding="utf-8")

    summary, _, _ = run_loop(repo, [Step("scale 0.3", "SCALE = 0.3\n")], run_id="old", resume=True)

    assert summary.baseline_validation is not None
    assert [s.seed for s in summary.baseline_validation.seeds] == [200, 201, 202]
    assert summary.iterations[0].validation is not None and summary.winner == 1
