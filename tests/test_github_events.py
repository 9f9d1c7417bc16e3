"""Event payloads → typed events → the bot's mode; fork PRs are recognised."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.errors import ActionEnvironmentError
from bot.github.events import (
    DispatchEvent,
    IgnoredEvent,
    IssueCommentEvent,
    PullRequestEvent,
    ScheduleEvent,
    decide_mode,
    decide_work,
    load_action_context,
    load_event,
    parse_event,
)

PREFIX = "growthhacker/"
REPO = "acme/ope-target"


def pr_payload(
    action: str = "opened", *, head_repo: str | None = REPO, merged: bool = False
) -> dict[str, Any]:
    repo = {"full_name": head_repo} if head_repo is not None else None
    return {
        "action": action,
        "sender": {"login": "alice"},
        "pull_request": {
            "number": 12,
            "title": "GrowthHacker: use SNIPW",
            "body": "<!-- growthhacker:run=r1 iteration=3 -->",
            "user": {"login": "github-actions[bot]"},
            "head": {"ref": "growthhacker/r1", "sha": "a" * 40, "repo": repo},
            "base": {"ref": "main", "sha": "b" * 40, "repo": {"full_name": REPO}},
            "merged": merged,
            "merged_by": {"login": "maintainer"} if merged else None,
            "merged_at": "2026-11-25T10:00:00Z" if merged else None,
            "closed_at": "2026-11-25T10:00:00Z" if action == "closed" else None,
            "labels": [{"name": "growthhacker"}],
        },
    }


def comment_payload(
    body: str = "/growthhacker status", *, on_pr: bool = True, user_type: str = "User"
) -> dict[str, Any]:
    issue: dict[str, Any] = {"number": 12}
    if on_pr:
        issue["pull_request"] = {"url": f"https://api.github.com/repos/{REPO}/pulls/12"}
    return {
        "action": "created",
        "issue": issue,
        "comment": {
            "id": 99,
            "body": body,
            "user": {"login": "alice", "type": user_type},
            "author_association": "MEMBER",
            "created_at": "2026-11-25T09:00:00Z",
        },
    }


def test_workflow_dispatch_keeps_its_inputs() -> None:
    event = parse_event("workflow_dispatch", {"ref": "refs/heads/main", "inputs": {"iterations": 3}})

    assert event == DispatchEvent(ref="refs/heads/main", inputs={"iterations": "3"})


def test_schedule_keeps_its_cron() -> None:
    assert parse_event("schedule", {"schedule": "0 3 * * 1"}) == ScheduleEvent(cron="0 3 * * 1")


def test_pull_request_opened_is_parsed() -> None:
    event = parse_event("pull_request", pr_payload("opened"))

    assert isinstance(event, PullRequestEvent)
    assert (event.number, event.head_ref, event.base_ref, event.is_fork) == (
        12,
        "growthhacker/r1",
        "main",
        False,
    )
    assert event.is_bot_branch(PREFIX)


def test_a_pull_request_from_a_fork_is_detected() -> None:
    event = parse_event("pull_request", pr_payload("synchronize", head_repo="mallory/ope-target"))

    assert isinstance(event, PullRequestEvent)
    assert event.is_fork
    assert not event.is_bot_branch(PREFIX)


def test_a_pull_request_whose_fork_was_deleted_counts_as_a_fork() -> None:
    event = parse_event("pull_request", pr_payload("synchronize", head_repo=None))

    assert isinstance(event, PullRequestEvent) and event.is_fork


def test_a_merged_pull_request_names_who_merged_it() -> None:
    event = parse_event("pull_request", pr_payload("closed", merged=True))

    assert isinstance(event, PullRequestEvent)
    assert (event.merged, event.actor, event.closed_at) == (True, "maintainer", "2026-11-25T10:00:00Z")


def test_a_closed_unmerged_pull_request_names_the_sender() -> None:
    event = parse_event("pull_request", pr_payload("closed"))

    assert isinstance(event, PullRequestEvent)
    assert (event.merged, event.actor) == (False, "alice")


def test_other_pull_request_actions_are_ignored() -> None:
    event = parse_event("pull_request", pr_payload("labeled"))

    assert isinstance(event, IgnoredEvent) and "labeled" in event.reason


def test_pull_request_target_is_ignored_with_the_security_reason() -> None:
    event = parse_event("pull_request_target", pr_payload())

    assert isinstance(event, IgnoredEvent) and "secrets" in event.reason


def test_a_comment_on_a_pull_request_is_parsed() -> None:
    event = parse_event("issue_comment", comment_payload("/growthhacker undo"))

    assert event == IssueCommentEvent(
        action="created",
        pr_number=12,
        comment_id=99,
        body="/growthhacker undo",
        author="alice",
        author_type="User",
        author_association="MEMBER",
        created_at="2026-11-25T09:00:00Z",
    )


def test_a_comment_on_a_plain_issue_is_ignored() -> None:
    event = parse_event("issue_comment", comment_payload(on_pr=False))

    assert isinstance(event, IgnoredEvent) and "not a pull request" in event.reason


def test_a_payload_missing_a_required_field_is_reported() -> None:
    payload = pr_payload()
    del payload["pull_request"]["head"]

    with pytest.raises(ActionEnvironmentError, match="pull_request event payload lacks a field"):
        parse_event("pull_request", payload)


def test_load_event_reads_the_payload_file(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(comment_payload()))
    context = load_action_context(
        {"GITHUB_EVENT_NAME": "issue_comment", "GITHUB_EVENT_PATH": str(path), "GITHUB_REPOSITORY": REPO}
    )

    event = load_event(context)

    assert isinstance(event, IssueCommentEvent) and event.pr_number == 12


def test_a_payload_that_is_not_json_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text("{not json")
    context = load_action_context(
        {"GITHUB_EVENT_NAME": "schedule", "GITHUB_EVENT_PATH": str(path), "GITHUB_REPOSITORY": REPO}
    )

    with pytest.raises(ActionEnvironmentError, match="not JSON"):
        load_event(context)


def test_outside_actions_the_missing_variables_are_named() -> None:
    expected = r"GITHUB_EVENT_NAME, GITHUB_EVENT_PATH.*growthhacker run"
    with pytest.raises(ActionEnvironmentError, match=expected):
        load_action_context({"GITHUB_REPOSITORY": REPO})


def test_the_action_context_builds_the_run_url(tmp_path: Path) -> None:
    context = load_action_context(
        {
            "GITHUB_EVENT_NAME": "schedule",
            "GITHUB_EVENT_PATH": str(tmp_path / "e.json"),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_RUN_ID": "42",
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        }
    )

    assert context.run_url == f"https://github.com/{REPO}/actions/runs/42"
    assert context.step_summary == tmp_path / "summary.md" and context.output is None


@pytest.mark.parametrize(
    ("name", "payload", "work"),
    [
        ("schedule", {}, "optimize"),
        ("workflow_dispatch", {}, "optimize"),
        ("pull_request", pr_payload("opened"), "verify"),
        ("pull_request", pr_payload("synchronize", head_repo="mallory/ope-target"), "verify"),
        ("pull_request", pr_payload("closed", merged=True), "outcome"),
        ("issue_comment", comment_payload(), "command"),
    ],
)
def test_each_event_maps_to_its_work(name: str, payload: dict[str, Any], work: str) -> None:
    assert decide_work(parse_event(name, payload), PREFIX)[0] == work


def test_a_closed_pull_request_that_is_not_the_bots_needs_nothing() -> None:
    payload = pr_payload("closed")
    payload["pull_request"]["head"]["ref"] = "feature/x"

    decision = decide_mode(parse_event("pull_request", payload), PREFIX)

    assert decision.mode is None and "not a GrowthHacker PR" in decision.reason


def test_comments_by_bots_never_run_commands() -> None:
    decision = decide_mode(parse_event("issue_comment", comment_payload(user_type="Bot")), PREFIX)

    assert decision.mode is None


def test_edited_comments_never_rerun_commands() -> None:
    payload = comment_payload()
    payload["action"] = "edited"

    assert decide_mode(parse_event("issue_comment", payload), PREFIX).mode is None


def test_each_job_of_a_pull_request_names_its_part_of_the_work() -> None:
    event = parse_event("pull_request", pr_payload("opened"))

    assert [decide_mode(event, PREFIX, requested=mode).mode for mode in ("measure", "report")] == [
        "measure", "report"]
    with pytest.raises(ActionEnvironmentError, match="done by the jobs measure → report: set the action"):
        decide_mode(event, PREFIX)
    with pytest.raises(ActionEnvironmentError, match="mode 'outcome' cannot run on a pull_request event"):
        decide_mode(event, PREFIX, requested="outcome")


def test_a_mode_input_that_contradicts_the_event_is_refused() -> None:
    with pytest.raises(ActionEnvironmentError, match="mode 'receive' cannot run on a schedule event"):
        decide_mode(ScheduleEvent(), PREFIX, requested="receive")


def test_an_unknown_mode_input_is_refused() -> None:
    with pytest.raises(ActionEnvironmentError, match="unknown mode 'deploy'"):
        decide_mode(ScheduleEvent(), PREFIX, requested="deploy")
