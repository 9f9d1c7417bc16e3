"""Plan benchmark runs, execute each as the real `growthhacker run` on a fresh copy, record the outcome.

Each run is isolated: its own git repository under the work directory, its own CLI process (own
session, killed with its children on timeout), its own journal. Runs execute ``workers`` at a time;
every finished run is appended to ``runs.jsonl`` at once, and runs already recorded there are skipped,
so an interrupted benchmark continues where it stopped.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from bot.errors import JournalError
from bot.journal import JOURNAL_FILE, Journal, RunFinished
from bot.results import EvalResult, RunSummary
from bot.workspace import STATE_DIR
from evals.audit import audit
from evals.records import (
    FRAMEWORKS,
    RUNS_FILE,
    EvalsError,
    Framework,
    ProcessStatus,
    RunRecord,
    RunSpec,
    append_run,
    read_runs,
)
from evals.targets import audit_seeds, prepare_repo, run_seeds, target_dir

#: A run taking longer than this is killed and recorded as "timeout".
RUN_TIMEOUT_S = 4 * 3600.0
_EXTREME = ("non_finite", "extreme_value")
_ERROR_TAIL_LINES = 15


BackendKind = Literal["anthropic", "command"]


@dataclass(frozen=True)
class Backend:
    """How the LLM frameworks reach a model: the Anthropic API or any command (``--agent command``)."""

    kind: BackendKind = "anthropic"
    command: str | None = None
    #: Seconds one agent call may take (``loop.agent_timeout_s``); None keeps the target's setting.
    agent_timeout_s: float | None = None

    def describe(self, framework: Framework) -> str:
        """The backend label recorded for a run of ``framework``."""
        if framework == "heuristic":
            return "heuristic"
        return self.kind if self.command is None else f"command: {self.command}"


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` → ``(i, n)`` with 1 ≤ i ≤ n.

    Raises:
        EvalsError: not of that form.
    """
    index, _, total = text.partition("/")
    if not (index.isdigit() and total.isdigit() and 1 <= int(index) <= int(total)):
        raise EvalsError(f"--shard must look like 2/4 (shard 2 of 4, counting from 1), got {text!r}")
    return int(index), int(total)


def plan(targets: Sequence[str], frameworks: Sequence[Framework], runs: int, iterations: int, *,
         search: int | None = None, confirm: int | None = None, validate: int | None = None,
         audit: int = 0, shard: tuple[int, int] = (1, 1)) -> list[RunSpec]:
    """Every run of targets × frameworks × ``runs`` in a fixed order, then this shard's share of them
    (every n-th run starting at the i-th, so shards get similar mixes of targets).

    Raises:
        EvalsError: an unknown target or framework, or bad seed counts.
        ConfigError: a target's config is invalid.
    """
    unknown = [f for f in frameworks if f not in FRAMEWORKS]
    if unknown:
        raise EvalsError(f"unknown framework(s) {unknown}; choose from {', '.join(FRAMEWORKS)}")
    specs = []
    for name in targets:
        path = target_dir(name)
        for run in range(runs):
            search_seeds, confirm_seeds, validate_seeds = run_seeds(path, run, search, confirm, validate)
            for framework in frameworks:
                specs.append(RunSpec(target=name, framework=framework, run=run, iterations=iterations,
                                     search_seeds=search_seeds, confirm_seeds=confirm_seeds,
                                     validate_seeds=validate_seeds, audit_seeds=audit_seeds(run, audit)))
    index, total = shard
    return specs[index - 1 :: total]


def cli_command(spec: RunSpec, repo: Path, backend: Backend) -> list[str]:
    """The `growthhacker run` command line for ``spec`` on ``repo``.

    Raises:
        EvalsError: the console script is not installed next to this interpreter.
    """
    script = Path(sys.executable).parent / "growthhacker"
    if not script.is_file():
        raise EvalsError(f"{script} not found: install the bot into this environment (`make install`)")
    command = [str(script), "run", str(repo), "--iterations", str(spec.iterations)]
    if spec.framework == "heuristic":
        return [*command, "--agent", "heuristic"]
    command += ["--agent", backend.kind, "--framework", spec.framework]
    if backend.kind == "command":
        if not backend.command:
            raise EvalsError("--backend command needs --agent-command")
        command += ["--agent-command", backend.command]
    return command


def machine() -> str:
    """A one-line description of this machine: CPU model, cores, OS, Python."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def execute(spec: RunSpec, work: Path, backend: Backend, environ: Mapping[str, str],
            timeout_s: float = RUN_TIMEOUT_S) -> RunRecord:
    """Copy the target to ``work/<key>/repo``, run the CLI on it and read the outcome from its journal.

    The CLI's output goes to ``work/<key>/growthhacker.log``.

    Raises:
        EvalsError: the target cannot be copied, or the CLI cannot be started.
    """
    run_dir = work.resolve() / spec.key  # the CLI runs in run_dir: every path it gets is absolute
    timeout = backend.agent_timeout_s if spec.framework != "heuristic" else None
    repo = prepare_repo(target_dir(spec.target), run_dir / "repo", spec.search_seeds, spec.confirm_seeds,
                        spec.validate_seeds, agent_timeout_s=timeout)
    shared_cache = work.resolve() / "catalog-cache"
    share_catalog(shared_cache, repo / STATE_DIR / "cache")
    log = run_dir / "growthhacker.log"
    env = {**target_environ(environ), "NO_COLOR": "1", "COLUMNS": "160", "PYTHONUNBUFFERED": "1"}
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as output:
        proc = subprocess.Popen(cli_command(spec, repo, backend), cwd=run_dir, env=env, stdout=output,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        process: ProcessStatus
        try:
            exit_code: int | None = proc.wait(timeout=timeout_s)
            process = "finished" if exit_code == 0 else "crashed"
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            exit_code, process = None, "timeout"
    wall_s = time.monotonic() - started
    share_catalog(repo / STATE_DIR / "cache", shared_cache)
    error = None if process == "finished" else _tail(log)
    record = RunRecord(spec=spec, backend=backend.describe(spec.framework), started_at=started_at,
                       machine=machine(), process=process, exit_code=exit_code, error=error, wall_s=wall_s)
    record = read_outcome(record, repo)
    if spec.audit_seeds and record.run_id is not None and record.verdict_recorded:
        record = record.model_copy(update=audit(repo, record.run_id, spec.audit_seeds, env))
    return record


def target_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with this interpreter's bin directory first on PATH: in this benchmark the targets'
    OPE libraries are installed in the bot's own environment, so their ``python`` is this one — for
    the bot's runs and for the audit the benchmark makes itself."""
    bin_dir = str(Path(sys.executable).parent)
    return {**environ, "PATH": os.pathsep.join([bin_dir, environ.get("PATH", os.defpath)])}


def share_catalog(source: Path, destination: Path) -> list[str]:
    """Copy the OPE catalog caches (``catalog-*.json``) of ``source`` that ``destination`` lacks.

    Every benchmark run works on a fresh copy of its target, so without this each run would read the
    installed libraries' signatures again, which a user's repeated runs on one repository do once
    (README, "Caches"). Returns the names copied; a cache that cannot be copied is just left out.
    """
    copied: list[str] = []
    for cached in sorted(source.glob("catalog-*.json")) if source.is_dir() else []:
        target = destination / cached.name
        if target.exists():
            continue
        with contextlib.suppress(OSError):
            destination.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f"{cached.name}.{os.getpid()}.tmp")
            shutil.copyfile(cached, partial)
            partial.replace(target)  # atomic: runs executed at once share the directory
            copied.append(cached.name)
    return copied


def read_outcome(record: RunRecord, repo: Path) -> RunRecord:
    """``record`` completed with what the journal of ``repo`` says about its (only) run."""
    journal = Journal(repo / STATE_DIR / JOURNAL_FILE)
    run_ids = journal.run_ids() if journal.path.exists() else []
    if not run_ids:
        return record
    run_id = run_ids[-1]
    records = journal.by_run(run_id)
    finished = next((r for r in reversed(records) if isinstance(r, RunFinished)), None)
    try:
        summary = journal.summary(run_id)
    except JournalError:  # the run died before its baseline was recorded
        return record.model_copy(update={"run_id": run_id})
    return record.model_copy(update={"run_id": run_id, **_facts(summary, finished)})


def _facts(summary: RunSummary, finished: RunFinished | None) -> dict[str, object]:
    metric = summary.metric
    its = summary.iterations
    statuses: dict[str, int] = {}
    for it in its:
        statuses[it.status] = statuses.get(it.status, 0) + 1
    extreme = sum(1 for it in its if _has_extreme(it.search) or _has_extreme(it.confirm))
    # An iteration evaluates its search seeds, and its validation seeds when it would become the
    # incumbent: both are evaluation, not the bot's overhead.
    evals = [_seconds(it.search) + _seconds(it.validation) for it in its]
    overheads = [it.duration_s - spent for it, spent in zip(its, evals, strict=True)]
    best = summary.best
    results = [summary.baseline_search, summary.baseline_validation, summary.baseline_confirm,
               *(it.search for it in its), *(it.validation for it in its), *(it.confirm for it in its)]
    durations = [s.duration_s for r in results if r is not None for s in r.seeds if not s.cached]
    return {
        "seeds_evaluated": len(durations),
        "seed_s_max": max(durations, default=None),
        "metric": metric,
        "goal": summary.goal,
        "verdict_recorded": finished is not None,
        "baseline_ok": summary.baseline_search.ok and _ok(summary.baseline_confirm),
        "baseline_search": _mean(summary.baseline_search, metric),
        "baseline_confirm": _mean(summary.baseline_confirm, metric),
        "iterations_run": len(its),
        "statuses": statuses,
        "evaluated": sum(1 for it in its if it.search is not None and it.search.ok),
        "extreme_values": extreme,
        "heldout_rejections": sum(1 for it in its if it.confirmed is False),
        "not_validated": sum(1 for it in its if it.failure_kind == "not_validated"),
        "winner": summary.winner,
        "heldout_improvement": finished.improvement if finished is not None else None,
        "winner_hypothesis": best.hypothesis if best is not None else None,
        "reason": summary.reason,
        "tokens": sum(it.tokens for it in its),
        "usd": sum(it.usd for it in its),
        "eval_s": sum(_seconds(r) for r in results),
        "overhead_s_per_iteration": sum(overheads) / len(overheads) if overheads else None,
        "eval_s_per_iteration": sum(evals) / len(evals) if evals else None,
    }


def _ok(result: EvalResult | None) -> bool:
    return result is not None and result.ok


def _has_extreme(result: EvalResult | None) -> bool:
    return result is not None and any(s.failure in _EXTREME for s in result.seeds)


def _seconds(result: EvalResult | None) -> float:
    return sum(s.duration_s for s in result.seeds if not s.cached) if result is not None else 0.0


def _mean(result: EvalResult | None, metric: str) -> float | None:
    return result.mean(metric) if result is not None and result.ok else None


def _tail(log: Path) -> str:
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(lines[-_ERROR_TAIL_LINES:])


def run_all(specs: Sequence[RunSpec], out: Path, work: Path, *, workers: int, backend: Backend,
            environ: Mapping[str, str], on_done: Callable[[RunRecord, int, int], None] | None = None,
            timeout_s: float = RUN_TIMEOUT_S) -> list[RunRecord]:
    """Execute the ``specs`` not yet in ``out/runs.jsonl``, ``workers`` at a time, appending each
    record as it finishes; returns every record of ``specs`` (earlier and new) in spec order.

    ``on_done(record, done, total)`` is called after each new run (from worker threads, serialised).

    Raises:
        EvalsError: ``out/runs.jsonl`` is malformed or holds one of the runs with other settings, or a
            run could not be started.
    """
    runs_file = out / RUNS_FILE
    existing = {r.spec.key: r for r in read_runs(runs_file)} if runs_file.exists() else {}
    clash = next((s for s in specs if s.key in existing and existing[s.key].spec != s), None)
    if clash is not None:
        raise EvalsError(f"{runs_file} already holds {clash.key} with other settings (iterations or seeds); "
                         "use another --out for a different configuration")
    todo = [s for s in specs if s.key not in existing]
    lock = threading.Lock()
    done: list[RunRecord] = []

    def one(spec: RunSpec) -> RunRecord:
        record = execute(spec, work, backend, environ, timeout_s)
        with lock:
            append_run(runs_file, record)
            done.append(record)
            if on_done is not None:
                on_done(record, len(done), len(todo))
        return record

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        new = {r.spec.key: r for r in pool.map(one, todo)}
    merged = {**existing, **new}
    return [merged[s.key] for s in specs]
