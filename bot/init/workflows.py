"""The workflow files ``init`` writes: the bundled templates with the action reference, the target's
install steps (:mod:`bot.init.install`) and verify's ``paths:`` filter filled in."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from importlib import metadata, resources

import yaml

from bot.errors import ConfigError
from bot.init.install import Install

#: The action reference in the templates, replaced by ``--action-ref`` (it resolves nowhere).
ACTION_PLACEHOLDER = "growthhacker/growthhacker@v1"
WORKFLOWS_DIR = ".github/workflows"
WORKFLOW_NAMES = ("growthhacker-optimize.yml", "growthhacker-verify.yml", "growthhacker-command.yml")
SETUP_PYTHON = "actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97  # v7.0.0"
_ACTION_REF = re.compile(r"^(?:\./[\w./-]*|[A-Za-z0-9][\w.-]*/[\w.-]+(?:/[\w./-]+)?@[\w./-]+)$")
_INSTALL_MARK = re.compile(r"^( *)# growthhacker:install\b.*\n", re.MULTILINE)
_PATHS_MARK = re.compile(r"^( *)# growthhacker:paths\b.*\n", re.MULTILINE)
_SHARDS_MARK = re.compile(r"^( *)# growthhacker:shards\b.*\n", re.MULTILINE)
_COUNT_MARK = re.compile(r"^( *)# growthhacker:shard-count\b.*\n", re.MULTILINE)
_FINALISTS_MARK = re.compile(r"^( *)# growthhacker:finalists\b.*\n", re.MULTILINE)
#: The optimize workflow as a matrix of shard jobs, a gather job and the publish job (``--shards``).
SHARDED_OPTIMIZE = "growthhacker-optimize-sharded.yml"
MAX_SHARDS = 64
_GITHUB = re.compile(r"^(?:git\+)?https://github\.com/([A-Za-z0-9][\w.-]*/[\w.-]+?)(?:\.git)?/?$")


def action_ref_from_direct_url(data: object) -> str | None:
    """``owner/repo@<commit>`` from pip's ``direct_url.json`` (PEP 610) of a GitHub git install, else None."""
    if not isinstance(data, dict):
        return None
    vcs, match = data.get("vcs_info"), _GITHUB.match(str(data.get("url", "")))
    if not (isinstance(vcs, dict) and vcs.get("vcs") == "git" and match):
        return None
    commit = str(vcs.get("commit_id", ""))
    return f"{match.group(1)}@{commit}" if re.fullmatch(r"[0-9a-f]{40}", commit) else None


def installed_action_ref() -> str | None:
    """``owner/repo@<commit>`` if this GrowthHacker was installed by pip from a GitHub commit, else None.

    pip records where a package came from in ``direct_url.json``; a commit there is the exact code
    the action reference should run. Raises nothing.
    """
    try:
        text = metadata.distribution("growthhacker").read_text("direct_url.json")
        return action_ref_from_direct_url(json.loads(text or "null"))
    except (metadata.PackageNotFoundError, ValueError):
        return None


def check_action_ref(action_ref: str | None) -> str:
    """``action_ref`` (else the one this installation came from), checked.

    Raises:
        ConfigError: none is given and none can be derived, or it is not ``owner/repo[/path]@ref`` or
            a local ``./path``.
    """
    ref = action_ref or installed_action_ref()
    if ref is None:
        raise ConfigError(
            "the workflows need the GrowthHacker action to use: pass --action-ref owner/repo@<commit sha> "
            "(the repository you install GrowthHacker from, pinned to a commit) or ./path for a local copy"
        )
    if not _ACTION_REF.fullmatch(ref) or ref == ACTION_PLACEHOLDER:
        raise ConfigError(
            f"--action-ref {ref!r} is not an action reference: use owner/repo@<commit sha> (a tag works "
            "too, a sha pins it) or ./path for a local action"
        )
    return ref


def _paths_filter(paths: Sequence[str], indent: str) -> str:
    for path in paths:
        if "\n" in path or "${{" in path:
            raise ConfigError(f"the path {path!r} cannot go into a workflow's paths filter: edit the config")
    return f"{indent}paths: [{', '.join(json.dumps(p) for p in paths)}]\n" if paths else ""


def render_workflows(action_ref: str, install: Install | None = None,
                     paths: Sequence[str] = (), shards: int = 1, finalists: int = 3) -> dict[str, str]:
    """The workflow templates by file name, with ``action_ref`` as the action, ``install`` as the
    jobs' setup where they run the repository's code (default: Python 3.11 and a step to edit),
    ``paths`` as verify's ``paths:`` filter (none: every pull request) and, for ``shards`` above 1,
    the optimize workflow as a matrix of that many shard jobs, a matrix of ``finalists`` confirm jobs
    (``loop.confirm_top``), a gather job and the publish job.

    Raises:
        ConfigError: ``action_ref`` is malformed (:func:`check_action_ref`), a path cannot be
            written into a workflow, or ``shards`` is not 1 to :data:`MAX_SHARDS`.
    """
    ref = check_action_ref(action_ref)
    if not 1 <= shards <= MAX_SHARDS:
        raise ConfigError(f"--shards {shards}: use 1 (one search job) to {MAX_SHARDS}")
    if not 1 <= finalists <= MAX_SHARDS:
        raise ConfigError(f"loop.confirm_top {finalists}: a sharded workflow confirms 1 to {MAX_SHARDS} "
                          "finalists side by side")
    setup = install or Install(None, (), (), ("nothing found to install: edit this step",))
    folder = resources.files("bot").joinpath("templates", "workflows")
    rendered = {}
    for name in WORKFLOW_NAMES:
        source = SHARDED_OPTIMIZE if shards > 1 and name == "growthhacker-optimize.yml" else name
        text = folder.joinpath(source).read_text(encoding="utf-8").replace(ACTION_PLACEHOLDER, ref)
        text = _INSTALL_MARK.sub(lambda m: setup.steps(SETUP_PYTHON, m.group(1)), text)
        text = _PATHS_MARK.sub(lambda m: _paths_filter(paths, m.group(1)), text)
        text = _SHARDS_MARK.sub(lambda m: f"{m.group(1)}shard: {list(range(shards))}\n", text)
        text = _COUNT_MARK.sub(lambda m: f'{m.group(1)}shards: "{shards}"\n', text)
        text = _FINALISTS_MARK.sub(lambda m: f"{m.group(1)}finalist: {list(range(finalists))}\n", text)
        if not isinstance(yaml.safe_load(text), dict):
            raise ConfigError(f"the bundled template {name} is not a YAML mapping (reinstall GrowthHacker)")
        rendered[name] = text
    return rendered
