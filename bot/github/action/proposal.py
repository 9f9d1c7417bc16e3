"""What the publish job takes from the search job's artifact, checked before anything is written.

The search job ran candidate code beside its artifact, so the artifact is untrusted input. Beyond
the file checks of :func:`~bot.github.action.artifact.read_artifact` (known names, sizes, hashes,
a strict manifest), :func:`read_proposal` requires:

- the manifest is about this repository, this workflow run and the expected work (an optimize
  run, or an iterate run on this pull request);
- the run id is one the bot makes (``YYYYMMDD-HHMMSS-xxxx``), so the branch it names is a bot branch;
- every journal line is a record this version reads, of that run, and of a kind a run writes (never
  an outcome: human verdicts are recorded by the jobs that see them);
- for a proposal: the run started from the manifest's base, finished with a winner on the branch
  the bot names for it, ``candidate.diff`` is that winner's diff, and the plot is a PNG.

:func:`check_winner` then judges the winner's own held-out numbers again under the config committed
at the base (the caller reads it through git); the diff's paths are checked against that config's
editable paths when the publish job applies it (:meth:`bot.workspace.Workspace.commit_candidate`
goes through the patch engine). Text from the records (hypotheses, reasons) is rendered escaped
by :mod:`bot.github.render`, as it always is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.config import Config
from bot.errors import ArtifactError, JournalError
from bot.github.action.artifact import ArtifactKind, Manifest, read_artifact
from bot.github.action.search import DIFF, JOURNAL, LIMITS, PLOT, proposes
from bot.journal import Record, RunStarted, summarise
from bot.journal.records import Unreadable, parse_line
from bot.results import RunSummary
from bot.selection import judge_confirmation

#: The run ids :func:`bot.cli.make_run_id` makes.
RUN_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{4}")
#: The records a run writes (outcomes are written by the jobs that see a human act).
RUN_KINDS = frozenset({"run_started", "baseline", "iteration", "confirmation", "run_finished"})
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Proposal:
    """The search job's result, checked: its manifest, its run's journal lines, the run's summary
    (None if it stopped before a baseline), the winner's diff and plot (proposals only)."""

    manifest: Manifest
    lines: list[str]
    summary: RunSummary | None
    diff: str
    plot: bytes | None

    @property
    def proposed(self) -> bool:
        """True if the search proposes a candidate."""
        return self.manifest.status == "proposed"


def read_proposal(
    artifact: Path, *, kind: ArtifactKind, repository: str, workflow_run: str, branch_prefix: str,
    pr_number: int | None = None,
) -> Proposal:
    """The checked result of the search job in ``artifact`` (see the module docstring).

    Raises:
        ArtifactError: anything in it is missing, malformed, oversized, about other work, or
            inconsistent.
    """
    manifest, files = read_artifact(artifact, LIMITS)
    expected = (kind, repository, workflow_run, pr_number)
    found = (manifest.kind, manifest.repository, manifest.workflow_run, manifest.pr_number)
    if found != expected:
        raise ArtifactError(f"the artifact is about {found}, not this job's {expected}: refused")
    run_id = manifest.run_id
    # A single search makes a timestamped id; a sharded one is named after its workflow run, so every
    # shard job agrees on it (bot.github.action.sharded).
    if run_id is not None and not (RUN_ID.fullmatch(run_id) or run_id == f"gh-{workflow_run}"):
        raise ArtifactError(f"the artifact names the run {run_id!r}, not an id the bot makes: refused")
    lines, records = _records(files.get(JOURNAL, b""), run_id)
    summary = _summary(records, run_id)
    if manifest.status != "proposed":
        return Proposal(manifest, lines, summary, "", None)
    if summary is None or run_id is None or not proposes(summary) or summary.best is None:
        raise ArtifactError("the artifact proposes a candidate but its records name no confirmed winner: "
                            "refused")
    started = next(r for r in records if isinstance(r, RunStarted))
    if started.base_commit != manifest.base_sha:
        raise ArtifactError(f"the run started from {started.base_commit[:12]}, not the artifact's base "
                            f"{manifest.base_sha[:12]}: refused")
    if summary.branch != f"{branch_prefix}{run_id}":
        raise ArtifactError(f"the run names the branch {summary.branch!r}, not {branch_prefix}{run_id}: "
                            "refused")
    diff = files.get(DIFF, b"").decode("utf-8", "replace")
    if not diff.strip() or diff != summary.best.diff:
        raise ArtifactError(f"{DIFF} is not the diff of the winning iteration in the records: refused")
    plot = files.get(PLOT)
    if plot is not None and not plot.startswith(PNG_SIGNATURE):
        raise ArtifactError(f"{PLOT} of the artifact is not a PNG image: refused")
    return Proposal(manifest, lines, summary, diff, plot)


def check_winner(proposal: Proposal, config: Config) -> float:
    """Judge the proposed winner's held-out results again under ``config`` (the base's); returns its
    improvement.

    Raises:
        ArtifactError: its own numbers do not confirm it under the base's config.
    """
    summary = proposal.summary
    best = summary.best if summary is not None else None
    if summary is None or best is None or best.confirm is None or summary.baseline_confirm is None:
        raise ArtifactError("the artifact proposes no confirmed winner: refused")
    verdict = judge_confirmation(summary.baseline_confirm, best.confirm, config)
    if not verdict.ok:
        raise ArtifactError(
            f"the artifact's own held-out results do not confirm its winner under the base's config "
            f"({verdict.reason}): refused"
        )
    return verdict.improvement


def _records(data: bytes, run_id: str | None) -> tuple[list[str], list[Record]]:
    """The journal lines of the artifact and their records; every one must be of ``run_id``'s run."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArtifactError(f"{JOURNAL} of the artifact is not UTF-8: refused") from exc
    if text and not text.endswith("\n"):
        raise ArtifactError(f"{JOURNAL} of the artifact ends in a torn line: refused")
    lines = text.split("\n")[:-1]
    records = []
    for number, line in enumerate(lines, 1):
        record = parse_line(line.encode("utf-8"))
        if isinstance(record, Unreadable):
            raise ArtifactError(
                f"line {number} of {JOURNAL} in the artifact is not a record this version reads "
                f"({record.problem}: {record.detail}): refused"
            )
        if record.kind not in RUN_KINDS or record.run_id != run_id:
            raise ArtifactError(
                f"line {number} of {JOURNAL} in the artifact is a record of kind {record.kind!r} of run "
                f"{record.run_id!r}, not one a run writes of run {run_id!r}: refused"
            )
        records.append(record)
    if len([r for r in records if isinstance(r, RunStarted)]) > 1:
        raise ArtifactError(f"{JOURNAL} of the artifact starts its run twice: refused")
    return lines, records


def _summary(records: list[Record], run_id: str | None) -> RunSummary | None:
    if run_id is None or not any(isinstance(r, RunStarted) for r in records):
        return None
    try:
        return summarise(records, run_id)
    except JournalError:
        return None  # the run stopped before its baseline
