"""``growthhacker init``: a `.growthhacker.yml` found by running the repository's own evaluation
(:mod:`bot.init.detect`) and the workflows that run GrowthHacker on GitHub (:mod:`bot.init.workflows`).

:func:`init_repo` detects, settles the objective (the ``--objective`` option, else the metric names,
else the :class:`Asker`; never a silent default), validates the config and writes it with the
workflows, unless it is a dry run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.config import CONFIG_FILE, parse_config
from bot.errors import ConfigError
from bot.init.detect import DEFAULT_TIMEOUT_S, Detected, Echo, detect, render_config
from bot.init.install import Install, detect_install
from bot.init.objective import (
    Ambiguous,
    Goal,
    ObjectiveChoice,
    goal_of,
    guardrails,
    objective_from_option,
)
from bot.init.workflows import (
    MAX_SHARDS,
    WORKFLOW_NAMES,
    WORKFLOWS_DIR,
    check_action_ref,
    render_workflows,
)

__all__ = ["Asker", "Detected", "InitResult", "Install", "detect", "detect_install", "init_repo",
           "render_config", "render_workflows"]


class Asker(Protocol):
    """Asks the user what the repository does not say (the CLI prompts; ``--yes`` has no asker)."""

    def metric(self, choices: Sequence[str], why: str) -> str:
        """The objective metric, one of ``choices``."""

    def goal(self, metric: str) -> Goal:
        """Whether ``metric`` is to be minimized or maximized."""


@dataclass(frozen=True)
class InitResult:
    """The config text, the files written (none on a dry run) and what they are based on."""

    config: str
    written: list[Path]
    detected: Detected
    objective: ObjectiveChoice
    guardrails: list[str]


def _settle(found: Detected, option: str | None, asker: Asker | None) -> ObjectiveChoice:
    """The objective: from ``option``, else the names, else ``asker``. Raises ConfigError without one."""
    hint = "pass --objective NAME[:min|max]"
    if option is not None:
        name, goal = objective_from_option(option, found.metrics_found)
        why = "chosen with --objective"
    elif isinstance(found.objective, ObjectiveChoice):
        return found.objective
    else:
        ambiguous: Ambiguous = found.objective
        if asker is None:
            raise ConfigError(
                f"cannot tell which metric to optimise: {ambiguous.why}; {hint}, e.g. "
                f"--objective {ambiguous.choices[0]}{':min' if goal_of(ambiguous.choices[0]) else ''}"
            )
        name = asker.metric(ambiguous.choices, ambiguous.why)
        if name not in found.metrics_found:
            raise ConfigError(
                f"{name!r} is not a metric the evaluation wrote: {', '.join(found.metrics_found)}"
            )
        goal, why = goal_of(name), f"chosen by you ({ambiguous.why})"
    if goal is None:
        if asker is None:
            raise ConfigError(f"the name {name!r} does not say whether to minimize or maximize it: "
                              f"pass --objective {name}:min or {name}:max")
        goal = asker.goal(name)
    return ObjectiveChoice(name, goal, why)


def init_repo(
    repo: Path,
    *,
    environ: Mapping[str, str],
    objective: str | None = None,
    asker: Asker | None = None,
    dry_run: bool = False,
    action_ref: str | None = None,
    force: bool = False,
    shards: int = 1,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    echo: Echo = lambda line: None,
) -> InitResult:
    """Detect ``repo``'s evaluation (running it once), settle the objective and write
    ``.growthhacker.yml`` and the three workflows (nothing on a ``dry_run``).

    ``objective`` is ``--objective NAME[:min|max]``; ``asker`` settles what is ambiguous (None:
    ambiguity is an error); findings go to ``echo``, one line each. ``action_ref`` is the action the
    workflows use (None: the one this installation came from, see
    :func:`bot.init.workflows.check_action_ref`; not needed on a dry run). ``shards`` above 1 writes
    the optimize workflow as a matrix of that many search shards, a matrix confirming the
    finalists, a gather job and the publish job.

    Returns:
        The :class:`InitResult`.

    Raises:
        ConfigError: a file exists and ``force`` is not set (checked before anything runs), nothing
            takes a seed or builds estimators, the objective is ambiguous with no ``objective`` and no
            ``asker``, the generated config does not validate, or ``action_ref`` is malformed or
            missing and not derivable.
        EvaluationError: the evaluation failed or wrote no metrics.
        OSError: a file cannot be written.
    """
    ref = None if dry_run else check_action_ref(action_ref)  # before anything runs
    if not 1 <= shards <= MAX_SHARDS:
        raise ConfigError(f"--shards {shards}: use 1 (one search job) to {MAX_SHARDS}")
    targets = [Path(CONFIG_FILE), *(Path(WORKFLOWS_DIR) / name for name in WORKFLOW_NAMES)]
    existing = [str(path) for path in targets if (repo / path).exists()]
    if existing and not force and not dry_run:
        raise ConfigError(f"{', '.join(existing)} already exist in {repo}: pass --force to overwrite them")
    found = detect(repo, environ, timeout_s=timeout_s, echo=echo)
    chosen = _settle(found, objective, asker)
    guards = guardrails(found.metrics_found, chosen.metric)
    value = found.metrics_found[chosen.metric]
    echo(f"objective: {chosen.metric} ({chosen.goal}; baseline {value:.6g} on seed 0) — {chosen.why}")
    if guards:
        echo(f"guardrails: {', '.join(guards)} — they measure time (may not get more than 50% worse)")
    for note in found.notes:
        echo(f"check: {note}")
    config_text = render_config(found, chosen, guards)
    generated = parse_config(config_text, source=f"{CONFIG_FILE} (generated)")
    install = detect_install(repo)
    for note in install.notes:
        echo(f"workflows: {note}")
    written: list[Path] = []
    if ref is not None:
        # verify runs when a pull request touches what can change the evaluation's numbers.
        paths = [*found.editable, *found.protected, CONFIG_FILE]
        files = {Path(WORKFLOWS_DIR) / name: text
                 for name, text in render_workflows(ref, install, paths, shards,
                                                  generated.loop.confirm_top).items()}
        for path, text in {Path(CONFIG_FILE): config_text, **files}.items():
            target = repo / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            written.append(target)
    return InitResult(config_text, written, found, chosen, guards)
