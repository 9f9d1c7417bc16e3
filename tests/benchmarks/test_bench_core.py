"""Benchmarks of the bot's own per-iteration overhead: patch apply and journal append/load.

`make test` runs these once with --benchmark-disable (a correctness smoke); for numbers run
`.venv/bin/pytest tests/benchmarks --benchmark-enable`. No timed assertions.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.journal import IterationRecorded, Journal
from bot.patch import PathPolicy, make_diff, plan_patch
from bot.results import EvalResult, SeedResult

POLICY = PathPolicy(editable=("pkg/**/*.py",), protected=())


def _record(n: int) -> IterationRecorded:
    search = EvalResult(tree="t" * 40, seeds=[SeedResult(seed=s, ok=True, metrics={"err": 0.1 * s + n})
                                              for s in range(3)])
    return IterationRecorded(run_id="bench", iteration=n, hypothesis=f"hypothesis {n} " * 5,
                             persona="estimator", diff="--- a/x\n+++ b/x\n" * 10, status="no_gain",
                             search=search)


@pytest.fixture(scope="module")
def big_journal(tmp_path_factory: pytest.TempPathFactory) -> Journal:
    journal = Journal(tmp_path_factory.mktemp("journal") / "journal.jsonl")
    with journal.path.open("w", encoding="utf-8") as handle:
        for n in range(10_000):
            handle.write(_record(n).model_dump_json() + "\n")
    return journal


def test_bench_journal_load_10k(benchmark, big_journal: Journal) -> None:  # type: ignore[no-untyped-def]
    records = benchmark(big_journal.records)
    assert len(records) == 10_000


def test_bench_journal_best_first_10k(benchmark, big_journal: Journal) -> None:  # type: ignore[no-untyped-def]
    attempts = benchmark(big_journal.attempts)
    assert len(attempts) == 10_000


def test_bench_journal_append(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    journal = Journal(tmp_path / "journal.jsonl")
    record = _record(1)
    benchmark(journal.append, record)
    assert journal.records()[-1] == record


def test_bench_patch_plan(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before = "".join(f"value_{i} = {i}\n" for i in range(2_000))
    after = before.replace("value_1000 = 1000\n", "value_1000 = -1\n").replace("value_5 = 5\n", "")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(before)
    diff = make_diff({"pkg/mod.py": before}, {"pkg/mod.py": after})

    applied = benchmark(plan_patch, diff, tmp_path, POLICY)

    assert applied.edits[0].after == after
