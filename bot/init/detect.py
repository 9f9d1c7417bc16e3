"""The `.growthhacker.yml` that ``growthhacker init`` proposes, found by what the repository does.

1. Candidates (:mod:`bot.init.candidates`): scripts anywhere whose argparse / click / ``sys.argv``
   handling takes a seed, ranked.
2. The best one runs once, seed 0, in a private copy (:mod:`bot.init.probe`): where it writes its
   metrics and which metrics exist. A candidate that runs but writes no metrics gives way to the
   next (three at most); one that crashes stops init with its output.
3. Editable and protected paths (:mod:`bot.init.imports`): of the repository modules the entry point
   imports (transitively), the ones that build OPE estimators or reward models are editable; the
   entry point, every other module it imports, data and artifact folders, data files, ground-truth
   files and whatever the run wrote are protected.
4. The objective and guardrails come from the metric names (:mod:`bot.init.objective`); the caller
   settles an ambiguous objective.

Every finding is reported through ``echo``, one line each with the reason.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bot.errors import ConfigError, WorkspaceError
from bot.git import run_git
from bot.init.candidates import Candidate, find_candidates, python_files
from bot.init.imports import ModuleFacts, import_closure, inspect_module, reaches_ope
from bot.init.objective import Ambiguous, ObjectiveChoice, choose_objective
from bot.init.probe import Probe, ProbeFailed, project_files, run_probe

Echo = Callable[[str], None]
DEFAULT_TIMEOUT_S = 600.0
_MAX_TRIES = 3
DATA_DIRS = frozenset({"data", "datasets", "dataset", "artifacts", "artefacts", "results", "outputs",
                       "output", "models", "checkpoints", "logs"})
DATA_SUFFIXES = frozenset({".csv", ".tsv", ".parquet", ".feather", ".npy", ".npz", ".pkl", ".pickle", ".h5",
                           ".hdf5", ".jsonl", ".arrow", ".zip", ".gz"})
_TRUTH_WORDS = ("ground_truth", "groundtruth", "truth", "oracle")
_MAX_LISTED = 20


@dataclass(frozen=True)
class Detected:
    """What init found: the run that worked, the paths, and the objective (maybe still to settle)."""

    command: str
    metrics: str  # evaluate.metrics: "{metrics_path}" or the fixed path the run writes
    metrics_found: dict[str, float]
    entry: str
    editable: list[str]
    protected: list[str]
    base: str
    objective: ObjectiveChoice | Ambiguous
    timeout_s: float
    notes: list[str]


def _base_branch(repo: Path) -> str:
    """The remote's default branch (``origin/HEAD``), where pull requests go; else the current branch.

    init often runs on a feature branch; the PRs still belong on the branch the remote calls default.
    """
    try:
        origin_head = "refs/remotes/origin/HEAD"
        remote_head = run_git(repo, "symbolic-ref", "--short", "-q", origin_head).text().strip()
        if remote_head.startswith("origin/"):
            return remote_head.removeprefix("origin/")
        return run_git(repo, "symbolic-ref", "--short", "-q", "HEAD").text().strip() or "main"
    except WorkspaceError:  # git missing: the base is only a proposal
        return "main"


def _probe_best(repo: Path, candidates: list[Candidate], environ: Mapping[str, str],
                timeout_s: float, echo: Echo) -> Probe:
    failures: list[str] = []
    for candidate in candidates[:_MAX_TRIES]:
        echo(f"running {candidate.path} once (seed 0, timeout {timeout_s:g} s) to find its metrics …")
        try:
            return run_probe(repo, candidate, environ, timeout_s)
        except ProbeFailed as failed:
            if failed.crashed:
                raise ProbeFailed(
                    f"{candidate.path} is the evaluation init picked, and it failed: {failed}\n"
                    "Fix it (or its dependencies) and run init again.", crashed=True,
                ) from None
            echo(f"  {candidate.path} ran but wrote no metrics: trying the next candidate")
            failures.append(f"{candidate.path}: {failed}")
    raise ProbeFailed(
        "no candidate wrote metrics (a JSON object of numbers to an --out-style option, a file, or "
        "stdout):\n" + "\n".join(failures), crashed=False,
    )


def _paths(repo: Path, probe: Probe, echo: Echo) -> tuple[list[str], list[str], list[str]]:
    """Editable paths, protected paths and notes for the probed entry point."""
    entry = probe.candidate.path
    facts = [inspect_module(path, tree) for path, tree in import_closure(repo, entry).items()]
    entry_facts = next((f for f in facts if f.path == entry), None)
    editable = [f for f in facts if f.path != entry and f.builds_estimators]
    others = [f.path for f in facts if f.path != entry and not f.builds_estimators]
    notes: list[str] = []
    for module in sorted(editable, key=lambda f: f.path):
        echo(f"editable: {module.path} — {entry} imports it and it builds {_names(module)}")
        if module.ground_truth:
            notes.append(f"{module.path} builds estimators but also computes a ground truth: it is editable, "
                         "so review what agents change there (or move the ground truth to its own module)")
    if entry_facts is not None and entry_facts.builds_estimators:
        echo(f"protected: {entry} — the entry point (it builds {_names(entry_facts)} itself; those stay as "
             "they are)")
    else:
        echo(f"protected: {entry} — the entry point")
    if others:
        echo(f"protected: {', '.join(sorted(others))} — imported by {entry}, build no estimator")
    if not editable:
        raise ConfigError(
            f"nothing {entry} imports builds OPE estimators or reward models (obp.ope, scope_rl.ope or a "
            f"scikit-learn model) outside {entry} itself, which must stay protected: move the estimators "
            "into a module it imports, or write .growthhacker.yml by hand (README: Configuration)"
        )
    data = _data_paths(repo, probe)
    if data:
        echo(f"protected: {', '.join(data)} — data, artifacts, ground truth or written by the run")
    protected = [entry, *sorted(others), *data]
    return sorted(f.path for f in editable), list(dict.fromkeys(protected)), notes


def _names(module: ModuleFacts) -> str:
    shown = [q.rsplit(".", 1)[-1] for q in module.builds_estimators]
    return ", ".join(dict.fromkeys(shown))


def _data_paths(repo: Path, probe: Probe) -> list[str]:
    """Globs for data and artifact folders, data and ground-truth files, and what the run wrote.

    Python files are left to the import analysis, and a folder holding Python files is never
    protected whole (a package called ``models/`` may be the editable code): its data files are
    listed one by one instead."""
    written = [p for p in probe.created if "__pycache__" not in p.split("/")]
    everything = [*project_files(repo), *written]
    code_dirs = {str(PurePosixPath(p).parent) for p in everything if p.endswith(".py")}
    globs: list[str] = []
    files: list[str] = []
    for path in (p for p in everything if not p.endswith(".py")):
        pure = PurePosixPath(path)
        folders = ["/".join(pure.parts[: i + 1]) for i in range(len(pure.parts) - 1)]
        code_free = [f for f in folders if not any(d == f or d.startswith(f"{f}/") for d in code_dirs)]
        data_dir = next((f for f in code_free if PurePosixPath(f).name.lower() in DATA_DIRS), None)
        if data_dir is not None:
            globs.append(f"{data_dir}/**")
        elif path in written and code_free:
            globs.append(f"{code_free[0]}/**")
        elif path in written or pure.suffix.lower() in DATA_SUFFIXES or any(
            word in pure.stem.lower() for word in _TRUTH_WORDS
        ):
            files.append(path)
    if len(files) > _MAX_LISTED:  # a repository of data files: one glob per kind
        files = sorted({f"**/*{PurePosixPath(f).suffix}" if PurePosixPath(f).suffix else f for f in files})
    return list(dict.fromkeys([*sorted(set(globs)), *files]))


def detect(repo: Path, environ: Mapping[str, str], *, timeout_s: float = DEFAULT_TIMEOUT_S,
           echo: Echo = lambda line: None) -> Detected:
    """Find the evaluation of ``repo``, run it once and propose the config (module docstring).

    ``environ`` is the environment the evaluation would get before scrubbing (the caller's PATH: the
    bot's own interpreter is never put on it). Every finding goes to ``echo``, one line each.

    Returns:
        The :class:`Detected` values; its objective may be :class:`Ambiguous`.

    Raises:
        ConfigError: no script takes a seed, or nothing the entry point imports builds estimators.
        EvaluationError: the chosen evaluation failed, or no candidate wrote metrics.
    """
    files = python_files(repo)
    candidates = find_candidates(repo, files, lambda path: reaches_ope(repo, path))
    if not candidates:
        raise ConfigError(
            f"none of the {len(files)} Python files in {repo} (tests and environments skipped) takes a seed "
            "through argparse, click or sys.argv: give your evaluation a --seed option (one seed per run) "
            "and run init again"
        )
    for candidate in candidates[:_MAX_TRIES]:
        echo(f"candidate: {candidate.path} — {'; '.join(candidate.reasons)}")
    probe = _probe_best(repo, candidates, environ, timeout_s, echo)
    entry = probe.candidate.path
    echo(f"evaluation: {probe.command} — {entry} ran in {probe.duration_s:.1f} s (seed 0)")
    echo(f"metrics: {', '.join(probe.metrics)} — {entry} {probe.how}")
    editable, protected, notes = _paths(repo, probe, echo)
    # Room for a slower machine or a loaded CI runner: ten times the probe, at least the default.
    timeout = max(DEFAULT_TIMEOUT_S, 60.0 * math.ceil(probe.duration_s * 10 / 60))
    return Detected(
        command=probe.command, metrics=probe.metrics_path, metrics_found=dict(probe.metrics), entry=entry,
        editable=editable, protected=protected, base=_base_branch(repo),
        objective=choose_objective(probe.metrics), timeout_s=timeout, notes=notes,
    )


def _flow(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


def render_config(found: Detected, objective: ObjectiveChoice, guardrails: list[str]) -> str:
    """The `.growthhacker.yml` text for ``found`` with the settled objective. Raises nothing."""
    guardrail_lines = "".join(
        f"\n    - {{metric: {json.dumps(name)}, max_regression: 0.5, goal: minimize}}  # +50% at most"
        for name in guardrails
    ) or " []"
    notes = "".join(f"# CHECK: {note}\n" for note in found.notes)
    metrics = "" if found.metrics == "{metrics_path}" else (
        "  # The file the command writes (found by running it once).\n"
        f"  metrics: {json.dumps(found.metrics)}\n"
    )
    return f"""\
# GrowthHacker configuration, written by `growthhacker init` (README: "Configuration").
{notes}evaluate:
  # Runs once per seed; found by running {found.entry} once (seed 0).
  command: {json.dumps(found.command)}
{metrics}  # Objective: {objective.why}.
  objective: {{metric: {json.dumps(objective.metric)}, goal: {objective.goal}}}
  guardrails:{guardrail_lines}
  seeds: {{search: [0, 1, 2], confirm: [100, 101, 102, 103, 104]}}
  timeout_s: {found.timeout_s:g}
edit:
  # What agents may change: the modules {found.entry} imports that build OPE estimators or reward models.
  paths: {_flow(found.editable)}
  # Never editable: the entry point, the rest of what it imports, data and artifacts
  # (.github/**, .growthhacker.yml and .growthhacker/** are always protected).
  protected: {_flow(found.protected)}
loop:
  iterations: 8
  agent: auto  # anthropic when ANTHROPIC_API_KEY is set, else the deterministic heuristic agent
github:
  base: {json.dumps(found.base)}
  branch_prefix: growthhacker/
  labels: [growthhacker]
  allowed_commenters: write  # repository permission needed for /growthhacker commands
  max_open_prs: 1  # a run past it updates the open bot PR (if only the bot pushed to it)
"""
