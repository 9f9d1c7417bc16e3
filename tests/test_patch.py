"""The patch engine: refusal codes, tolerant application, file operations on disk, normalised diffs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bot.config import EditConfig
from bot.errors import PatchError
from bot.patch import (
    AppliedPatch,
    FileEdit,
    PathPolicy,
    apply_patch,
    extract_diff,
    glob_match,
    make_diff,
    plan_patch,
)
from bot.patch.apply import _write_edits

POLICY = PathPolicy.from_config(EditConfig(paths=["ope_pipeline/**/*.py"], protected=["evaluate.py"]))

ESTIMATORS = (
    '"""Estimators used by the pipeline."""\n'
    "\n"
    "from obp.ope import DirectMethod, InverseProbabilityWeighting\n"
    "\n"
    "\n"
    "def make_estimators(alpha=1.0):\n"
    '    """Return the estimators to compare."""\n'
    "    ipw = InverseProbabilityWeighting()\n"
    "    dm = DirectMethod()\n"
    "    return [ipw, dm]\n"
    "\n"
    "\n"
    "def clip(weights, lam=100.0):\n"
    "    return weights.clip(max=lam)\n"
)
BLOCK = ["x = 1", "y = 2", "z = 3"]
# The same three lines at lines 1-3, 14-16 and 27-29.
REPEATED = (
    "\n".join(
        BLOCK + [f"# gap {i}" for i in range(10)] + BLOCK + [f"# gap {i}" for i in range(10, 20)] + BLOCK
    )
    + "\n"
)
FILES = {
    "ope_pipeline/__init__.py": "",
    "ope_pipeline/estimators.py": ESTIMATORS,
    "ope_pipeline/repeated.py": REPEATED,
    "evaluate.py": "import ope_pipeline\nprint('relative_ee')\n",
    "README.md": "# Demo\n",
    ".github/workflows/ci.yml": "on: push\n",
}
EST = "ope_pipeline/estimators.py"
HEAD = (f"--- a/{EST}", f"+++ b/{EST}")
CLIP = (
    "@@ -13,2 +13,2 @@",
    " def clip(weights, lam=100.0):",
    "-    return weights.clip(max=lam)",
    "+    return weights.clip(min=0.0, max=lam)",
)
CLIPPED = ESTIMATORS.replace("clip(max=lam)", "clip(min=0.0, max=lam)")


def d(*lines: str) -> str:
    """A diff from its lines (no trailing-newline fuss in the test table)."""
    return "\n".join(lines) + "\n"


def modify(path: str, *hunk: str) -> str:
    return d(f"--- a/{path}", f"+++ b/{path}", *hunk)


def create(path: str, *added: str, mode: str = "100644") -> str:
    return d(
        f"diff --git a/{path} b/{path}",
        f"new file mode {mode}",
        "--- /dev/null",
        f"+++ b/{path}",
        f"@@ -0,0 +1,{len(added)} @@",
        *(f"+{line}" for line in added),
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for path, text in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return root


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and mtime (ns), to prove nothing was touched."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


REFUSALS = [
    ("prose_only", "The estimators look fine to me; no change needed.", "empty_diff"),
    ("fenced_code_that_is_no_diff", "```python\nprint('hello')\n```\n", "empty_diff"),
    ("line_without_prefix", d(*HEAD, CLIP[0], CLIP[1], "return weights", *CLIP[2:]), "parse_error"),
    ("headers_without_hunks", d(*HEAD), "parse_error"),
    (
        "copy",
        d(f"diff --git a/{EST} b/ope_pipeline/copy.py", f"copy from {EST}", "copy to x.py"),
        "parse_error",
    ),
    ("absolute_path", modify("/etc/passwd", "@@ -1 +1 @@", "-root:x", "+root:y"), "absolute_path"),
    (
        "dotdot_to_protected",
        modify("ope_pipeline/../evaluate.py", "@@ -1 +1 @@", "-a", "+b"),
        "parent_traversal",
    ),
    ("dotdot_escaping_root", create("../outside.py", "x = 1"), "parent_traversal"),
    (
        "protected_file",
        modify("evaluate.py", "@@ -2 +2 @@", "-print('relative_ee')", "+print(0)"),
        "protected_path",
    ),
    ("protected_after_normalising", modify("./evaluate.py", "@@ -1 +1 @@", "-a", "+b"), "protected_path"),
    ("always_protected_ci", create(".github/workflows/evil.yml", "on: push"), "protected_path"),
    ("outside_editable", modify("README.md", "@@ -1 +1 @@", "-# Demo", "+# Hacked"), "outside_editable"),
    (
        "rename_out_of_editable",
        d(
            f"diff --git a/{EST} b/notes/estimators.py",
            "similarity index 100%",
            f"rename from {EST}",
            "rename to notes/estimators.py",
        ),
        "outside_editable",
    ),
    (
        "delete_protected",
        d(
            "diff --git a/evaluate.py b/evaluate.py",
            "deleted file mode 100644",
            "--- a/evaluate.py",
            "+++ /dev/null",
            "@@ -1,2 +0,0 @@",
            "-import ope_pipeline",
            "-print('relative_ee')",
        ),
        "protected_path",
    ),
    ("symlink_mode", create("ope_pipeline/link.py", "../evaluate.py", mode="120000"), "symlink"),
    (
        "git_binary_patch",
        d(
            f"diff --git a/{EST} b/{EST}",
            "index 1111111..2222222 100644",
            "GIT binary patch",
            "literal 3",
            "KcmZ?wb^rhX0RR91",
        ),
        "binary",
    ),
    (
        "binary_files_differ",
        d(
            "diff --git a/ope_pipeline/m.py b/ope_pipeline/m.py",
            "Binary files a/ope_pipeline/m.py and b/ope_pipeline/m.py differ",
        ),
        "binary",
    ),
    ("nul_byte", d(*HEAD, *CLIP[:3], "+    return weights\x00"), "binary"),
    ("new_executable_file", create("ope_pipeline/run.py", "print(1)", mode="100755"), "executable"),
    ("mode_change", d(f"diff --git a/{EST} b/{EST}", "old mode 100644", "new mode 100755"), "executable"),
    (
        "modify_missing_file",
        modify("ope_pipeline/missing.py", "@@ -1 +1 @@", "-a = 1", "+a = 2"),
        "file_missing",
    ),
    (
        "delete_missing_file",
        d("--- a/ope_pipeline/gone.py", "+++ /dev/null", "@@ -1 +0,0 @@", "-a = 1"),
        "file_missing",
    ),
    ("create_existing_file", create(EST, "x = 1"), "file_exists"),
    ("context_not_in_file", d(*HEAD, CLIP[0], " def clip(w):", *CLIP[2:]), "context_mismatch"),
    (
        "delete_leaving_lines",
        d(f"--- a/{EST}", "+++ /dev/null", "@@ -1,1 +0,0 @@", '-"""Estimators used by the pipeline."""'),
        "context_mismatch",
    ),
    (
        "repeated_context_far_from_stated_line",
        modify("ope_pipeline/repeated.py", "@@ -21,3 +21,3 @@", " x = 1", "-y = 2", "+y = 5", " z = 3"),
        "ambiguous_context",
    ),
    ("same_plus_and_minus", d(*HEAD, *CLIP[:3], "+    return weights.clip(max=lam)"), "no_change"),
]


@pytest.mark.parametrize(("diff", "code"), [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS])
def test_refused_diff_raises_its_code_and_writes_nothing(repo: Path, diff: str, code: str) -> None:
    before = snapshot(repo)

    with pytest.raises(PatchError) as caught:
        apply_patch(diff, repo, POLICY)

    assert caught.value.code == code
    assert snapshot(repo) == before


def test_every_refusal_code_is_covered_by_the_table() -> None:
    from typing import get_args

    from bot.errors import PatchErrorCode

    assert {code for *_, code in REFUSALS} == set(get_args(PatchErrorCode))


def test_simple_diff_is_applied_to_disk(repo: Path) -> None:
    applied = apply_patch(d(*HEAD, *CLIP), repo, POLICY)

    assert (repo / EST).read_text() == CLIPPED
    assert applied.edits == (FileEdit(EST, None, ESTIMATORS, CLIPPED),)


def test_summary_counts_added_and_removed_lines(repo: Path) -> None:
    diff = d(*HEAD, "@@ -13,2 +13,3 @@", *CLIP[1:3], "+    weights = weights.copy()", CLIP[3])

    applied = plan_patch(diff, repo, POLICY)

    assert applied.summary() == f"{EST} (+2 −1)"
    assert applied.paths == [EST]


def test_plan_patch_writes_nothing(repo: Path) -> None:
    before = snapshot(repo)

    plan_patch(d(*HEAD, *CLIP), repo, POLICY)

    assert snapshot(repo) == before


# --- extraction from LLM answers ------------------------------------------------------------------


def test_fenced_diffs_are_extracted_from_prose_and_concatenated() -> None:
    answer = (
        "I'll clip the weights.\n\n```diff\n" + d(*HEAD, *CLIP) + "```\n\n"
        "For reference, the old code was:\n```python\nweights.clip(max=lam)\n```\n"
        "And a new module:\n```patch\n" + create("ope_pipeline/new.py", "A = 1") + "```\nDone!\n"
    )

    assert extract_diff(answer) == d(*HEAD, *CLIP) + create("ope_pipeline/new.py", "A = 1")


def test_unfenced_diff_starts_at_its_first_header() -> None:
    answer = "Sure -- here is the change:\n" + d(*HEAD, *CLIP)

    assert extract_diff(answer) == d(*HEAD, *CLIP)


def test_indented_tilde_fence_in_a_list_is_extracted() -> None:
    body = d(*HEAD, *CLIP)
    answer = (
        "1. Apply this:\n   ~~~udiff\n" + "".join("   " + line for line in body.splitlines(True)) + "   ~~~\n"
    )

    assert extract_diff(answer) == body


def test_llm_answer_with_fenced_diff_applies(repo: Path) -> None:
    answer = "Here you go:\n```diff\n" + d(*HEAD, *CLIP) + "```\nThis bounds the weights below."

    apply_patch(answer, repo, POLICY)

    assert (repo / EST).read_text() == CLIPPED


# --- tolerant application -------------------------------------------------------------------------


@pytest.mark.parametrize("stated", [13, 53], ids=["stated_20_lines_early", "stated_20_lines_late"])
def test_shifted_line_numbers_still_apply(repo: Path, stated: int) -> None:
    padding = "".join(f"# note {i}\n" for i in range(20))
    (repo / EST).write_text(padding + ESTIMATORS)  # clip() now lives at line 33

    apply_patch(d(*HEAD, f"@@ -{stated},2 +{stated},2 @@", *CLIP[1:]), repo, POLICY)

    assert (repo / EST).read_text() == padding + CLIPPED


def test_nearest_of_several_matches_within_window_is_taken(repo: Path) -> None:
    diff = modify("ope_pipeline/repeated.py", "@@ -15,3 +15,3 @@", " x = 1", "-y = 2", "+y = 5", " z = 3")

    apply_patch(diff, repo, POLICY)

    lines = (repo / "ope_pipeline/repeated.py").read_text().splitlines()
    assert [lines[1], lines[14], lines[27]] == ["y = 2", "y = 5", "y = 2"]


def test_diff_indented_two_extra_spaces_keeps_file_indentation(repo: Path) -> None:
    diff = d(
        *HEAD,
        "@@ -6,5 +6,6 @@",
        "   def make_estimators(alpha=1.0):",
        '       """Return the estimators to compare."""',
        "       ipw = InverseProbabilityWeighting()",
        "       dm = DirectMethod()",
        "-      return [ipw, dm]",
        "+      dr = DoublyRobust()",
        "+      return [ipw, dm, dr]",
    )

    apply_patch(diff, repo, POLICY)

    expected = ESTIMATORS.replace(
        "    return [ipw, dm]\n", "    dr = DoublyRobust()\n    return [ipw, dm, dr]\n"
    )
    assert (repo / EST).read_text() == expected


def test_diff_with_spaces_applies_to_tab_indented_file(repo: Path) -> None:
    (repo / "ope_pipeline/tabs.py").write_text("def f(x):\n\tif x:\n\t\treturn 1\n\treturn 0\n")
    diff = modify(
        "ope_pipeline/tabs.py",
        "@@ -1,4 +1,6 @@",
        " def f(x):",
        "     if x:",
        "         return 1",
        "+    if x is None:",
        "+        return -1",
        "     return 0",
    )

    apply_patch(diff, repo, POLICY)

    assert (repo / "ope_pipeline/tabs.py").read_text() == (
        "def f(x):\n\tif x:\n\t\treturn 1\n\tif x is None:\n\t\treturn -1\n\treturn 0\n"
    )


def test_hunks_may_share_context_lines(repo: Path) -> None:
    diff = d(
        *HEAD,
        "@@ -8,3 +8,3 @@",
        "     ipw = InverseProbabilityWeighting()",
        "-    dm = DirectMethod()",
        "+    dm = DirectMethod(alpha)",
        "     return [ipw, dm]",
        "@@ -10,2 +10,2 @@",
        "     return [ipw, dm]",
        "-",
        "+# clipping",
    )

    apply_patch(diff, repo, POLICY)

    assert "    dm = DirectMethod(alpha)\n    return [ipw, dm]\n# clipping\n\n" in (repo / EST).read_text()


def test_hunk_matching_only_inside_an_earlier_hunk_is_refused(repo: Path) -> None:
    first = ("@@ -9,1 +9,2 @@", "     dm = DirectMethod()", "+    dr = DoublyRobust()")
    second = (
        "@@ -9,2 +9,2 @@",
        "     dr = DoublyRobust()",
        "-    return [ipw, dm]",
        "+    return [ipw, dm, dr]",
    )

    with pytest.raises(PatchError) as caught:
        plan_patch(d(*HEAD, *first, *second), repo, POLICY)

    assert caught.value.code == "context_mismatch"
    assert "earlier hunk" in str(caught.value)


def test_crlf_file_keeps_crlf_when_diff_has_plain_newlines(repo: Path) -> None:
    (repo / "ope_pipeline/win.py").write_bytes(b"a = 1\r\nb = 2\r\nc = 3\r\n")
    diff = modify(
        "ope_pipeline/win.py", "@@ -1,3 +1,4 @@", " a = 1", "-b = 2", "+b = 20", "+bb = 21", " c = 3"
    )

    apply_patch(diff, repo, POLICY)

    assert (repo / "ope_pipeline/win.py").read_bytes() == b"a = 1\r\nb = 20\r\nbb = 21\r\nc = 3\r\n"


def test_line_added_after_last_line_without_newline(repo: Path) -> None:
    (repo / "ope_pipeline/tail.py").write_text("x = 1\ny = 2")
    diff = modify(
        "ope_pipeline/tail.py",
        "@@ -1,2 +1,3 @@",
        " x = 1",
        "-y = 2",
        "\\ No newline at end of file",
        "+y = 2",
        "+z = 3",
    )

    apply_patch(diff, repo, POLICY)

    assert (repo / "ope_pipeline/tail.py").read_text() == "x = 1\ny = 2\nz = 3\n"


def test_diff_can_remove_the_final_newline(repo: Path) -> None:
    (repo / "ope_pipeline/tail.py").write_text("x = 1\ny = 2\n")
    diff = modify(
        "ope_pipeline/tail.py",
        "@@ -1,2 +1,2 @@",
        " x = 1",
        "-y = 2",
        "+y = 3",
        "\\ No newline at end of file",
    )

    apply_patch(diff, repo, POLICY)

    assert (repo / "ope_pipeline/tail.py").read_text() == "x = 1\ny = 3"


def test_append_without_markers_after_unterminated_last_line(repo: Path) -> None:
    (repo / "ope_pipeline/tail.py").write_text("x = 1\ny = 2")

    apply_patch(modify("ope_pipeline/tail.py", "@@ -2,1 +2,2 @@", " y = 2", "+z = 3"), repo, POLICY)

    assert (repo / "ope_pipeline/tail.py").read_text() == "x = 1\ny = 2\nz = 3\n"


def test_diff_sent_with_crlf_line_endings_applies(repo: Path) -> None:
    apply_patch(d(*HEAD, *CLIP).replace("\n", "\r\n"), repo, POLICY)

    assert (repo / EST).read_text() == CLIPPED


def test_same_file_in_two_sections_applies_both(repo: Path) -> None:
    first = d(*HEAD, "@@ -9,1 +9,1 @@", "-    dm = DirectMethod()", "+    dm = DirectMethod(alpha)")

    apply_patch(first + d(*HEAD, *CLIP), repo, POLICY)

    assert (repo / EST).read_text() == CLIPPED.replace("DirectMethod()", "DirectMethod(alpha)")


def test_create_written_without_dev_null_still_creates(repo: Path) -> None:
    diff = modify("ope_pipeline/new.py", "@@ -0,0 +1,2 @@", "+A = 1", "+B = 2")

    apply_patch(diff, repo, POLICY)

    assert (repo / "ope_pipeline/new.py").read_text() == "A = 1\nB = 2\n"


def test_git_delete_without_deleted_file_mode_line_deletes(repo: Path) -> None:
    path = "ope_pipeline/__init__.py"
    (repo / path).write_text("x = 1\n")
    diff = d(f"diff --git a/{path} b/{path}", f"--- a/{path}", "+++ /dev/null", "@@ -1 +0,0 @@", "-x = 1")

    apply_patch(diff, repo, POLICY)

    assert not (repo / path).exists()


def test_markdown_list_after_unfenced_diff_is_not_part_of_it(repo: Path) -> None:
    answer = "Change:\n" + d(*HEAD, *CLIP) + "\n- clips weights at zero\n- keeps lam\n"

    apply_patch(answer, repo, POLICY)

    assert (repo / EST).read_text() == CLIPPED


# --- header bookkeeping is never an error --------------------------------------------------------

TWO_HUNKS = (
    "@@ -6,5 +6,6 @@",
    " def make_estimators(alpha=1.0):",
    '     """Return the estimators to compare."""',
    "     ipw = InverseProbabilityWeighting()",
    "     dm = DirectMethod()",
    "-    return [ipw, dm]",
    "+    dr = DirectMethod()",
    "+    return [ipw, dm, dr]",
    "@@ -13,2 +14,2 @@",
    *CLIP[1:],
)
TWO_APPLIED = CLIPPED.replace("    return [ipw, dm]\n", "    dr = DirectMethod()\n    return [ipw, dm, dr]\n")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("@@ -6,5 +6,6 @@", "@@ -13,2 +14,2 @@"),  # right
        ("@@ -6,4 +6,9 @@", "@@ -13,3 +13,3 @@"),  # counts wrong, second start missing the offset
        ("@@ -6 +6 @@", "@@ -13 +13 @@"),  # counts missing
        ("@@ -6,5 @@", "@@ +14,2 @@"),  # one side missing
        ("@@ -6,5 +6,6 @@ def make_estimators", "@@"),  # bare header
        ("@@", "@@"),
    ],
)
def test_hunk_header_counts_and_starts_are_recomputed(repo: Path, first: str, second: str) -> None:
    diff = d(*HEAD, first, *TWO_HUNKS[1:8], second, *TWO_HUNKS[9:])

    applied = plan_patch(diff, repo, POLICY)

    assert applied.edits == (FileEdit(EST, None, ESTIMATORS, TWO_APPLIED),)


def test_blank_context_lines_without_their_space_are_context(repo: Path) -> None:
    diff = d(*HEAD, "@@ -9,5 +9,5 @@", "     dm = DirectMethod()", "     return [ipw, dm]", "", "", *CLIP[1:])

    applied = plan_patch(diff, repo, POLICY)

    assert applied.edits[0].after == CLIPPED


def test_blank_lines_between_files_are_not_context(repo: Path) -> None:
    second = modify("ope_pipeline/repeated.py", "@@ -1,3 +1,3 @@", " x = 1", "-y = 2", "+y = 5", " z = 3")
    diff = d(*HEAD, "@@ -13,5 +13,9 @@", *CLIP[1:], "", "") + "\n" + second

    applied = plan_patch(diff, repo, POLICY)

    assert [edit.path for edit in applied.edits] == [EST, "ope_pipeline/repeated.py"]
    assert applied.edits[0].after == CLIPPED


def test_hunk_longer_than_its_header_applies_whole(repo: Path) -> None:
    applied = plan_patch(d(*HEAD, *CLIP, "+    # one more"), repo, POLICY)

    assert applied.edits[0].after == CLIPPED + "    # one more\n"


# --- messages an LLM can act on -------------------------------------------------------------------


def test_context_mismatch_names_hunk_missing_line_and_nearby_file_lines(repo: Path) -> None:
    diff = d(
        *HEAD,
        *CLIP,
        "@@ -9,2 +9,2 @@",
        "     dm = DirectMethod()",
        "-    return [ipw, dm, dr]",
        "+    return []",
    )

    with pytest.raises(PatchError) as caught:
        plan_patch(diff, repo, POLICY)

    message = str(caught.value)
    assert caught.value.path == EST
    assert "Hunk 2/2 (@@ -9,2 +9,2 @@)" in message
    assert "'return [ipw, dm, dr]'" in message
    assert "  10 |     return [ipw, dm]" in message
    assert "it occurs nowhere in the file" in message


def test_unprefixed_line_inside_a_hunk_is_named(repo: Path) -> None:
    with pytest.raises(PatchError) as caught:
        plan_patch(d(*HEAD, "@@ -13 +13 @@", CLIP[1], "return weights", *CLIP[2:]), repo, POLICY)

    assert caught.value.code == "parse_error"
    assert "Line 5 of the diff ('return weights')" in str(caught.value)


def test_unanchored_hunk_matching_several_places_is_refused_as_ambiguous(repo: Path) -> None:
    with pytest.raises(PatchError) as caught:
        plan_patch(modify("ope_pipeline/repeated.py", "@@", " x = 1", "-y = 2", "+y = 5"), repo, POLICY)

    assert caught.value.code == "ambiguous_context"
    assert "lines 1, 14, 27" in str(caught.value)
    assert "gives no start line" in str(caught.value)


def test_unanchored_insertion_without_context_is_refused(repo: Path) -> None:
    with pytest.raises(PatchError) as caught:
        plan_patch(modify(EST, "@@", "+import numpy as np"), repo, POLICY)

    assert caught.value.code == "context_mismatch"
    assert "nothing says where to insert it" in str(caught.value)


def test_context_mismatch_of_a_miscounted_hunk_quotes_the_header_as_written(repo: Path) -> None:
    with pytest.raises(PatchError) as caught:
        plan_patch(d(*HEAD, "@@ -13,7 +13,9 @@", " def clip(w):", *CLIP[2:]), repo, POLICY)

    assert caught.value.code == "context_mismatch"
    assert "Hunk 1/1 (@@ -13,7 +13,9 @@)" in str(caught.value)
    assert "'def clip(w):' (diff line 4)" in str(caught.value)


def test_ambiguous_context_lists_the_matching_lines(repo: Path) -> None:
    diff = modify("ope_pipeline/repeated.py", "@@ -21,3 +21,3 @@", " x = 1", "-y = 2", "+y = 5", " z = 3")

    with pytest.raises(PatchError) as caught:
        plan_patch(diff, repo, POLICY)

    assert "lines 1, 14, 27" in str(caught.value)


# --- file operations ------------------------------------------------------------------------------


def test_new_file_is_created_with_its_directories(repo: Path) -> None:
    applied = apply_patch(create("ope_pipeline/models/ridge.py", "ALPHA = 0.5"), repo, POLICY)

    assert (repo / "ope_pipeline/models/ridge.py").read_text() == "ALPHA = 0.5\n"
    assert applied.edits == (FileEdit("ope_pipeline/models/ridge.py", None, None, "ALPHA = 0.5\n"),)


def test_delete_removes_the_file(repo: Path) -> None:
    lines = [f"-{line}" for line in REPEATED.splitlines()]
    diff = d("--- a/ope_pipeline/repeated.py", "+++ /dev/null", f"@@ -1,{len(lines)} +0,0 @@", *lines)

    applied = apply_patch(diff, repo, POLICY)

    assert not (repo / "ope_pipeline/repeated.py").exists()
    assert applied.summary() == f"ope_pipeline/repeated.py (+0 −{len(lines)})"


def test_rename_with_a_change_moves_the_file(repo: Path) -> None:
    diff = d(
        f"diff --git a/{EST} b/ope_pipeline/ope.py",
        "similarity index 90%",
        f"rename from {EST}",
        "rename to ope_pipeline/ope.py",
        f"--- a/{EST}",
        "+++ b/ope_pipeline/ope.py",
        *CLIP,
    )

    applied = apply_patch(diff, repo, POLICY)

    assert not (repo / EST).exists()
    assert (repo / "ope_pipeline/ope.py").read_text() == CLIPPED
    assert applied.summary() == f"{EST} → ope_pipeline/ope.py (+1 −1)"
    assert applied.paths == ["ope_pipeline/estimators.py", "ope_pipeline/ope.py"]


@pytest.mark.parametrize(
    "second",
    [
        modify("evaluate.py", "@@ -2 +2 @@", "-print('relative_ee')", "+print(0.0)"),
        modify("ope_pipeline/repeated.py", "@@ -1,1 +1,1 @@", "-no such line", "+x"),
    ],
    ids=["policy_violation", "context_mismatch"],
)
def test_failure_in_second_file_leaves_first_file_untouched(repo: Path, second: str) -> None:
    before_bytes, before_mtime = (repo / EST).read_bytes(), (repo / EST).stat().st_mtime_ns

    with pytest.raises(PatchError):
        apply_patch(d(*HEAD, *CLIP) + second, repo, POLICY)

    assert (repo / EST).read_bytes() == before_bytes
    assert (repo / EST).stat().st_mtime_ns == before_mtime


def test_write_failure_midway_restores_files_already_written(repo: Path) -> None:
    (repo / "ope_pipeline/blocker.py").write_text("not a directory\n")
    before = snapshot(repo)
    edits = (
        FileEdit(EST, None, ESTIMATORS, CLIPPED),
        FileEdit("ope_pipeline/models/ridge.py", None, None, "ALPHA = 1\n"),
        FileEdit("ope_pipeline/blocker.py/inner.py", None, None, "x = 1\n"),  # its parent is a file
    )

    with pytest.raises(OSError):
        _write_edits(repo, edits)

    assert {path: data for path, (data, _) in snapshot(repo).items()} == {
        path: data for path, (data, _) in before.items()
    }
    assert not (repo / "ope_pipeline/models").exists()


def test_existing_file_keeps_its_permissions(repo: Path) -> None:
    os.chmod(repo / EST, 0o640)

    apply_patch(d(*HEAD, *CLIP), repo, POLICY)

    assert (repo / EST).stat().st_mode & 0o777 == 0o640


# --- symlinks -------------------------------------------------------------------------------------


def test_symlinked_parent_directory_is_refused(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "target.py").write_text("a = 1\n")
    (repo / "ope_pipeline/linked").symlink_to(outside, target_is_directory=True)

    with pytest.raises(PatchError) as caught:
        apply_patch(modify("ope_pipeline/linked/target.py", "@@ -1 +1 @@", "-a = 1", "+a = 2"), repo, POLICY)

    assert caught.value.code == "symlink"
    assert (outside / "target.py").read_text() == "a = 1\n"


def test_new_file_under_symlinked_directory_is_refused(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (repo / "ope_pipeline/linked").symlink_to(tmp_path / "outside", target_is_directory=True)

    with pytest.raises(PatchError) as caught:
        apply_patch(create("ope_pipeline/linked/new.py", "a = 1"), repo, POLICY)

    assert caught.value.code == "symlink"
    assert not (tmp_path / "outside/new.py").exists()


def test_symlinked_file_pointing_at_protected_file_is_refused(repo: Path) -> None:
    (repo / "ope_pipeline/alias.py").symlink_to(repo / "evaluate.py")

    with pytest.raises(PatchError) as caught:
        apply_patch(
            modify("ope_pipeline/alias.py", "@@ -1 +1 @@", "-import ope_pipeline", "+x = 1"), repo, POLICY
        )

    assert caught.value.code == "symlink"
    assert (repo / "evaluate.py").read_text() == FILES["evaluate.py"]


# --- normalised diffs -----------------------------------------------------------------------------


def test_normalised_diff_reapplies_to_the_original_tree(repo: Path) -> None:
    drifting = d(*HEAD, "@@ -40,2 +40,2 @@", "   def clip(weights, lam=100.0):", *CLIP[2:])
    applied = plan_patch(drifting, repo, POLICY)

    again = plan_patch(applied.diff, repo, POLICY)

    assert again.edits == applied.edits
    assert again.diff == applied.diff


def test_make_diff_of_nothing_changed_is_empty() -> None:
    assert make_diff({"a.py": "x\n", "b.py": None}, {"a.py": "x\n"}) == ""


def test_make_diff_marks_missing_final_newline() -> None:
    diff = make_diff({"a.py": "x\ny"}, {"a.py": "x\nz"})

    assert diff.endswith("-y\n\\ No newline at end of file\n+z\n\\ No newline at end of file\n")


def test_make_diff_can_create_an_empty_file(tmp_path: Path) -> None:
    diff = make_diff({}, {"ope_pipeline/empty.py": ""})

    applied = apply_patch(diff, tmp_path, POLICY)

    assert (tmp_path / "ope_pipeline/empty.py").read_text() == ""
    assert applied.diff == diff


# --- git interoperability -------------------------------------------------------------------------


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout


def test_git_diff_with_rename_create_delete_and_crlf_applies(make_repo) -> None:  # type: ignore[no-untyped-def]
    root = make_repo({**FILES, "ope_pipeline/win.py": "a = 1\r\nb = 2\r\n"})
    git(root, "mv", EST, "ope_pipeline/ope.py")
    (root / "ope_pipeline/ope.py").write_text(CLIPPED)
    (root / "ope_pipeline/win.py").write_bytes(b"a = 1\r\nb = 3\r\n")
    (root / "ope_pipeline/repeated.py").unlink()
    (root / "ope_pipeline/new.py").write_text("NEW = True")
    git(root, "add", "-A")
    diff = git(root, "diff", "--cached", "-M", "HEAD")
    expected = snapshot(root)
    git(root, "reset", "-q", "--hard")
    git(root, "clean", "-qfd")

    apply_patch(diff, root, POLICY)

    assert {p: b for p, (b, _) in snapshot(root).items() if not p.startswith(".git/")} == {
        p: b for p, (b, _) in expected.items() if not p.startswith(".git/")
    }


def test_normalised_diff_is_accepted_by_git_apply(make_repo) -> None:  # type: ignore[no-untyped-def]
    root = make_repo({**FILES, "ope_pipeline/win.py": "a = 1\r\nb = 2"})
    diff = (
        d(*HEAD, *CLIP)
        + modify("ope_pipeline/win.py", "@@ -2 +2 @@", "-b = 2", "+b = 3")
        + create("ope_pipeline/new.py", "N = 1")
    )
    applied = plan_patch(diff, root, POLICY)

    subprocess.run(["git", "apply", "-"], cwd=root, input=applied.diff, text=True, check=True)

    assert (root / EST).read_text() == CLIPPED
    assert (root / "ope_pipeline/win.py").read_bytes() == b"a = 1\r\nb = 3\r\n"  # no marker: newline added
    assert (root / "ope_pipeline/new.py").read_text() == "N = 1\n"


# --- path policy ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("ope_pipeline/**/*.py", "ope_pipeline/x.py", True),
        ("ope_pipeline/**/*.py", "ope_pipeline/a/b/x.py", True),
        ("ope_pipeline/**/*.py", "ope_pipeline/x.pyc", False),
        ("ope_pipeline/**/*.py", "other/ope_pipeline/x.py", False),
        ("**/*.py", "x.py", True),
        ("**/*.py", "a/b/x.py", True),
        ("*.py", "a/x.py", False),
        ("a/*/c.py", "a/b/c.py", True),
        ("a/*/c.py", "a/b/d/c.py", False),
        ("a/?.py", "a/b.py", True),
        ("a/?.py", "a//.py", False),
        (".github/**", ".github/workflows/ci.yml", True),
        (".github/**", ".github", False),
        ("data/", "data/x/y.csv", True),
        ("est[0-9].py", "est7.py", True),
        ("est[!0-9].py", "estx.py", True),
        ("est[!0-9].py", "est7.py", False),
        ("Evaluate.py", "evaluate.py", False),
        ("**", "anything/at/all", True),
    ],
)
def test_glob_match(pattern: str, path: str, expected: bool) -> None:
    assert glob_match(pattern, path) is expected


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/abs/x.py", "absolute_path"),
        ("C:/x.py", "absolute_path"),
        ("ope_pipeline/../../x.py", "parent_traversal"),
        ("ope_pipeline\\..\\evaluate.py", "parent_traversal"),
        ("ope_pipeline//./../evaluate.py", "parent_traversal"),
        (".git/config", "protected_path"),
        (".growthhacker.yml", "protected_path"),
        ("ope_pipeline/x.txt", "outside_editable"),
        ("", "outside_editable"),
    ],
)
def test_policy_check_codes(path: str, code: str) -> None:
    with pytest.raises(PatchError) as caught:
        POLICY.check(path)

    assert caught.value.code == code
    assert not POLICY.allows(path)


def test_protected_wins_over_editable() -> None:
    policy = PathPolicy(editable=("ope_pipeline/**",), protected=("ope_pipeline/ground_truth.py",))

    assert policy.allows("ope_pipeline/model.py")
    assert not policy.allows("ope_pipeline/ground_truth.py")


def test_applied_patch_is_a_plain_value() -> None:
    applied = AppliedPatch(edits=(FileEdit("a.py", None, "x\n", "y\n"),), diff="")

    assert applied.summary() == "a.py (+1 −1)"


def test_diff_summary_counts_lines_per_file_and_never_raises() -> None:
    from bot.patch import diff_summary

    diff = make_diff({"a/x.py": "1\n", "b.py": "q\n"}, {"a/x.py": "2\n3\n", "b.py": None})

    assert diff_summary(diff) == "a/x.py (+2 −1), b.py (+0 −1)"
    assert diff_summary("not a diff") == ""
