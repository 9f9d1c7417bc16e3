"""Sharding the planned runs and merging shard outputs back into one benchmark."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evals.records import RUNS_FILE, EvalsError, append_run, merge_runs, read_runs, write_runs
from evals.runner import parse_shard, plan
from evals.targets import list_targets
from tests.helpers.evals import positive, record

ROOT = Path(__file__).resolve().parents[1]


def test_shards_partition_the_plan() -> None:
    full = plan(list_targets(), ["heuristic", "default", "two_agent"], runs=2, iterations=1)

    shards = [plan(list_targets(), ["heuristic", "default", "two_agent"], runs=2, iterations=1, shard=(i, 3))
              for i in (1, 2, 3)]

    keys = [s.key for shard in shards for s in shard]
    assert sorted(keys) == sorted(s.key for s in full)
    assert len(set(keys)) == len(keys) == 6 * len(list_targets())


def test_every_shard_gets_a_mix_of_targets() -> None:
    shard = plan(list_targets(), ["heuristic"], runs=2, iterations=1, shard=(1, 2))

    assert len({s.target for s in shard}) == len(list_targets())


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_malformed_shards_are_refused(text: str) -> None:
    with pytest.raises(EvalsError, match="--shard"):
        parse_shard(text)


def test_merge_joins_disjoint_shards_sorted_by_key(tmp_path: Path) -> None:
    for i, rec in enumerate([record("two_agent", "b"), record("heuristic", "a"), record("heuristic", "b")]):
        append_run(tmp_path / f"shard-{i}" / RUNS_FILE, rec)

    merged = merge_runs(sorted(tmp_path.iterdir()))

    assert [r.spec.key for r in merged] == ["a/heuristic/run-0", "b/heuristic/run-0", "b/two_agent/run-0"]


def test_merge_keeps_the_later_of_two_attempts_of_one_run(tmp_path: Path) -> None:
    append_run(tmp_path / "first.jsonl", record(started_at="2026-11-25T10:00:00+00:00", process="crashed"))
    append_run(tmp_path / "retry.jsonl", positive(0.3, started_at="2026-11-25T11:00:00+00:00"))

    (merged,) = merge_runs([tmp_path / "retry.jsonl", tmp_path / "first.jsonl"])

    assert merged.process == "finished" and merged.heldout_improvement == 0.3


def test_merge_refuses_one_run_key_with_different_settings(tmp_path: Path) -> None:
    append_run(tmp_path / "a.jsonl", record())
    other = record()
    changed = other.spec.model_copy(update={"iterations": 9})
    append_run(tmp_path / "b.jsonl", other.model_copy(update={"spec": changed}))

    with pytest.raises(EvalsError, match="different settings"):
        merge_runs([tmp_path / "a.jsonl", tmp_path / "b.jsonl"])


def test_a_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / RUNS_FILE
    write_runs(path, [record()])
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"spec": "nope"}) + "\n")

    with pytest.raises(EvalsError, match=rf"{RUNS_FILE}:2"):
        read_runs(tmp_path)


def test_merge_command_writes_the_merged_runs_and_report(tmp_path: Path) -> None:
    append_run(tmp_path / "s1" / RUNS_FILE, positive(0.4, target="a"))
    append_run(tmp_path / "s2" / RUNS_FILE, record("default", "a"))

    command = [sys.executable, "-m", "evals", "merge", str(tmp_path / "s1"), str(tmp_path / "s2"),
               "--out", str(tmp_path / "all")]

    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)

    assert proc.returncode == 0, proc.stderr
    assert len(read_runs(tmp_path / "all")) == 2
    assert "| a | heuristic | 1 | 100% (1/1) | 100% (1/1) | +40.0% |" in proc.stdout
    assert (tmp_path / "all" / "report.md").is_file()
