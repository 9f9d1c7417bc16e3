"""Fault matrix, GitHub boundary: publishing a finished run to a local, stateful fake GitHub.

Each row publishes the run the way the action does — push the bot branch (real ``git`` to a bare
remote), open the PR, post the sticky comment, create the check — with one fault scripted on the
fake (validated against GitHub's OpenAPI description). Named outcomes: ``retried`` (the wait GitHub
asks for is honoured, then it succeeds), ``recovered`` (the expected error is handled: the open PR is
updated), ``refused`` (a GitHubError that says what to do; nothing is forced), ``truncated`` (cut to
GitHub's limit with a link to the full report), ``converged`` (concurrent runs leave one comment).
Every row checks that the journal and the user's checkout are unchanged. Unit tests of the retry
policy and the publisher: tests/test_github_client.py, tests/test_github_publish.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.errors import GitHubError
from bot.github.git_remote import RemoteGit
from bot.github.publish import Publisher
from bot.github.render import BODY_LIMIT, STICKY_MARKER, CheckReport, pr_body, pr_title, run_comment
from bot.journal import (
    BaselineRecorded,
    ConfirmationRecorded,
    IterationRecorded,
    Journal,
    RunFinished,
    RunStarted,
)
from bot.results import EvalResult, RunSummary, SeedResult
from tests.helpers.fake_github.world import NOW, REPOSITORY, TOKEN, World, client, git, github_world
from tests.helpers.fault_target import checkout_of

BRANCH = "growthhacker/r1"
RUN_URL = "https://github.invalid/acme/ope-target/actions/runs/42"
SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."


def result(err: float, seeds: list[int]) -> EvalResult:
    return EvalResult(tree="t", seeds=[SeedResult(seed=s, ok=True, metrics={"err": err + s / 1e4,
                                                                           "runtime_s": 1.0}) for s in seeds])


def finished_run(journal: Journal, base: str, diff: str, losers: int = 0) -> RunSummary:
    """Journal a finished run whose iteration 1 won (then ``losers`` more); returns its summary."""
    journal.append(RunStarted(run_id="r1", base_commit=base, agent="heuristic", iterations=1, metric="err",
                              goal="minimize", guardrails=["runtime_s"]))
    journal.append(BaselineRecorded(run_id="r1", search=result(0.75, [0, 1]),
                                    confirm=result(0.75, [100, 101])))
    journal.append(IterationRecorded(run_id="r1", iteration=1, hypothesis="use SNIPW", persona="estimator",
                                     diff=diff, diff_summary="ope_pipeline/estimator.py (+1 −1)",
                                     status="improved", search=result(0.05, [0, 1])))
    with journal.path.open("a", encoding="utf-8") as bulk:  # one write, not one fsync per record
        bulk.writelines(
            IterationRecorded(run_id="r1", iteration=n, hypothesis=f"idea {n}: " + "tune " * 15,
                              persona="hyperparameter", status="no_gain",
                              search=result(0.8, [0, 1])).model_dump_json() + "\n"
            for n in range(2, losers + 2)
        )
    journal.append(ConfirmationRecorded(run_id="r1", iteration=1, confirm=result(0.05, [100, 101]),
                                        confirmed=True, reason="err -93% on the held-out seeds"))
    journal.append(RunFinished(run_id="r1", winner=1, reason="iteration 1 improves err", branch=BRANCH))
    return journal.summary("r1")


def publish(world: World, summary: RunSummary, publisher: Publisher | None = None) -> int:
    """Push the bot branch and open or update the PR with its sticky comment and check; the PR number."""
    publisher = publisher or world.publisher
    sha = RemoteGit(world.work, str(world.bare), TOKEN).push_branch(BRANCH, source=BRANCH)
    ref = publisher.ensure_pull_request(head=BRANCH, base="main", title=pr_title(summary),
                                        body=pr_body(summary, run_url=RUN_URL), labels=["growthhacker"])
    publisher.upsert_sticky_comment(ref.number, run_comment(summary, run_url=RUN_URL))
    publisher.publish_check(sha, CheckReport("success", "err -93.3%", "| deltas |"))
    return ref.number


class Scene:
    """A world with the bot branch committed (the user's checkout back on main) and a journal."""

    def __init__(self, world: World, diff: str = "", losers: int = 0) -> None:
        self.world = world
        base = git(world.work, "rev-parse", "main")
        world.commit(BRANCH, {"ope_pipeline/estimator.py": "ESTIMATOR = 'SNIPW'\n"}, "GrowthHacker: SNIPW")
        git(world.work, "checkout", "-q", "main")
        (world.work / ".git" / "info" / "exclude").write_text(".growthhacker/\n")
        self.journal = Journal(world.work / ".growthhacker" / "journal.jsonl")
        self.summary = finished_run(self.journal, base, diff or "--- a/x\n+++ b/x\n", losers)
        self.journal_bytes = self.journal.path.read_bytes()
        self.checkout = checkout_of(world.work)

    def sticky_comments(self, number: int) -> list[str]:
        return [c["body"] for c in self.world.fake.comments_on(number) if c["body"].startswith(STICKY_MARKER)]


def server_error(scene: Scene) -> None:
    scene.world.fake.fail_next("POST", r"/pulls$", 502, times=2)
    publish(scene.world, scene.summary)
    assert scene.world.waits == [0.5, 1.0]


def primary_rate_limit(scene: Scene) -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 30)}
    scene.world.fake.fail_next("POST", r"/issues/\d+/comments$", 403, headers=headers,
                               message="API rate limit exceeded for installation")
    number = publish(scene.world, scene.summary)
    assert scene.world.waits == [31.0] and len(scene.sticky_comments(number)) == 1


def secondary_rate_limit(scene: Scene) -> None:
    scene.world.fake.fail_next("POST", r"/pulls$", 403, headers={"retry-after": "12"}, message=SECONDARY)
    publish(scene.world, scene.summary)
    assert scene.world.waits == [12.0]


def deleted_branch(scene: Scene) -> None:
    publish(scene.world, scene.summary)
    git(scene.world.bare, "update-ref", "-d", f"refs/heads/{BRANCH}")
    with pytest.raises(GitHubError, match=r"no longer exists .*start a new run instead"):
        scene.world.publisher.branch_head(BRANCH)


def existing_pull_request(scene: Scene) -> None:
    first = publish(scene.world, scene.summary)
    second = publish(scene.world, scene.summary)
    assert first == second and scene.world.fake.count("PATCH", rf"/pulls/{first}$") == 1
    assert len(scene.sticky_comments(first)) == 1


def push_rejected(scene: Scene) -> None:
    world = scene.world
    publish(world, scene.summary)
    git(world.work, "checkout", "-q", BRANCH)
    (world.work / "NOTES.md").write_text("a reviewer's fix\n")
    git(world.work, "add", "NOTES.md")
    git(world.work, "commit", "-q", "-m", "reviewer fix")
    world.push(BRANCH)
    git(world.work, "reset", "-q", "--hard", "HEAD~1")  # the bot's stale view of its branch
    git(world.work, "checkout", "-q", "main")
    with pytest.raises(GitHubError, match="never force-pushes"):
        RemoteGit(world.work, str(world.bare), TOKEN).push_branch(BRANCH, source=BRANCH)
    assert git(world.bare, "log", "-1", "--format=%s", BRANCH) == "reviewer fix"


def body_over_the_limit(scene: Scene) -> None:
    number = publish(scene.world, scene.summary)
    body = scene.world.fake.pull(number)["body"]
    (comment,) = scene.sticky_comments(number)
    for text in (body, comment):
        assert len(text) <= BODY_LIMIT
        assert f"The full report is in [the workflow run]({RUN_URL})" in text


def race_sticky_upserts(scene: Scene, number: int, runs: int) -> None:
    """``runs`` publishers upsert the sticky comment at the same moment; exactly one must remain."""
    barrier = threading.Barrier(runs)
    errors: list[BaseException] = []

    def one_run(index: int) -> None:
        publisher = Publisher(client(scene.world.fake, []), REPOSITORY)
        barrier.wait()
        try:
            publisher.upsert_sticky_comment(number, f"run {index}")
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=one_run, args=(i,)) for i in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(scene.sticky_comments(number)) == 1


def concurrent_runs(scene: Scene) -> None:
    number = publish(scene.world, scene.summary)
    for comment in scene.world.fake.comments_on(number):
        scene.world.fake.delete_comment(comment["id"])  # every run below starts with no sticky comment
    race_sticky_upserts(scene, number, runs=6)


def concurrent_runs_with_duplicates(scene: Scene) -> None:
    number = publish(scene.world, scene.summary)
    seeding = Publisher(client(scene.world.fake, []), REPOSITORY)
    for index in range(3):  # duplicates a crashed race left behind: every run below lists and deletes them
        seeding.reply(number, f"{STICKY_MARKER}\nleftover {index}")
    race_sticky_upserts(scene, number, runs=4)


ROWS: list[tuple[str, Callable[[Scene], None], str]] = [
    ("server_error_5xx", server_error, "retried"),
    ("primary_rate_limit_reset_header", primary_rate_limit, "retried"),
    ("secondary_rate_limit_retry_after", secondary_rate_limit, "retried"),
    ("deleted_branch_404", deleted_branch, "refused"),
    ("existing_pull_request_422", existing_pull_request, "recovered"),
    ("push_rejected_non_fast_forward", push_rejected, "refused"),
    ("comment_body_over_the_size_limit", body_over_the_limit, "truncated"),
    ("concurrent_runs_on_one_pr", concurrent_runs, "converged"),
    ("concurrent_runs_delete_the_same_duplicates", concurrent_runs_with_duplicates, "converged"),
]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with github_world(tmp_path) as w:
        yield w
        assert w.fake.violations == []


@pytest.mark.parametrize(("fault", "outcome"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_github_fault(world: World, fault: Callable[[Scene], None], outcome: str) -> None:
    if outcome == "truncated":  # a 120k-character diff in the PR body, 700 iterations in the comment
        scene = Scene(world, diff="--- a/x\n+++ b/x\n@@ -0,0 +1,40000 @@\n" + "+z\n" * 40_000, losers=700)
    else:
        scene = Scene(world)

    fault(scene)

    assert scene.journal.path.read_bytes() == scene.journal_bytes
    assert checkout_of(world.work) == scene.checkout
