"""``growthhacker init``: a `.growthhacker.yml` detected from the repository (:mod:`bot.init.detect`)
and the workflows that run GrowthHacker on GitHub (:mod:`bot.init.workflows`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.config import CONFIG_FILE, parse_config
from bot.errors import ConfigError
from bot.init.detect import Detected, detect, render_config
from bot.init.workflows import DEFAULT_ACTION_REF, WORKFLOWS_DIR, render_workflows

__all__ = ["DEFAULT_ACTION_REF", "Detected", "InitResult", "detect", "init_repo", "render_config",
           "render_workflows"]


@dataclass(frozen=True)
class InitResult:
    """The files written and what they are based on."""

    written: list[Path]
    detected: Detected


def init_repo(repo: Path, *, action_ref: str = DEFAULT_ACTION_REF, force: bool = False) -> InitResult:
    """Write ``.growthhacker.yml`` and the three workflows into ``repo``; returns what was written.

    Raises:
        ConfigError: a file exists and ``force`` is not set (nothing is written then), the detected
            config does not validate, or ``action_ref`` is malformed.
        OSError: a file cannot be written.
    """
    found = detect(repo)
    config_text = render_config(found)
    parse_config(config_text, source=f"{CONFIG_FILE} (generated)")
    files = {Path(CONFIG_FILE): config_text}
    files |= {Path(WORKFLOWS_DIR) / name: text for name, text in render_workflows(action_ref).items()}
    existing = [str(path) for path in files if (repo / path).exists()]
    if existing and not force:
        raise ConfigError(f"{', '.join(existing)} already exist in {repo}: pass --force to overwrite them")
    written = []
    for path, text in files.items():
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return InitResult(written, found)
