"""Running the target repository's own evaluation command once per seed, and reading its metrics.

Candidates are machine-written code, so the command is assumed to misbehave: it runs through
:func:`bot.process.run_command` (own session, scrubbed environment, timeout, bounded output), its
metrics JSON is read bounded and parsed strictly, and a misbehaving candidate becomes a failed
:class:`~bot.results.SeedResult`, never an exception; a crash's reason is its exception line and
last frames (:func:`bot.crash.crash_summary`), not the library banners printed before them.
Results are cached by (tree, seed, settings).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import shlex
import stat
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from types import MappingProxyType

from pydantic import ValidationError

from bot.config import EvaluateConfig
from bot.crash import Crash, crash_summary, read_crash
from bot.errors import EvaluationError
from bot.process import ALLOWED_ENV, CommandResult, describe_exit, run_command, scrub_env
from bot.redact import scrub, secret_values
from bot.results import EvalResult, FailureKind, SeedResult

__all__ = [
    "ALLOWED_ENV",
    "MAX_METRICS_BYTES",
    "CommandResult",
    "Evaluator",
    "MetricsProblem",
    "compile_gate",
    "parse_metrics",
    "run_command",
    "scrub_env",
]

METRICS_PLACEHOLDER = "{metrics_path}"
#: Largest metrics file that is read; anything bigger is not a metrics object.
MAX_METRICS_BYTES = 1_000_000
_NO_BOUNDS: Mapping[str, tuple[float, float]] = MappingProxyType({})


class MetricsProblem(Exception):
    """Why a metrics text is unusable; ``kind`` is the :data:`~bot.results.FailureKind` to record."""

    def __init__(self, kind: FailureKind, reason: str) -> None:
        super().__init__(reason)
        self.kind: FailureKind = kind
        self.reason = reason


def _as_number(name: str, value: object) -> float:
    # bool is an int subclass, and "0.3" is not a number: both mean the harness is broken.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MetricsProblem(
            "metrics_malformed", f"metric {name!r} must be a JSON number, got {json.dumps(value)[:80]}"
        )
    try:
        number = float(value)
    except OverflowError:
        raise MetricsProblem("non_finite", f"metric {name!r} is too large to be finite") from None
    if not math.isfinite(number):
        raise MetricsProblem("non_finite", f"metric {name!r} is {number} (must be finite)")
    return number


def parse_metrics(
    text: str, required: Sequence[str], bounds: Mapping[str, tuple[float, float]] = _NO_BOUNDS
) -> dict[str, float]:
    """Parse a metrics JSON object strictly.

    Returns:
        The required metrics (in ``required`` order) followed by every other finite numeric key.

    Raises:
        MetricsProblem: ``metrics_malformed`` (not JSON, not an object, a required value is not a
            number), ``metrics_missing`` (a required metric is absent), ``non_finite`` (NaN/±inf,
            including JSON's ``NaN``/``Infinity`` literals) or ``extreme_value`` (outside ``bounds``).
    """
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise MetricsProblem(
            "metrics_malformed", f"metrics are not valid JSON ({exc}): {text[:80]!r}"
        ) from None
    if not isinstance(data, dict):
        raise MetricsProblem(
            "metrics_malformed", f"metrics must be a JSON object of name -> number, got {type(data).__name__}"
        )
    missing = [name for name in required if name not in data]
    if missing:
        present = ", ".join(list(data)[:20]) or "none"
        raise MetricsProblem(
            "metrics_missing", f"required metric(s) missing: {', '.join(missing)}; present: {present}"
        )
    metrics = {name: _as_number(name, data[name]) for name in required}
    for name, value in data.items():
        if name in metrics:
            continue
        try:
            metrics[name] = _as_number(name, value)
        except MetricsProblem:
            continue  # optional extras that are not finite numbers are ignored
    for name, (low, high) in bounds.items():
        if name in metrics and not low <= metrics[name] <= high:
            raise MetricsProblem(
                "extreme_value",
                f"metric {name!r} = {metrics[name]:g} is outside its bounds [{low:g}, {high:g}]",
            )
    return metrics


def _read_metrics_file(path: Path, shown: str) -> str:
    """The text of a metrics file, read without following symlinks, blocking on FIFOs or unbounded."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise MetricsProblem(
            "metrics_missing", f"the command exited 0 but wrote no metrics file {shown}"
        ) from None
    except OSError as exc:
        raise MetricsProblem(
            "metrics_malformed", f"cannot read metrics file {shown}: {exc.strerror}"
        ) from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise MetricsProblem("metrics_malformed", f"metrics file {shown} is not a regular file")
        data = fh.read(MAX_METRICS_BYTES + 1)
    if len(data) > MAX_METRICS_BYTES:
        raise MetricsProblem(
            "metrics_malformed", f"metrics file {shown} is larger than {MAX_METRICS_BYTES} bytes"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MetricsProblem("metrics_malformed", f"metrics file {shown} is not UTF-8 text") from None


def compile_gate(root: Path, paths: Sequence[str]) -> str | None:
    """Byte-compile each changed ``.py`` file under ``root`` (in memory, no ``.pyc`` written).

    Deleted files are skipped. Returns None if all compile, else one line per failing file such as
    ``"ope_pipeline/x.py:12: invalid syntax"``.
    """
    problems: list[str] = []
    for rel in paths:
        file = root / rel
        if not rel.endswith(".py") or not file.is_file():
            continue
        try:
            compile(file.read_bytes(), rel, "exec", dont_inherit=True)
        except SyntaxError as exc:
            line = f": {exc.text.strip()}" if exc.text and exc.text.strip() else ""
            problems.append(f"{rel}:{exc.lineno or 0}: {exc.msg}{line}")
        except ValueError as exc:  # e.g. NUL bytes in the source (3.11 raises ValueError)
            problems.append(f"{rel}: {exc}")
    return "\n".join(problems) or None


class Evaluator:
    """Runs one evaluation configuration on worktrees, per seed, with a result cache."""

    def __init__(
        self, config: EvaluateConfig, cache_dir: Path, environ: Mapping[str, str] | None = None,
        on_seed: Callable[[SeedResult], None] | None = None,
    ) -> None:
        """Scrub ``environ`` (default ``os.environ``) once and prepare ``cache_dir``.

        ``on_seed`` is told of every seed's result as it finishes (cached ones too), from the worker
        thread that ran it: what a progress display counts.

        Raises:
            EvaluationError: the metrics setting is unusable, or ``cache_dir`` cannot be created.
        """
        source = os.environ if environ is None else environ
        self.config = config
        self._env = scrub_env(source, config.pass_env)
        self._secrets = secret_values(source)
        self._cache_dir = cache_dir
        self.on_seed = on_seed
        self._fixed_metrics = config.metrics != METRICS_PLACEHOLDER
        if self._fixed_metrics:
            rel = PurePosixPath(config.metrics)
            if rel.is_absolute() or ".." in rel.parts or METRICS_PLACEHOLDER in config.metrics:
                raise EvaluationError(
                    f"evaluate.metrics must be {METRICS_PLACEHOLDER} or a path inside the repository "
                    f"(relative, no '..'), got {config.metrics!r}"
                )
        elif METRICS_PLACEHOLDER not in config.command:
            raise EvaluationError(
                f"evaluate.command must write its metrics to {METRICS_PLACEHOLDER} (e.g. `--out "
                f"{METRICS_PLACEHOLDER}`), or evaluate.metrics must name the file it writes"
            )
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EvaluationError(f"cannot create the evaluation cache {cache_dir}: {exc}") from exc

    def with_workers(self, workers: int) -> Evaluator:
        """This evaluator with ``workers`` seeds at once (the same cache and environment), for
        candidates evaluated side by side within ``evaluate.workers``. Raises nothing."""
        twin = copy.copy(self)
        twin.config = self.config.model_copy(update={"workers": max(1, workers)})
        return twin

    def required_metrics(self) -> list[str]:
        """The objective metric followed by the guardrail metrics, without duplicates."""
        names = [self.config.objective.metric, *(g.metric for g in self.config.guardrails)]
        return list(dict.fromkeys(names))

    def evaluate(
        self, worktree: Path, tree: str, seeds: Sequence[int], log_dir: Path | None = None
    ) -> EvalResult:
        """Run the eval command in ``worktree`` once per seed (cached by ``tree``).

        Returns:
            An :class:`EvalResult` with one :class:`SeedResult` per seed, in ``seeds`` order; crashes,
            timeouts and bad metrics are failed results, not exceptions.

        Raises:
            EvaluationError: the worktree does not exist or the command cannot be started at all.
        """
        if not worktree.is_dir():
            raise EvaluationError(f"cannot evaluate: worktree {worktree} does not exist")
        workers = self.config.workers
        if self._fixed_metrics and "{seed}" not in self.config.metrics:
            workers = 1  # parallel seeds would overwrite each other's metrics file
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(seeds)))) as pool:
            results = list(pool.map(lambda seed: self._seed(worktree, tree, seed, log_dir), seeds))
        return EvalResult(tree=tree, seeds=results)

    def run_checks(self, worktree: Path, log_dir: Path | None = None) -> str | None:
        """Run ``evaluate.checks`` in order in ``worktree``.

        Returns:
            None if every check exits 0, else the reason the first failing check gave.

        Raises:
            EvaluationError: the worktree does not exist or a check cannot be started.
        """
        if not worktree.is_dir():
            raise EvaluationError(f"cannot run checks: worktree {worktree} does not exist")
        for index, check in enumerate(self.config.checks, start=1):
            log = log_dir / f"check-{index}.log" if log_dir is not None else None
            result = run_command(
                check, worktree, self._env, self.config.timeout_s, log_path=log, redact=self._secrets
            )
            if result.timed_out:
                return f"check `{check}` timed out after {self.config.timeout_s:g} s:\n{result.tail()}"
            if result.returncode != 0:
                return f"check `{check}` failed with exit code {result.returncode}:\n{result.tail()}"
        return None

    def _seed(self, worktree: Path, tree: str, seed: int, log_dir: Path | None) -> SeedResult:
        result = self._cached_or_run(worktree, tree, seed, log_dir)
        if self.on_seed is not None:
            self.on_seed(result)
        return result

    def _cached_or_run(self, worktree: Path, tree: str, seed: int, log_dir: Path | None) -> SeedResult:
        cache_file = self._cache_dir / f"{self._cache_key(tree, seed)}.json"
        try:
            cached = SeedResult.model_validate_json(cache_file.read_bytes())
        except (OSError, ValidationError):
            cached = None  # absent or unreadable: just run again
        # Entries written before a result was known to depend on the environment are not trusted either.
        if cached is not None and cached.seed == seed and _deterministic(cached):
            return cached.model_copy(update={"cached": True})
        result = self._run_seed(worktree, seed, log_dir)
        if _deterministic(result):
            self._cache_put(cache_file, result)
        return result

    def _cache_key(self, tree: str, seed: int) -> str:
        # bounds are part of the key too: they decide between ok and extreme_value.
        material = {
            "tree": tree,
            "seed": seed,
            "command": self.config.command,
            "metrics": self.config.metrics,
            "required": sorted(self.required_metrics()),
            "bounds": sorted((k, list(v)) for k, v in self.config.bounds.items()),
        }
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()

    def _cache_put(self, cache_file: Path, result: SeedResult) -> None:
        try:
            with tempfile.NamedTemporaryFile("w", dir=self._cache_dir, suffix=".tmp", delete=False) as fh:
                fh.write(result.model_dump_json())
            os.replace(fh.name, cache_file)  # atomic: parallel readers never see half a file
        except OSError as exc:
            raise EvaluationError(f"cannot write the evaluation cache {self._cache_dir}: {exc}") from exc

    def _run_seed(self, worktree: Path, seed: int, log_dir: Path | None) -> SeedResult:
        log = log_dir / f"seed-{seed}.log" if log_dir is not None else None
        with tempfile.TemporaryDirectory(
            prefix="growthhacker-metrics-", ignore_cleanup_errors=True
        ) as private:
            if self._fixed_metrics:
                shown = self.config.metrics.replace("{seed}", str(seed))
                metrics_file = worktree / shown
                if not metrics_file.resolve().is_relative_to(worktree.resolve()):
                    return self._failed(
                        seed, "metrics_malformed", f"metrics path {shown} leaves the worktree"
                    )
                try:
                    metrics_file.unlink(missing_ok=True)  # a stale file must never be read
                except OSError as exc:
                    return self._failed(seed, "metrics_malformed", f"cannot remove stale {shown}: {exc}")
            else:
                metrics_file, shown = Path(private) / "metrics.json", METRICS_PLACEHOLDER
            command = self.config.command.replace("{seed}", str(seed)).replace(
                METRICS_PLACEHOLDER, shlex.quote(str(metrics_file))
            )
            outcome = run_command(
                command, worktree, self._env, self.config.timeout_s, log_path=log, redact=self._secrets
            )
            if outcome.timed_out:
                reason = f"timed out after {self.config.timeout_s:g} s; last output:\n{outcome.tail()}"
                return self._failed(seed, "timeout", reason, outcome.duration_s)
            if outcome.returncode != 0:
                cause = crash_summary(outcome.output, str(worktree))
                reason = f"{describe_exit(outcome.returncode)}: {cause}"
                crash = read_crash(outcome.output, worktree)
                return self._failed(seed, "crash", reason, outcome.duration_s, crash)
            try:
                text = _read_metrics_file(metrics_file, shown)
                metrics = parse_metrics(text, self.required_metrics(), self.config.bounds)
            except MetricsProblem as problem:
                reason = scrub(problem.reason, self._secrets)
                if problem.kind == "metrics_missing":
                    reason += f"; output: {crash_summary(outcome.output, str(worktree))}"
                return self._failed(seed, problem.kind, reason, outcome.duration_s)
        return SeedResult(seed=seed, ok=True, metrics=metrics, duration_s=outcome.duration_s)

    @staticmethod
    def _failed(
        seed: int, kind: FailureKind, reason: str, duration_s: float = 0.0, crash: Crash | None = None
    ) -> SeedResult:
        return SeedResult(seed=seed, ok=False, failure=kind, reason=reason, crash=crash,
                          duration_s=duration_s)


#: Exceptions that say more about the environment than about the tree: a package installed later
#: must not keep failing from the cache.
_ENVIRONMENT_EXCEPTIONS = frozenset({"ModuleNotFoundError", "ImportError"})


def _deterministic(result: SeedResult) -> bool:
    """Whether ``result`` follows from (tree, seed, settings) alone and may be cached: not a timeout
    (load decides those) and not a crash on a missing module (the environment decides those)."""
    if result.failure == "timeout":
        return False
    crash = result.crash
    return crash is None or crash.exception.rsplit(".", 1)[-1] not in _ENVIRONMENT_EXCEPTIONS
