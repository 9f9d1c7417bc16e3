"""The GitHub side of a whole outer-loop round, through the library the `growthhacker action` CLI calls.

dispatch → branch pushed + PR with body, sticky comment and check run → a collaborator's
`/growthhacker iterate <hint>` → new commit on the PR branch + sticky comment updated → a stranger's
command refused → `undo` reverts → PR closed → the journal records the outcome and the command, and
the next run's Analyzer view (best-first attempts) carries them. The inner loop's work (the candidate
commits) is done here with plain git, as the loop would leave it.
"""

from __future__ import annotations

from pathlib import Path

from bot.config import GitHubConfig, parse_config
from bot.github.events import IssueCommentEvent, PullRequestEvent, decide_mode, decide_work, parse_event
from bot.github.git_remote import RemoteGit
from bot.github.handle import finish_command, receive_command
from bot.github.outcomes import outcome_of_closed
from bot.github.render import STICKY_MARKER, check_report, pr_body, pr_title, run_comment
from bot.journal import BaselineRecorded, IterationRecorded, Journal, RunStarted
from bot.results import EvalResult, IterationSummary, RunSummary, SeedResult
from tests.helpers.fake_github.world import TOKEN, World, git, github_world

CONFIG = parse_config(
    """
evaluate:
  command: python evaluate.py --seed {seed} --out {metrics_path}
  objective: {metric: relative_ee, goal: minimize}
edit:
  paths: ["ope_pipeline/**/*.py"]
"""
)
GITHUB: GitHubConfig = CONFIG.github
BRANCH = "growthhacker/run-1"


def result(*errors: float) -> EvalResult:
    return EvalResult(
        tree="t",
        seeds=[SeedResult(seed=i, ok=True, metrics={"relative_ee": e}) for i, e in enumerate(errors)],
    )


def run_summary(base: str, hypothesis: str) -> RunSummary:
    return RunSummary(
        run_id="run-1",
        agent="heuristic",
        base_commit=base,
        metric="relative_ee",
        goal="minimize",
        baseline_search=result(0.20, 0.22, 0.24),
        iterations=[
            IterationSummary(
                iteration=1,
                hypothesis=hypothesis,
                persona="estimator",
                status="improved",
                search=result(0.10, 0.12, 0.13),
            )
        ],
        winner=1,
        reason="best improvement on the search seeds",
    )


def comment_event(world: World, number: int, body: str, login: str) -> IssueCommentEvent:
    posted = world.fake.add_comment(number, body, login=login)
    payload = {
        "action": "created",
        "issue": {"number": number, "pull_request": {"url": "…"}},
        "comment": {**posted, "user": {"login": login, "type": "User"}},
    }
    event = parse_event("issue_comment", payload)
    assert isinstance(event, IssueCommentEvent)
    assert decide_work(event, GITHUB.branch_prefix)[0] == "command"
    return event


def sticky_bodies(world: World, number: int) -> list[str]:
    return [c["body"] for c in world.fake.comments_on(number) if c["body"].startswith(STICKY_MARKER)]


def test_an_outer_loop_round_on_github(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    with github_world(tmp_path) as world:
        world.fake.set_role("alice", "write")
        publish = world.publisher
        assert decide_work(parse_event("workflow_dispatch", {}), GITHUB.branch_prefix)[0] == "optimize"

        # optimize: the loop's winner, committed on the run branch, is pushed and proposed.
        base = git(world.work, "rev-parse", "main")
        world.commit(BRANCH, {"ope_pipeline/estimator.py": "ESTIMATOR = 'SNIPW'\n"}, "GrowthHacker: SNIPW")
        head = RemoteGit(world.work, str(world.bare), TOKEN).push_branch(BRANCH)
        run = run_summary(base, "Use SNIPW to cut variance")
        journal.append(
            RunStarted(
                run_id="run-1",
                base_commit=base,
                agent="heuristic",
                iterations=1,
                metric="relative_ee",
                goal="minimize",
            )
        )
        journal.append(
            BaselineRecorded(run_id="run-1", search=run.baseline_search, confirm=run.baseline_search)
        )
        journal.append(
            IterationRecorded(
                run_id="run-1",
                iteration=1,
                hypothesis="Use SNIPW to cut variance",
                persona="estimator",
                status="improved",
                search=result(0.10, 0.12, 0.13),
            )
        )
        pr = publish.ensure_pull_request(
            head=BRANCH, base="main", title=pr_title(run), body=pr_body(run), labels=GITHUB.labels
        )
        publish.upsert_sticky_comment(pr.number, run_comment(run))
        publish.publish_check(head, check_report(run.baseline_search, result(0.10, 0.12, 0.13), CONFIG))
        assert world.fake.pull(pr.number)["title"] == "GrowthHacker: Use SNIPW to cut variance"
        assert world.fake.check_runs[0]["conclusion"] == "success"

        # iterate: a collaborator steers; the loop builds on the PR head and pushes a new commit.
        event = comment_event(world, pr.number, "/growthhacker iterate try self-normalized weights", "alice")
        receipt = receive_command(publish, event, GITHUB)
        assert (
            receipt is not None
            and receipt.needs_work
            and receipt.command.hint == "try self-normalized weights"
        )
        assert receipt.pull is not None and receipt.pull.head_sha == head
        world.commit(
            BRANCH, {"ope_pipeline/weights.py": "SELF_NORMALIZE = True\n"}, "GrowthHacker: normalise"
        )
        new_head = RemoteGit(world.work, str(world.bare), TOKEN).push_branch(BRANCH)
        publish.upsert_sticky_comment(pr.number, run_comment(run_summary(base, "Self-normalise the weights")))
        finish_command(publish, event, ok=True, message=f"Pushed `{new_head[:7]}`.")
        assert receipt.outcome is not None
        journal.append(receipt.outcome)
        assert world.fake.pull(pr.number)["head"]["sha"] == new_head
        assert (
            len(sticky_bodies(world, pr.number)) == 1 and "Iteration 1" in sticky_bodies(world, pr.number)[0]
        )

        # a stranger's command is refused; nothing moves.
        stranger = comment_event(world, pr.number, "/growthhacker undo", "mallory")
        assert receive_command(publish, stranger, GITHUB) is None
        assert world.fake.reactions_on(stranger.comment_id) == ["confused"]

        # undo: the bot reverts its last commit on top (never rewriting the branch).
        undo = comment_event(world, pr.number, "/growthhacker undo", "alice")
        undo_receipt = receive_command(publish, undo, GITHUB)
        assert undo_receipt is not None and undo_receipt.needs_work
        git(world.work, "revert", "--no-edit", "HEAD")
        reverted = RemoteGit(world.work, str(world.bare), TOKEN).push_branch(BRANCH)
        finish_command(publish, undo, ok=True, message=f"Reverted in `{reverted[:7]}`.")
        assert not (world.work / "ope_pipeline" / "weights.py").exists()
        assert git(world.bare, "rev-list", "--count", BRANCH) == "4"

        # close: the outcome is journaled.
        world.fake.close_pull(pr.number, by="alice")
        closed = parse_event("pull_request", world.fake.webhook_payload(pr.number, "closed"))
        assert isinstance(closed, PullRequestEvent)
        assert decide_mode(closed, GITHUB.branch_prefix).mode == "outcome"  # one job: no mode input needed
        outcome = outcome_of_closed(closed, GITHUB.branch_prefix)
        assert outcome is not None
        journal.append(outcome)
        assert world.fake.violations == []

    # the next optimize run: the Analyzer's best-first view carries the verdict and the human steer.
    attempt = journal.attempts()[0]
    assert (attempt.run_id, attempt.iteration, attempt.verdict) == ("run-1", 1, "closed")
    assert attempt.feedback == ["/growthhacker iterate try self-normalized weights"]
