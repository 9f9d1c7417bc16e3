"""Run a candidate evaluation once, in a private copy, to learn where it writes which metrics.

The copy holds what the bot would evaluate (git's tracked and untracked-but-not-ignored files; every
file outside hidden and virtual-environment folders when ``repo`` is not a git repository), so the
user's checkout is never written to. The run is seed 0 through :func:`bot.process.run_command` with
the environment :func:`bot.process.scrub_env` gives every evaluation, and a timeout.

Where the metrics are, in this order:

1. the file given to the script's output option (``--out {metrics_path}``), when it has one;
2. a JSON file the run created or changed inside the copy (a fixed path such as
   ``results/metrics.json``; a ``0`` standing alone in its name is read as the seed: ``{seed}``);
3. its standard output, when all of it is one JSON object (the command then redirects it:
   ``… > {metrics_path}``). Output mixed with logs is not read: it is too easy to misread.

A metrics text is a JSON object; its finite numbers (parsed by :func:`bot.evaluate.parse_metrics`)
are the metrics. This run is also the validation of the baseline: a config is written only for a
command that ran and wrote metrics.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.errors import EvaluationError
from bot.evaluate import MAX_METRICS_BYTES, METRICS_PLACEHOLDER, MetricsProblem, parse_metrics
from bot.git import run_git
from bot.init.candidates import SKIP_DIRS, Candidate
from bot.process import describe_exit, run_command, scrub_env
from bot.redact import secret_values

_STATE_DIR = ".growthhacker"


class ProbeFailed(EvaluationError):
    """The candidate did not run, or ran and left no metrics; ``str()`` says which and shows output.

    ``crashed`` tells a run that failed (crash, timeout) from one that succeeded without metrics.
    """

    def __init__(self, message: str, crashed: bool) -> None:
        super().__init__(message)
        self.crashed = crashed


@dataclass(frozen=True)
class Probe:
    """One successful run of a candidate: the config's command and metrics setting, what it wrote."""

    candidate: Candidate
    command: str  # the config's evaluate.command ({seed}, and {metrics_path} unless fixed)
    metrics_path: str  # the config's evaluate.metrics: "{metrics_path}" or a repo-relative path
    metrics: dict[str, float]
    how: str  # "wrote --out", "wrote results/metrics.json", "printed JSON on stdout"
    created: tuple[str, ...]  # files the run created or changed in the copy (repo-relative)
    duration_s: float


def project_files(repo: Path) -> list[str]:
    """Repo-relative paths of the files a run needs (see the module docstring). Raises nothing."""
    listed = run_git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if listed.ok:
        files = [p for p in listed.text().split("\0") if p]
    else:
        files = []
        for current, dirs, names in os.walk(repo):
            here = Path(current)
            dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS - {"test", "tests"}
                       and not (here / d / "pyvenv.cfg").exists()]
            files += [(here / n).relative_to(repo).as_posix() for n in names]
    return [p for p in files if not p.startswith(f"{_STATE_DIR}/") and (repo / p).is_file()]


def _copy(repo: Path, files: list[str], dest: Path) -> None:
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / rel, target, follow_symlinks=False)


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    state: dict[str, tuple[int, int]] = {}
    for current, _, names in os.walk(root):
        for name in names:
            path = Path(current) / name
            try:
                info = path.lstat()
            except OSError:
                continue
            state[path.relative_to(root).as_posix()] = (info.st_size, info.st_mtime_ns)
    return state


def _metrics_in(path: Path) -> dict[str, float] | None:
    """The finite numbers of the JSON object in ``path``, or None if it holds no such thing."""
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_METRICS_BYTES:
            return None
        return _metrics_text(path.read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError):
        return None


def _metrics_text(text: str) -> dict[str, float] | None:
    try:
        metrics = parse_metrics(text, required=[])
    except MetricsProblem:
        return None
    return metrics or None


def _seeded(path: str) -> str:
    """``path`` with a lone ``0`` (the seed the probe ran) replaced by ``{seed}``, if exactly one."""
    zeros = list(re.finditer(r"(?<![0-9.])0(?![0-9])", path))
    if len(zeros) != 1:
        return path
    return path[: zeros[0].start()] + "{seed}" + path[zeros[0].end():]


def _fixed_metrics(tree: Path, changed: list[str]) -> tuple[str, dict[str, float]] | None:
    found = [(rel, m) for rel in changed if rel.endswith(".json") and (m := _metrics_in(tree / rel))]
    if not found:
        return None
    # Several JSON files: the one named like metrics, then the shallowest.
    found.sort(key=lambda item: ("metric" not in item[0].lower(), item[0].count("/"), item[0]))
    return found[0]


def run_probe(repo: Path, candidate: Candidate, environ: Mapping[str, str], timeout_s: float) -> Probe:
    """Run ``candidate`` for seed 0 in a copy of ``repo`` and find its metrics.

    Returns:
        The :class:`Probe`.

    Raises:
        ProbeFailed: it could not start, crashed, timed out, or wrote no metrics anywhere.
    """
    template = candidate.command(metrics_path=True)
    with tempfile.TemporaryDirectory(prefix="growthhacker-init-", ignore_cleanup_errors=True) as tmp:
        tree, private = Path(tmp) / "repo", Path(tmp) / "private"
        tree.mkdir()
        private.mkdir()
        _copy(repo, project_files(repo), tree)
        before = _snapshot(tree)
        metrics_file, stdout_file = private / "metrics.json", private / "stdout"
        command = template.replace("{seed}", "0").replace(METRICS_PLACEHOLDER, shlex.quote(str(metrics_file)))
        outcome = run_command(f"{command} > {shlex.quote(str(stdout_file))}", tree,
                              scrub_env(environ), timeout_s, redact=secret_values(environ))
        stdout = stdout_file.read_bytes()[-MAX_METRICS_BYTES:].decode("utf-8", "replace") \
            if stdout_file.is_file() else ""
        tail = "\n".join((outcome.tail() + "\n" + stdout).strip().splitlines()[-15:])
        if outcome.timed_out:
            raise ProbeFailed(f"`{command}` timed out after {timeout_s:g} s; last output:\n{tail}",
                              crashed=True)
        if outcome.returncode != 0:
            raise ProbeFailed(f"`{command}` {describe_exit(outcome.returncode)}; last output:\n{tail}",
                              crashed=True)
        after = _snapshot(tree)
        changed = sorted(p for p, state in after.items() if before.get(p) != state)

        def found(command: str, path: str, metrics: dict[str, float], how: str) -> Probe:
            return Probe(candidate, command, path, metrics, how, tuple(changed), outcome.duration_s)

        if candidate.output_option and (metrics := _metrics_in(metrics_file)):
            return found(template, METRICS_PLACEHOLDER, metrics,
                         f"wrote them to the file given to {candidate.output_option}")
        plain = candidate.command(metrics_path=False)
        fixed = _fixed_metrics(tree, changed)
        if fixed is not None:
            path = _seeded(fixed[0])
            return found(plain, path, fixed[1], f"wrote them to {path} (a fixed path)")
        if metrics := _metrics_text(stdout):
            return found(f"{plain} > {METRICS_PLACEHOLDER}", METRICS_PLACEHOLDER, metrics,
                         "printed them as JSON on stdout")
    where = f"no JSON object of numbers in {candidate.output_option} {{metrics_path}}, " \
        if candidate.output_option else ""
    raise ProbeFailed(
        f"`{command}` exited 0 but left no metrics: {where}no new JSON file of numbers in the "
        f"repository, and its stdout is not one JSON object; last output:\n{tail}",
        crashed=False,
    )
