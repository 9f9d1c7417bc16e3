"""The workflow files ``init`` writes: the bundled templates with the chosen action reference."""

from __future__ import annotations

import re
from importlib import resources

import yaml

from bot.errors import ConfigError

#: The action reference in the templates, replaced by ``--action-ref``; also the default.
ACTION_PLACEHOLDER = "growthhacker/growthhacker@v1"
DEFAULT_ACTION_REF = ACTION_PLACEHOLDER
WORKFLOWS_DIR = ".github/workflows"
WORKFLOW_NAMES = ("growthhacker-optimize.yml", "growthhacker-verify.yml", "growthhacker-command.yml")
_ACTION_REF = re.compile(r"^(?:\./[\w./-]*|[A-Za-z0-9][\w.-]*/[\w.-]+(?:/[\w./-]+)?@[\w./-]+)$")


def render_workflows(action_ref: str = DEFAULT_ACTION_REF) -> dict[str, str]:
    """The workflow templates with ``action_ref`` as the action, by file name.

    Raises:
        ConfigError: ``action_ref`` is not ``owner/repo[/path]@ref`` or a local ``./path``.
    """
    if not _ACTION_REF.fullmatch(action_ref):
        raise ConfigError(
            f"--action-ref {action_ref!r} is not an action reference: use owner/repo@ref "
            f"(default {DEFAULT_ACTION_REF}; a commit sha pins it) or ./path for a local action"
        )
    folder = resources.files("bot").joinpath("templates", "workflows")
    rendered = {}
    for name in WORKFLOW_NAMES:
        text = folder.joinpath(name).read_text(encoding="utf-8").replace(ACTION_PLACEHOLDER, action_ref)
        if not isinstance(yaml.safe_load(text), dict):
            raise ConfigError(f"the bundled template {name} is not a YAML mapping (reinstall GrowthHacker)")
        rendered[name] = text
    return rendered
