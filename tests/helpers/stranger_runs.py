"""A stranger repository configured by hand, the way its author would, for runs of the real loop.

The configuration follows what :data:`tests.helpers.strangers.STRANGERS` records of the author's
intent (command, metrics, objective, estimator files, harness): the heuristic is judged on the
repository, not on how it was onboarded.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from bot.config import CONFIG_FILE
from tests.helpers.strangers import STRANGERS, copy_stranger


def configure(
    name: str, dest: Path, *, search: Sequence[int] = (0,), confirm: Sequence[int] = (100,),
    max_regression: float = 2.0, timeout_s: float = 300.0,
) -> Path:
    """Copy stranger ``name`` under ``dest`` as a git repository with a committed config; returns it.

    The command runs with this interpreter (which has obp and scope-rl); time metrics become
    guardrails that may grow by ``max_regression``.
    """
    stranger = STRANGERS[name]
    repo = copy_stranger(name, dest)
    command = stranger.command.removeprefix("python ")
    config = {
        "evaluate": {
            "command": f"{shlex.quote(sys.executable)} {command}",
            "metrics": stranger.metrics,
            "objective": {"metric": stranger.objective, "goal": stranger.goal},
            "guardrails": [{"metric": m, "max_regression": max_regression} for m in stranger.time_metrics],
            "seeds": {"search": list(search), "confirm": list(confirm)},
            "timeout_s": timeout_s,
        },
        "edit": {"paths": list(stranger.estimator_files), "protected": list(stranger.harness)},
        "loop": {"iterations": 3, "agent": "heuristic", "confirm_top": 1},
    }
    (repo / CONFIG_FILE).write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    for args in (("add", CONFIG_FILE), ("-c", "user.name=test", "-c", "user.email=test@example.invalid",
                                        "commit", "-q", "-m", "configure growthhacker")):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    return repo
