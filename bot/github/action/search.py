"""The search job: the inner loop, run where the token can only read, its result handed on as one
artifact (see :mod:`bot.github.action.artifact`).

Candidate code runs here (every evaluation), as does the agent with the LLM key, so the job's token
may read the repository and nothing else: the journal branch is fetched to give the Analyzer its
memory, but nothing is pushed or posted. What the publish job needs is written into the artifact:

=================  ==================================================================================
``journal.jsonl``  the records this job added to the journal (all of one run), line for line
``candidate.diff`` the winner's diff against the run's base (only when a candidate is proposed)
``report.md``      the run's report; ``plot.png`` its plot; ``pr.md`` the pull-request text
=================  ==================================================================================

The artifact is written also when the loop fails or is interrupted (a cancelled or timed-out job:
its records are the memory of what was tried); the failure is then re-raised and the job fails.
"""

from __future__ import annotations

from bot.errors import GrowthHackerError
from bot.github.action.artifact import ArtifactKind, Manifest, write_artifact
from bot.github.action.session import Outputs, RunLoop, Session, outputs
from bot.github.journal_branch import JournalBranch
from bot.github.step_files import append_step_summary
from bot.journal import Journal, RunStarted
from bot.journal.records import parse_line
from bot.report import render_markdown
from bot.results import RunSummary
from bot.selection import judge_confirmation

JOURNAL = "journal.jsonl"
DIFF = "candidate.diff"
REPORT = "report.md"
PLOT = "plot.png"
PR_TEXT = "pr.md"
#: The files of a search artifact and the most the publish job accepts of each.
LIMITS = {JOURNAL: 16_000_000, DIFF: 1_000_000, REPORT: 2_000_000, PLOT: 5_000_000, PR_TEXT: 1_000_000}


def proposes(summary: RunSummary) -> bool:
    """True if the run selected a confirmed winner and committed it (there is something to publish)."""
    best = summary.best
    return not (best is None or best.confirm is None or summary.baseline_confirm is None
                or summary.branch is None)


def search(
    session: Session, run_loop: RunLoop, *, kind: ArtifactKind, base: str, hints: list[str],
    pr_number: int | None = None,
) -> Outputs:
    """Run the loop from commit ``base`` with ``hints`` and write the artifact; returns the outputs
    (``best-metric`` and ``improvement`` of the winner, if any).

    Raises:
        GrowthHackerError: the loop could not run (after the artifact of its records is written).
        GitHubError: the journal branch cannot be read.
    """
    journal = Journal(session.journal_path)
    JournalBranch(session.remote).pull_into(journal)
    before = set(journal.lines())
    try:
        summary, run_dir = run_loop(base, hints)
    except (GrowthHackerError, KeyboardInterrupt) as exc:
        # KeyboardInterrupt: the job was cancelled or timed out (SIGINT, or SIGTERM made one by the
        # CLI); the records of the iterations that finished still go to publish.
        why = (f"interrupted ({exc or 'SIGINT'}): the job was cancelled or timed out; the finished "
               "iterations are recorded" if isinstance(exc, KeyboardInterrupt) else str(exc))
        added = [line for line in journal.lines() if line not in before]
        manifest = _manifest(session, kind, base, pr_number, added, "failed", session.scrub(why))
        write_artifact(session.artifact, manifest, {JOURNAL: _text(added)})
        raise
    added = [line for line in journal.lines() if line not in before]
    status = "proposed" if proposes(summary) else "no_candidate"
    files = {JOURNAL: _text(added)}
    for name in (REPORT, PLOT, PR_TEXT):
        if (run_dir / name).is_file():
            files[name] = (run_dir / name).read_bytes()
    best = summary.best
    if status == "proposed" and best is not None:
        files[DIFF] = best.diff.encode("utf-8")
    write_artifact(session.artifact, _manifest(session, kind, base, pr_number, added, status, summary.reason),
                   files)
    append_step_summary(session.context.step_summary, render_markdown(summary, plot_name=None))
    if status != "proposed" or best is None or best.confirm is None or summary.baseline_confirm is None:
        return outputs(pr_number=pr_number)
    gain = judge_confirmation(summary.baseline_confirm, best.confirm, session.config).improvement
    return outputs(pr_number, best.confirm.mean(session.config.evaluate.objective.metric), gain)


def _manifest(session: Session, kind: ArtifactKind, base: str, pr_number: int | None, lines: list[str],
              status: str, reason: str) -> Manifest:
    records = [parse_line(line.encode("utf-8")) for line in lines]
    run_ids = [r.run_id for r in records if isinstance(r, RunStarted)]
    return Manifest.model_validate({
        "kind": kind, "status": status, "reason": reason[:2000], "repository": session.context.repository,
        "workflow_run": session.context.run_id, "base_sha": base, "pr_number": pr_number,
        "run_id": run_ids[0] if run_ids else None,
    })


def _text(lines: list[str]) -> bytes:
    return "".join(f"{line}\n" for line in lines).encode("utf-8")

