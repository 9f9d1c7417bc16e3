"""The gather's checks on shard directories, and how a run's iterations and budget are dealt out."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ShardError
from bot.journal import BaselineRecorded, IterationRecorded, Journal, RunStarted
from bot.results import EvalResult, SeedResult
from bot.shards import JOURNAL, RECORDS, ShardSpec, finish, gathered_lines, prepare, read_done, split_budget


def test_shards_deal_out_every_iteration_once() -> None:
    specs = [ShardSpec(run_id="r", index=i, count=3, base_commit="b", iterations=8) for i in range(3)]
    slices = [spec.numbers() for spec in specs]

    assert slices == [[1, 4, 7], [2, 5, 8], [3, 6]]
    assert split_budget(2.0, 400_001, 3) == (2.0 / 3, 133_333)
    assert split_budget(None, None, 2) == (None, None)


def _result(value: float) -> EvalResult:
    return EvalResult(tree="t", seeds=[SeedResult(seed=s, ok=True, metrics={"err": value}) for s in (0, 1)])


def _shard(root: Path, index: int, count: int = 2, run_id: str = "r") -> Path:
    spec = ShardSpec(run_id=run_id, index=index, count=count, base_commit="b" * 40, iterations=4)
    out = root / f"{run_id}-{index}"
    assert prepare(out, spec, Journal(root / "project.jsonl")) is False
    journal = Journal(out / JOURNAL)
    journal.append(RunStarted(run_id=run_id, base_commit=spec.base_commit, agent="heuristic", iterations=4,
                              metric="err", goal="minimize"))
    journal.append(BaselineRecorded(run_id=run_id, search=_result(1.0), confirm=_result(1.0)))
    for n in spec.numbers():
        journal.append(IterationRecorded(run_id=run_id, iteration=n, hypothesis=f"h{n}", persona="estimator",
                                         diff=f"d{n}", status="improved", search=_result(1.0 - n / 10)))
    finish(out, spec, None)
    return out


def test_the_gather_merges_shard_0s_start_and_baseline_then_every_iteration_in_order(tmp_path: Path) -> None:
    project = Journal(tmp_path / "project.jsonl")
    project.append(RunStarted(run_id="earlier", base_commit="a", agent="x", iterations=1, metric="err",
                              goal="minimize"))
    shards = [_shard(tmp_path, 1), _shard(tmp_path, 0)]

    gathered = gathered_lines(shards)

    kinds = [line.split('"kind":"')[1].split('"')[0] for line in gathered.lines]
    assert kinds == ["run_started", "baseline", "iteration", "iteration", "iteration", "iteration"]
    assert [line for line in gathered.lines if '"earlier"' in line] == [], "the view is not the shard's"
    assert project.merge(gathered.lines) == 6
    assert project.merge(gathered_lines(shards).lines) == 0, "gathering again adds nothing"


def test_the_gather_refuses_a_missing_unfinished_foreign_or_altered_shard(tmp_path: Path) -> None:
    zero, one = _shard(tmp_path, 0), _shard(tmp_path, 1)
    with pytest.raises(ShardError, match=r"shard\(s\) 1 of run r are missing"):
        gathered_lines([zero])
    with pytest.raises(ShardError, match="given twice"):
        gathered_lines([zero, zero, one])
    with pytest.raises(ShardError, match="not of run r"):
        gathered_lines([zero, _shard(tmp_path, 1, run_id="other")])
    with (one / RECORDS).open("a") as records:
        records.write('{"kind": "iteration"}\n')
    assert read_done(one) is None
    with pytest.raises(ShardError, match="no finished shard"):
        gathered_lines([zero, one])


def test_a_directory_of_another_shard_is_refused(tmp_path: Path) -> None:
    out = _shard(tmp_path, 0)
    other = ShardSpec(run_id="r", index=1, count=2, base_commit="b" * 40, iterations=4)
    with pytest.raises(ShardError, match="holds shard 0 of 2 of run r"):
        prepare(out, other, Journal(tmp_path / "project.jsonl"))
