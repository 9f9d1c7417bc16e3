"""The one artifact a read-only job hands to the job that writes: plain files and a manifest.

A job that runs repository or candidate code (``search``, ``measure``) has a read-only token; it
writes everything the writing job (``publish``, ``report``) needs into one directory, which the
workflow passes on with ``actions/upload-artifact`` / ``download-artifact``. The writing job treats
it as untrusted input, since the code that ran beside it could have rewritten it:
:func:`read_artifact` accepts only regular files with known names, each under its size limit, whose
sizes and SHA-256 match the manifest, and a manifest that parses strictly. What the files *mean*
(a diff inside the editable paths, journal records of the run) is checked by the job that uses them.

Layout::

    manifest.json    Manifest: what ran, from which commit, and the list of files with sizes and hashes
    <name>           one file per entry of Manifest.files (names from the reader's allow-list)
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.errors import ArtifactError

MANIFEST = "manifest.json"
MANIFEST_LIMIT = 64_000
#: The artifact format this version writes and reads.
ARTIFACT_SCHEMA = 1
ArtifactKind = Literal["optimize", "iterate", "verify"]
Status = Literal["proposed", "no_candidate", "failed", "measured", "skipped"]
_SHA = re.compile(r"[0-9a-f]{40}")
_NAME = re.compile(r"[a-z][a-z0-9_.-]{0,63}")


class FileEntry(BaseModel):
    """Size and SHA-256 of one file of the artifact."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Manifest(BaseModel):
    """What a read-only job did and what it left for the writing job."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    schema_version: int = Field(ARTIFACT_SCHEMA, alias="schema")
    kind: ArtifactKind
    status: Status
    #: One line saying why (a failure's message, why nothing is proposed); shown escaped.
    reason: str = Field("", max_length=2000)
    repository: str = Field(max_length=200)
    #: The workflow run that wrote it (``GITHUB_RUN_ID``).
    workflow_run: str = Field(max_length=40)
    #: The commit the work started from: the search's base, the pull request's base.
    base_sha: str
    #: The pull request's head (verify) or None.
    head_sha: str | None = None
    pr_number: int | None = Field(None, ge=1)
    #: The loop's run id (search) or None.
    run_id: str | None = Field(None, max_length=100)
    files: dict[str, FileEntry] = Field(default_factory=dict)

    @field_validator("base_sha", "head_sha")
    @classmethod
    def _full_sha(cls, value: str | None) -> str | None:
        if value is not None and not _SHA.fullmatch(value):
            raise ValueError("must be a full 40-character commit sha")
        return value


def write_artifact(directory: Path, manifest: Manifest, files: Mapping[str, bytes]) -> Manifest:
    """Write ``files`` and the manifest (with their sizes and hashes) into the empty or new
    ``directory``; returns the manifest as written.

    Raises:
        ArtifactError: ``directory`` holds files already, or a name is not a plain file name.
        OSError: the files cannot be written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise ArtifactError(f"{directory} is not empty: the artifact of one job is written once")
    entries = {}
    for name, data in files.items():
        if not _NAME.fullmatch(name) or name == MANIFEST:
            raise ArtifactError(f"{name!r} is not a plain lower-case file name for the artifact")
        (directory / name).write_bytes(data)
        entries[name] = FileEntry(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    written = manifest.model_copy(update={"files": entries})
    (directory / MANIFEST).write_text(written.model_dump_json(by_alias=True, indent=2), encoding="utf-8")
    return written


def read_artifact(directory: Path, limits: Mapping[str, int]) -> tuple[Manifest, dict[str, bytes]]:
    """The manifest and files of the artifact in ``directory``, each file no larger than its entry
    in ``limits`` (name → bytes; a name not in it is refused).

    Returns only files the manifest lists, with matching sizes and hashes.

    Raises:
        ArtifactError: the directory is missing, holds anything else (a subdirectory, a symlink, an
            unknown or unlisted file), a file is over its limit or does not match the manifest, or the
            manifest does not parse.
    """
    if not directory.is_dir() or directory.is_symlink():
        raise ArtifactError(
            f"no artifact at {directory}: the job before this one wrote none (see its log: it failed "
            "before it could)"
        )
    present = {}
    for entry in sorted(os.scandir(directory), key=lambda e: e.name):
        mode = entry.stat(follow_symlinks=False).st_mode
        if not stat.S_ISREG(mode):
            raise ArtifactError(f"the artifact holds {entry.name!r}, which is not a regular file: refused")
        limit = MANIFEST_LIMIT if entry.name == MANIFEST else limits.get(entry.name)
        if limit is None:
            raise ArtifactError(f"the artifact holds {entry.name!r}, which this job does not take: refused")
        size = entry.stat(follow_symlinks=False).st_size
        if size > limit:
            raise ArtifactError(
                f"{entry.name} in the artifact is {size:,} bytes, over its limit of {limit:,}: refused"
            )
        present[entry.name] = Path(entry.path).read_bytes()
    if MANIFEST not in present:
        raise ArtifactError(f"the artifact has no {MANIFEST}: refused")
    try:
        manifest = Manifest.model_validate_json(present.pop(MANIFEST))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "<root>"
        raise ArtifactError(
            f"{MANIFEST} of the artifact is not valid ({where}: {first['msg']}): refused"
        ) from exc
    if manifest.schema_version != ARTIFACT_SCHEMA:
        raise ArtifactError(
            f"the artifact is of format {manifest.schema_version}, this version reads {ARTIFACT_SCHEMA}: "
            "the jobs of one workflow run must use the same GrowthHacker version"
        )
    if set(present) != set(manifest.files):
        raise ArtifactError(
            f"the artifact's files ({', '.join(sorted(present)) or 'none'}) are not the ones its manifest "
            f"lists ({', '.join(sorted(manifest.files)) or 'none'}): refused"
        )
    for name, data in present.items():
        listed = manifest.files[name]
        if listed.size != len(data) or listed.sha256 != hashlib.sha256(data).hexdigest():
            raise ArtifactError(f"{name} in the artifact does not match its manifest entry: refused")
    return manifest, present
