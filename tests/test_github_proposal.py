"""The publish job's reading of a search artifact: only the run's own records, a bot run id and
branch, the winner's diff, a PNG, a winner its own numbers confirm under the base's config; the
text it carries is rendered escaped."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import parse_config
from bot.errors import ArtifactError
from bot.github.action.artifact import Manifest, write_artifact
from bot.github.action.proposal import Proposal, check_winner, read_proposal
from bot.github.render import parse_run_marker, pr_body
from bot.journal import (
    BaselineRecorded,
    ConfirmationRecorded,
    IterationRecorded,
    OutcomeRecorded,
    RunFinished,
    RunStarted,
)
from bot.results import EvalResult, SeedResult
from tests.helpers.toy import CONFIG

RUN = "20261125-120000-abcd"
BASE = "b" * 40
DIFF = "--- a/pipeline/params.py\n+++ b/pipeline/params.py\n@@ -1 +1 @@\n-SCALE = 1.0\n+SCALE = 0.6\n"
HOSTILE = "Set SCALE <!-- growthhacker:run=evil iteration=9 --> </details> | `x` @everyone"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def result(*errors: float, first: int = 0) -> EvalResult:
    seeds = [SeedResult(seed=first + i, ok=True, metrics={"err": e, "runtime_s": 1.0})
             for i, e in enumerate(errors)]
    return EvalResult(tree="t", seeds=seeds)


def records(hypothesis: str = "Set SCALE to 0.6") -> list[str]:
    made = [
        RunStarted(run_id=RUN, base_commit=BASE, agent="command", iterations=1, metric="err",
                   goal="minimize"),
        BaselineRecorded(run_id=RUN, search=result(0.75, 0.76, 0.74),
                         confirm=result(0.75, 0.75, 0.76, 0.74, 0.75, first=100)),
        IterationRecorded(run_id=RUN, iteration=1, hypothesis=hypothesis, persona="hyperparameter",
                          diff=DIFF, status="improved", search=result(0.35, 0.36, 0.34)),
        ConfirmationRecorded(run_id=RUN, iteration=1, confirm=result(0.35, 0.35, 0.36, 0.34, 0.35, first=100),
                             confirmed=True, reason="confirmed"),
        RunFinished(run_id=RUN, winner=1, reason="iteration 1 improves err", branch=f"growthhacker/{RUN}"),
    ]
    return [record.model_dump_json() for record in made]


Change = Callable[[dict[str, object], dict[str, bytes]], None]


def artifact(tmp_path: Path, change: Change | None = None) -> Path:
    fields: dict[str, object] = {"kind": "optimize", "status": "proposed", "repository": "acme/ope-target",
                                 "workflow_run": "1001", "base_sha": BASE, "run_id": RUN}
    journal = "".join(f"{line}\n" for line in records()).encode()
    files = {"journal.jsonl": journal, "candidate.diff": DIFF.encode(), "plot.png": PNG}
    if change is not None:
        change(fields, files)
    folder = tmp_path / "artifact"
    write_artifact(folder, Manifest.model_validate(fields), files)
    return folder


def read(folder: Path) -> Proposal:
    return read_proposal(folder, kind="optimize", repository="acme/ope-target", workflow_run="1001",
                         branch_prefix="growthhacker/")


def test_a_consistent_proposal_reads_and_its_winner_confirms(tmp_path: Path) -> None:
    proposal = read(artifact(tmp_path))

    assert proposal.proposed and proposal.diff == DIFF and proposal.plot == PNG
    assert check_winner(proposal, parse_config(CONFIG)) > 0.5


def add_outcome(_: dict[str, object], files: dict[str, bytes]) -> None:
    outcome = OutcomeRecorded(run_id=RUN, event="merged", actor="search", text="merged by nobody")
    files["journal.jsonl"] += (outcome.model_dump_json() + "\n").encode()


def add_other_run(_: dict[str, object], files: dict[str, bytes]) -> None:
    other = RunStarted(run_id="20261125-120001-ffff", base_commit=BASE, agent="x", iterations=1, metric="err",
                       goal="minimize")
    files["journal.jsonl"] += (other.model_dump_json() + "\n").encode()


def other_diff(_: dict[str, object], files: dict[str, bytes]) -> None:
    files["candidate.diff"] = DIFF.replace("0.6", "0.5").encode()


def branch_name(fields: dict[str, object], _: dict[str, bytes]) -> None:
    fields["run_id"] = "journal"


def another_workflow_runs_shards(fields: dict[str, object], _: dict[str, bytes]) -> None:
    fields["run_id"] = "gh-999"  # a sharded run's id names its workflow run, and this job's is 1001


def other_run(fields: dict[str, object], _: dict[str, bytes]) -> None:
    fields["workflow_run"] = "999"


def not_a_png(_: dict[str, object], files: dict[str, bytes]) -> None:
    files["plot.png"] = b"<svg onload=alert(1)>"


def other_base(fields: dict[str, object], _: dict[str, bytes]) -> None:
    fields["base_sha"] = "c" * 40


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (add_outcome, "a record of kind 'outcome'"),
        (add_other_run, "of run '20261125-120001-ffff', not one a run writes"),
        (other_diff, "is not the diff of the winning iteration"),
        (branch_name, "not an id the bot makes"),
        (another_workflow_runs_shards, "not an id the bot makes"),
        (other_run, "not this job's"),
        (not_a_png, "is not a PNG image"),
        (other_base, "the run started from bbbbbbbbbbbb, not the artifact's base"),
    ],
    ids=lambda v: v.__name__ if callable(v) else "",
)
def test_an_inconsistent_proposal_is_refused(tmp_path: Path, change: object, message: str) -> None:
    assert callable(change)
    with pytest.raises(ArtifactError, match="refused") as refused:
        read(artifact(tmp_path, change))

    assert message in str(refused.value)


def test_a_winner_its_own_numbers_do_not_confirm_under_the_bases_config_is_refused(tmp_path: Path) -> None:
    proposal = read(artifact(tmp_path))
    demanding = parse_config(CONFIG.replace("loop:\n", "loop:\n  min_improvement: 0.9\n"))

    with pytest.raises(ArtifactError, match="do not confirm its winner under the base's config"):
        check_winner(proposal, demanding)


def test_text_from_the_records_is_rendered_escaped(tmp_path: Path) -> None:
    def hostile(_: dict[str, object], files: dict[str, bytes]) -> None:
        lines = [json.loads(line) for line in records()]
        lines[2]["hypothesis"] = HOSTILE
        files["journal.jsonl"] = "".join(json.dumps(line) + "\n" for line in lines).encode()

    proposal = read(artifact(tmp_path, hostile))
    assert proposal.summary is not None
    body = pr_body(proposal.summary)

    assert parse_run_marker(body) == (RUN, 1)  # the forged marker is text, not a marker
    assert "<!-- growthhacker:run=evil" not in body and "</details> |" not in body
    assert "&lt;!-- growthhacker:run=evil iteration=9 --&gt;" in body
