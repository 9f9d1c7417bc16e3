"""Confirmations of a sharded run's finalists made apart: what the gather takes from them, what it
refuses, and the baseline the extended held-out seeds join into."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ShardError
from bot.finalists import (
    DONE,
    RECORDS,
    confirmation_lines,
    copy_results,
    finish,
    joined_baseline,
    read_done,
    start,
)
from bot.journal import BaselineRecorded, ConfirmationRecorded, Journal, RunStarted
from bot.results import EvalResult, SeedResult


def _result(seeds: list[int], value: float) -> EvalResult:
    return EvalResult(tree="t", seeds=[SeedResult(seed=s, ok=True, metrics={"err": value + s / 1000})
                                       for s in seeds])


SHARD_LINES = [
    RunStarted(run_id="r", base_commit="b" * 40, agent="heuristic", iterations=4, metric="err",
               goal="minimize").model_dump_json(),
    BaselineRecorded(run_id="r", search=_result([0, 1], 1.0),
                     confirm=_result([100, 101], 1.0)).model_dump_json(),
]


def _confirmation(root: Path, finalist: int, iteration: int | None, run_id: str = "r") -> Path:
    """A finished confirmation: the finalist better on the held-out seeds, after one more seed (so it
    also records the baseline extended by that seed)."""
    out = root / f"finalist-{run_id}-{finalist}"
    journal = start(out, SHARD_LINES)
    if iteration is not None:
        journal.append(BaselineRecorded(run_id=run_id, search=_result([0, 1], 1.0),
                                        confirm=_result([100, 101, 102], 1.0)))
        journal.append(ConfirmationRecorded(run_id=run_id, iteration=iteration,
                                            confirm=_result([100, 101, 102], 0.5), confirmed=True,
                                            reason="better"))
        (out / "iterations" / str(iteration)).mkdir(parents=True)
        (out / "iterations" / str(iteration) / "confirm.json").write_text("{}")
    finish(out, run_id, finalist, iteration, SHARD_LINES)
    return out


def test_the_gather_takes_each_finished_confirmation_in_finalist_order_and_notes_an_unfinished_one(
        tmp_path: Path) -> None:
    second, first = _confirmation(tmp_path, 1, 7), _confirmation(tmp_path, 0, 3)
    killed = tmp_path / "killed"
    start(killed, SHARD_LINES)  # started, never finished

    lines, notes = confirmation_lines([second, killed, first], "r", [3, 7, 5])

    kinds = [(line.split('"kind":"')[1].split('"')[0], '"iteration":3' in line) for line in lines]
    assert kinds == [("baseline", False), ("confirmation", True),  # finalist 0: iteration 3
                     ("baseline", False), ("confirmation", False)]
    assert notes == [f"{killed} holds no finished confirmation: the gather confirms its finalist"]


def test_a_confirmation_of_another_run_finalist_or_altered_records_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ShardError, match="not of run r"):
        confirmation_lines([_confirmation(tmp_path, 0, 3, run_id="other")], "r", [3])
    # The shards it was confirmed from ranked another iteration first: not this run's finalist 0.
    with pytest.raises(ShardError, match="iteration 4 as finalist 0, but the shards' finalist 0 is 3"):
        confirmation_lines([_confirmation(tmp_path, 0, 4)], "r", [3])
    # A run with one finalist: finalist 1 confirmed nothing, and must not claim an iteration.
    assert confirmation_lines([_confirmation(tmp_path, 1, None)], "r", [3]) == ([], [])
    with pytest.raises(ShardError, match="finalist 1 is 7"):
        confirmation_lines([_confirmation(tmp_path, 1, None)], "r", [3, 7])
    one = _confirmation(tmp_path, 0, 3)
    with pytest.raises(ShardError, match="confirmed twice"):
        confirmation_lines([one, one], "r", [3])
    with (one / RECORDS).open("a") as records:
        records.write(SHARD_LINES[0] + "\n")  # a changed file no longer matches its hash
    assert read_done(one) is None


def test_a_finished_confirmation_may_hold_only_its_finalists_confirmation_and_the_baseline(
        tmp_path: Path) -> None:
    out = _confirmation(tmp_path, 0, 3)
    other = ConfirmationRecorded(run_id="r", iteration=9, confirm=_result([100], 0.1), confirmed=True,
                                 reason="x")
    Journal(out / "journal.jsonl").append(other)
    (out / DONE).unlink()
    finish(out, "r", 0, 3, SHARD_LINES)

    with pytest.raises(ShardError, match="not finalist 0's confirmation in run r"):
        confirmation_lines([out], "r", [3])


def test_the_extended_baselines_join_into_the_one_a_single_run_ends_with() -> None:
    base = BaselineRecorded(run_id="r", search=_result([0, 1], 1.0), confirm=_result([100, 101], 1.0))
    by_first = base.model_copy(update={"confirm": _result([100, 101, 102, 103], 1.0)})
    by_second = base.model_copy(update={"confirm": _result([100, 101, 102], 1.0)})

    joined = joined_baseline([base, by_first, by_second])

    assert joined is not None
    assert [s.seed for s in joined.confirm.seeds] == [100, 101, 102, 103]
    assert joined.search == base.search and joined.run_id == "r"
    assert joined_baseline([base, by_second, by_first]) is None, "the last one already holds every seed"
    assert joined_baseline([base]) is None and joined_baseline([]) is None


def test_a_confirmations_result_files_join_the_run_directory_without_replacing_any(tmp_path: Path) -> None:
    out = _confirmation(tmp_path, 0, 3)
    run_dir = tmp_path / "run"
    (run_dir / "3").mkdir(parents=True)
    (run_dir / "3" / "candidate.diff").write_text("the shard's")
    (run_dir / "3" / "confirm.json").write_text("already here")

    copy_results([out, tmp_path / "missing"], run_dir)

    assert (run_dir / "3" / "candidate.diff").read_text() == "the shard's"
    assert (run_dir / "3" / "confirm.json").read_text() == "already here"
    (run_dir / "3" / "confirm.json").unlink()
    copy_results([out], run_dir)
    assert (run_dir / "3" / "confirm.json").read_text() == "{}"
