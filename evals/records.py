"""One JSON object per benchmark run (``runs.jsonl``): what was run, on what, and what came out.

A record holds raw facts read from the run's journal; what they *mean* (reliable, positive …) is
defined once, in :mod:`evals.metrics`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import GrowthHackerError

RUNS_FILE = "runs.jsonl"
Framework = Literal["heuristic", "default", "two_agent"]
FRAMEWORKS: tuple[Framework, ...] = ("heuristic", "default", "two_agent")
#: finished: the CLI exited 0; crashed: it exited non-zero; timeout: the runner killed it.
ProcessStatus = Literal["finished", "crashed", "timeout"]


class EvalsError(GrowthHackerError):
    """A benchmark input is unusable (unknown target, malformed runs.jsonl, bad shard …)."""


class RunSpec(BaseModel):
    """One run to execute: a target, a framework, the run's index and its seeds."""

    model_config = ConfigDict(frozen=True)

    target: str
    framework: Framework
    run: int = Field(ge=0)
    iterations: int = Field(ge=0)
    search_seeds: list[int]
    confirm_seeds: list[int]
    #: The validation tier's seeds ([]: the tier was off, as in records written before it existed).
    validate_seeds: list[int] = Field(default_factory=list)
    #: Fresh seeds the incumbent and the winner are audited on after the run ([]: no audit).
    audit_seeds: list[int] = Field(default_factory=list)

    @property
    def key(self) -> str:
        """``target/framework/run-N``: unique within a benchmark, also the run's work directory."""
        return f"{self.target}/{self.framework}/run-{self.run}"


class RunRecord(BaseModel):
    """The outcome of one :class:`RunSpec`, as written to ``runs.jsonl``."""

    model_config = ConfigDict(frozen=True)

    spec: RunSpec
    backend: str
    started_at: str
    machine: str
    process: ProcessStatus
    exit_code: int | None = None
    #: Last lines of the CLI's output when it did not finish cleanly.
    error: str | None = None
    run_id: str | None = None
    metric: str | None = None
    goal: Literal["minimize", "maximize"] | None = None
    #: A ``run_finished`` record is in the journal (the bot reached a verdict).
    verdict_recorded: bool = False
    #: The unmodified target evaluated cleanly on the search and held-out seeds.
    baseline_ok: bool = False
    baseline_search: float | None = None
    baseline_confirm: float | None = None
    iterations_run: int = 0
    #: Iterations per status (improved / no_gain / failed / flagged).
    statuses: dict[str, int] = Field(default_factory=dict)
    #: Candidates that evaluated cleanly on every search seed.
    evaluated: int = 0
    #: Candidates with a non-finite or out-of-bounds metric on some seed (search or held-out).
    extreme_values: int = 0
    #: Finalists that beat the baseline on the search seeds but were rejected on the held-out seeds.
    heldout_rejections: int = 0
    #: Candidates that beat the incumbent on the search seeds but did not validate.
    not_validated: int = 0
    #: The run's final incumbent (the candidate its last iteration would have built on).
    incumbent: int | None = None
    #: Relative improvement over the baseline on the audit seeds (positive = better): the final
    #: incumbent's and the winner's; below 0, it is a trap.
    incumbent_audit: float | None = None
    winner_audit: float | None = None
    #: Why the incumbent's / winner's evaluation on the audit seeds failed (an extreme value, a
    #: crash): a candidate that breaks on fresh seeds where the baseline does not is a trap too.
    incumbent_audit_failure: str | None = None
    winner_audit_failure: str | None = None
    winner: int | None = None
    #: Relative improvement of the winner on the held-out seeds (positive = better, 0.1 = 10%).
    heldout_improvement: float | None = None
    winner_hypothesis: str | None = None
    reason: str = ""
    tokens: int = 0
    usd: float = 0.0
    wall_s: float = 0.0
    #: Seconds spent inside the eval command (every seed of every evaluation, cache hits excluded).
    eval_s: float = 0.0
    #: Seed evaluations in this run (cache hits excluded) and the slowest one's seconds.
    seeds_evaluated: int = 0
    seed_s_max: float | None = None
    #: Mean per iteration: the iteration's wall time minus its search-seed evaluations.
    overhead_s_per_iteration: float | None = None
    #: Mean per iteration: the wall time of its search-seed evaluations.
    eval_s_per_iteration: float | None = None


def read_runs(path: Path) -> list[RunRecord]:
    """Every record in the ``runs.jsonl`` at ``path`` (a directory means its ``runs.jsonl``).

    Raises:
        EvalsError: the file is missing or a line is not a run record.
    """
    file = path / RUNS_FILE if path.is_dir() else path
    if not file.is_file():
        raise EvalsError(f"no {RUNS_FILE} at {file}; run `python -m evals run` first")
    records = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(RunRecord.model_validate_json(line))
        except ValidationError as exc:
            raise EvalsError(f"{file}:{number}: not a run record ({exc.errors()[0]['msg']})") from exc
    return records


def append_run(path: Path, record: RunRecord) -> None:
    """Append one record to the ``runs.jsonl`` file at ``path`` (created with its parents)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(record.model_dump_json() + "\n")


def write_runs(path: Path, records: Iterable[RunRecord]) -> None:
    """Write ``records`` as the whole ``runs.jsonl`` at ``path``, sorted by run key."""
    ordered = sorted(records, key=_order)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(r.model_dump_json() + "\n" for r in ordered), encoding="utf-8")


def merge_runs(sources: Iterable[Path]) -> list[RunRecord]:
    """The records of several shard outputs (directories or files), one per run key.

    A key present in two sources is the same run executed twice (a retried shard): the later start
    wins. Returns the records sorted by key.

    Raises:
        EvalsError: a source is missing or malformed, or two records of one key disagree on the spec.
    """
    by_key: dict[str, RunRecord] = {}
    for source in sources:
        for record in read_runs(source):
            key = record.spec.key
            previous = by_key.get(key)
            if previous is not None and previous.spec != record.spec:
                raise EvalsError(
                    f"{key} appears with different settings in two shards ({_spec_text(previous.spec)} vs "
                    f"{_spec_text(record.spec)}); merge only shards of one benchmark configuration"
                )
            if previous is None or record.started_at >= previous.started_at:
                by_key[key] = record
    return sorted(by_key.values(), key=_order)


def _order(record: RunRecord) -> tuple[str, int, int]:
    return record.spec.target, FRAMEWORKS.index(record.spec.framework), record.spec.run


def _spec_text(spec: RunSpec) -> str:
    return json.dumps(spec.model_dump(exclude={"target", "framework", "run"}), sort_keys=True)
