"""A workflow run's artifacts, as ``actions/upload-artifact`` and ``actions/download-artifact`` v4
keep and hand them out, for the fake runner.

The run's artifacts are the directories ``<artifacts>/<name>/`` (one per name: v4 artifacts are
immutable and their names unique in a run). Each function takes a step's rendered ``with:`` and
returns whether the step succeeded, appending what the action would log to ``log``.

:func:`upload` (v4.6.2, the version action.yml pins):

- a name already uploaded in the run fails the step (409 Conflict) unless ``overwrite: true``, which
  deletes the old artifact first; a name with a character v4 refuses (``" : < > | * ? \\ /``, CR,
  LF) fails it too;
- each ``path`` line: a directory's files relative to it, a glob's relative to the workspace;
  hidden files only with ``include-hidden-files: true``;
- nothing found: no artifact; ``if-no-files-found: error`` fails the step (warn/ignore succeed).

:func:`download` (v4.3.0, the version action.yml pins; ``src/download-artifact.ts`` at d3f86a1):

- ``name:``: that artifact's files straight into ``path``; none by that name fails the step
  ("Unable to download artifact(s): Artifact '<name>' not found");
- no ``name:``: every artifact of the run whose name matches ``pattern`` (minimatch; every artifact
  without a pattern), each into ``path/<artifact name>/`` — even when only one matches — or all
  into ``path`` itself with ``merge-multiple: true``; matching none succeeds and creates nothing
  ("Total of 0 artifact(s) downloaded");
- ``path``: the workspace when empty, relative paths from the workspace (the action's cwd);
- ``merge-multiple`` must be a YAML boolean string (``core.getBooleanInput``), else the step fails.

Not modelled (ValueError, so a test relying on them fails loudly): ``artifact-ids``,
``github-token``/``repository``/``run-id`` (another run's artifacts), a ``~`` path, minimatch's
braces, extglobs, negation and comments; two merged artifacts writing different bytes to one file
(on GitHub the parallel downloads race, so which one wins is unspecified).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path

#: Characters upload-artifact v4 refuses in an artifact name.
INVALID_NAME_CHARACTERS = '":<>|*?\\/\r\n'
_BOOLEANS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


def upload(artifacts: Path, with_: Mapping[str, str], workspace: Path, log: list[str]) -> bool:
    """Store the files ``with_["path"]`` names as the artifact ``with_["name"]`` (see the module
    docstring); returns whether the step succeeded."""
    name = with_.get("name") or "artifact"
    if any(c in INVALID_NAME_CHARACTERS for c in name):
        log.append(f"upload-artifact: The artifact name is not valid: {name}")
        return False
    target = artifacts / name
    if target.exists():
        if with_.get("overwrite", "false") != "true":
            log.append(f"upload-artifact: an artifact named {name} already exists (409)")
            return False
        shutil.rmtree(target)
    found: list[tuple[Path, Path]] = []
    for line in (p.strip() for p in with_["path"].splitlines() if p.strip()):
        path = workspace / line  # an absolute line stays itself
        if path.is_dir():
            found += [(f, f.relative_to(path)) for f in sorted(path.rglob("*")) if f.is_file()]
        elif path.is_relative_to(workspace):
            pattern = str(path.relative_to(workspace))
            found += [(f, f.relative_to(workspace)) for f in sorted(workspace.glob(pattern)) if f.is_file()]
    if with_.get("include-hidden-files", "false") != "true":
        found = [(f, rel) for f, rel in found if not any(part.startswith(".") for part in rel.parts)]
    if not found:
        return with_.get("if-no-files-found", "warn") != "error"
    for source, rel in found:
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target / rel)
    log.append(f"uploaded {name}: {len(found)} file(s)")
    return True


def name_pattern(pattern: str) -> re.Pattern[str]:
    """A download ``pattern`` as minimatch reads it for an artifact name (which holds no ``/``):
    ``*`` any characters, ``?`` one, ``[...]`` a class; neither wildcard matches a leading dot.

    Raises:
        ValueError: the pattern uses minimatch syntax the fake does not model.
    """
    if pattern.startswith(("!", "#")) or re.search(r"[{}]|[+@!?*]\(", pattern):
        raise ValueError(f"download-artifact pattern {pattern!r}: braces, extglobs, negation and "
                         "comments are not modelled by the fake runner")
    out, i = "" if pattern.startswith(".") else r"(?!\.)", 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out += ".*"
        elif char == "?":
            out += "."
        elif char == "[" and "]" in pattern[i + 2:]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1:end]
            out += "[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]"
            i = end
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(char)
        i += 1
    return re.compile(out)


def download(artifacts: Path, with_: Mapping[str, str], workspace: Path, log: list[str]) -> bool:
    """Copy the artifacts ``with_`` asks for out of the run's ``artifacts`` (see the module
    docstring); returns whether the step succeeded.

    Raises:
        ValueError: ``with_`` uses an input the fake does not model.
    """
    unmodelled = sorted(k for k in ("artifact-ids", "github-token", "repository", "run-id") if with_.get(k))
    if unmodelled or with_.get("path", "").startswith("~"):
        raise ValueError(f"download-artifact: {unmodelled or 'a ~ path'} is not modelled by the fake runner")
    destination = workspace / (with_.get("path") or ".")  # an absolute path stays itself
    name = with_.get("name", "")
    if name:
        source = artifacts / name
        if not source.is_dir():
            log.append(f"download-artifact: Unable to download artifact(s): Artifact '{name}' not found")
            return False
        shutil.copytree(source, destination, dirs_exist_ok=True)
        log.append(f"downloaded {name}")
        return True
    merge = _BOOLEANS.get(with_.get("merge-multiple", "false") or "false")
    if merge is None:
        log.append("download-artifact: Unable to download artifact(s): Input does not meet YAML 1.2 "
                   "\"Core Schema\" specification: merge-multiple")
        return False
    pattern = with_.get("pattern", "")
    matcher = name_pattern(pattern) if pattern else None
    names = sorted(p.name for p in artifacts.iterdir() if p.is_dir()) if artifacts.is_dir() else []
    chosen = [n for n in names if matcher is None or matcher.fullmatch(n)]
    written: dict[Path, str] = {}
    for artifact in chosen:
        target = destination if merge else destination / artifact
        for source in sorted(f for f in (artifacts / artifact).rglob("*") if f.is_file()):
            path = target / source.relative_to(artifacts / artifact)
            if path in written and path.read_bytes() != source.read_bytes():
                raise ValueError(f"download-artifact merge-multiple: {written[path]} and {artifact} both "
                                 f"write {path.name} with different bytes; which wins is a race on GitHub")
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, path)
            written[path] = artifact
    log.append(f"downloaded {len(chosen)} artifact(s) matching {pattern or '*'}"
               + (f": {', '.join(chosen)}" if chosen else ""))
    return True
