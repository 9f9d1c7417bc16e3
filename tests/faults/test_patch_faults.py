"""Fault matrix, patch boundary: what a Coder's diff can be, and what the loop does with it.

Each row hands the real loop one kind of diff through the Coder, three times (the first answer and
both repair rounds). Named outcomes: ``applied`` (the candidate is evaluated and recorded) or
``refused`` (nothing touches disk; the engine's reason goes back to the Coder, and after the bounded
repairs the candidate is recorded as failed with that reason). Every row also checks that the user's
checkout is unchanged and that the journal lost nothing. The engine's own unit tests
(tests/test_patch.py) cover each refusal in detail; these rows cover it end to end.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bot.loop import MAX_REPAIRS
from tests.helpers.fault_target import (
    MODEL,
    FixedAgent,
    assert_journal_complete,
    checkout_of,
    make_target,
    run_loop,
    seed_journal,
)

CRLF = "pipeline/crlf.py"
NO_EOL = "pipeline/no_eol.py"
OLD = "pipeline/old.py"
REPEATED = "pipeline/repeated.py"
BLOCK = ["x = 1", "y = 2", "z = 3"]
EXTRA_FILES = {
    CRLF: "A = 1\r\nB = 2\r\n",
    NO_EOL: "A = 1\nB = 2",
    OLD: "OLD = True\n",
    # The same three lines at lines 1-3 and 24-26.
    REPEATED: "\n".join(BLOCK + [f"# gap {i}" for i in range(20)] + BLOCK) + "\n",
}


def d(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def modify(path: str, *hunk: str) -> str:
    return d(f"--- a/{path}", f"+++ b/{path}", *hunk)


ROWS = [
    ("malformed_hunk", modify(MODEL, "@@ -1 +1 @@", "SCALE = 0.3"), "refused", "parse_error"),
    # Header bookkeeping is recomputed from the hunk's lines: never a reason to refuse.
    ("wrong_line_counts", modify(OLD, "@@ -1,4 +1,4 @@", "-OLD = True", "+OLD = False"), "applied", OLD),
    ("bare_hunk_header", modify(OLD, "@@", "-OLD = True", "+OLD = 1"), "applied", OLD),
    (
        "context_matching_twice",
        modify(REPEATED, "@@ -12,3 +12,3 @@", " x = 1", "-y = 2", "+y = 5", " z = 3"),
        "refused",
        "ambiguous_context",
    ),
    ("crlf_file", modify(CRLF, "@@ -1,2 +1,2 @@", " A = 1", "-B = 2", "+B = 3"), "applied", CRLF),
    (
        "no_trailing_newline",
        modify(NO_EOL, "@@ -1,2 +1,2 @@", " A = 1", "-B = 2", "\\ No newline at end of file", "+B = 3",
               "\\ No newline at end of file"),
        "applied",
        NO_EOL,
    ),
    ("new_file", d("--- /dev/null", "+++ b/pipeline/extra.py", "@@ -0,0 +1 @@", "+EXTRA = 1"), "applied",
     "pipeline/extra.py"),
    (
        "rename",
        d(f"diff --git a/{OLD} b/pipeline/new.py", "similarity index 100%", f"rename from {OLD}",
          "rename to pipeline/new.py"),
        "applied",
        "pipeline/new.py",
    ),
    ("delete", d(f"--- a/{OLD}", "+++ /dev/null", "@@ -1 +0,0 @@", "-OLD = True"), "applied", OLD),
    ("dotdot_path", modify("pipeline/../evaluate.py", "@@ -1 +1 @@", "-import json", "+x"), "refused",
     "parent_traversal"),
    ("absolute_path", modify("/etc/hostname", "@@ -1 +1 @@", "-a", "+b"), "refused", "absolute_path"),
    ("symlink_target", modify("pipeline/link.py", "@@ -1 +1 @@", "-import json, pathlib, sys", "+x = 1"),
     "refused", "symlink"),
    (
        "binary_patch",
        d(f"diff --git a/{MODEL} b/{MODEL}", "index 1111111..2222222 100644", "GIT binary patch", "literal 3",
          "KcmZ?wb^rhX0RR91", ""),
        "refused",
        "binary",
    ),
    ("protected_harness", modify("evaluate.py", "@@ -1 +1 @@", "-import json, pathlib, sys", "+import os"),
     "refused", "protected_path"),
    ("github_workflow", modify(".github/workflows/ci.yml", "@@ -1 +1 @@", "-on: push", "+on: [push, fork]"),
     "refused", "protected_path"),
    ("growthhacker_config", modify(".growthhacker.yml", "@@ -1 +1 @@", "-evaluate:", "+evaluate: {}"),
     "refused", "protected_path"),
    ("mode_change_to_executable", d(f"diff --git a/{MODEL} b/{MODEL}", "old mode 100644", "new mode 100755"),
     "refused", "executable"),
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_target(tmp_path / "repo", EXTRA_FILES)
    os.symlink("../evaluate.py", root / "pipeline" / "link.py")
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", *identity, "commit", "-q", "-m", "symlink"], cwd=root, check=True)
    return root


@pytest.mark.parametrize(("diff", "outcome", "detail"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_patch_fault(repo: Path, cache: Path, diff: str, outcome: str, detail: str) -> None:
    earlier = seed_journal(repo)
    checkout = checkout_of(repo)
    agent = FixedAgent([diff] * (MAX_REPAIRS + 1))

    result = run_loop(repo, agent.agent(), cache)

    record = result.iteration
    if outcome == "applied":
        assert record.status == "no_gain", record.failure_reason
        assert f"b/{detail}" in record.diff or f"a/{detail}" in record.diff
        assert len(agent.requests) == 1
    else:
        assert (record.status, record.failure_kind) == ("failed", "patch")
        assert (record.failure_reason or "").startswith(f"patch: [{detail}]")
        assert [r.feedback is not None and f"[{detail}]" in r.feedback for r in agent.requests] == [
            False, True, True,
        ], "each repair round quotes the engine's reason"
    assert checkout_of(repo) == checkout
    assert_journal_complete(result.journal, earlier, "r1", 1)


def test_a_crlf_file_keeps_its_line_endings(repo: Path, cache: Path) -> None:
    row = next(r for r in ROWS if r[0] == "crlf_file")
    agent = FixedAgent([row[1]])

    result = run_loop(repo, agent.agent(), cache)

    assert "+B = 3\r\n" in result.iteration.diff
