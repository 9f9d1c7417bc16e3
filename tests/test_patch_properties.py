"""Properties of the patch engine: round trip, shifted context, path policy, normalisation fixed point,
header bookkeeping (counts, starts, blank-context spaces) that never changes what a diff does."""

from __future__ import annotations

import itertools
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.errors import PatchError
from bot.patch import FileEdit, PathPolicy, apply_patch, make_diff, plan_patch

POLICY = PathPolicy(editable=("pkg/**/*.py",), protected=("pkg/secret/**", "pkg/evaluate.py", ".git/**"))
PATH = "pkg/mod.py"
# Characters that look like diff syntax (+ - @ \ ` and whitespace) make the round trip earn its keep.
ALPHABET = "ab #+-@\\`\t"
SETTINGS = settings(max_examples=60, deadline=None)

line_texts = st.text(alphabet=ALPHABET, max_size=6)
endings = st.sampled_from(["\n", "\n", "\n", "\r\n"])


@contextmanager
def tree(files: Mapping[str, str]) -> Iterator[Path]:
    """A temporary directory holding ``files``."""
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(text.encode("utf-8"))
        yield root


def contents(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@st.composite
def files(draw: st.DrawFn, texts: st.SearchStrategy[list[str]]) -> str:
    """File content from line texts, with random line endings and maybe no final newline."""
    lines = draw(texts)
    content = "".join(text + draw(endings) for text in lines)
    if content and draw(st.booleans()):
        content = content.removesuffix("\n").removesuffix("\r")
    return content


@st.composite
def edits_of(draw: st.DrawFn, before: str, new_lines: st.SearchStrategy[str]) -> str:
    """``before`` after a few block inserts, deletes and replaces (and maybe a final-newline change)."""
    lines = before.splitlines(keepends=True)  # the alphabet has no other line separators
    for _ in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, len(lines)))
        size = draw(st.integers(0, 3))
        block = [text + draw(endings) for text in draw(st.lists(new_lines, max_size=3))]
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        if kind == "insert":
            lines[start:start] = block
        elif kind == "delete":
            del lines[start : start + size]
        else:
            lines[start : start + size] = block
    after = "".join(lines)
    if after and draw(st.booleans()):
        after = after.rstrip("\r\n") if draw(st.booleans()) else after + "\n"
    return after


def fresh_lines() -> st.SearchStrategy[str]:
    """Lines that cannot equal (even stripped) any line drawn from ALPHABET."""
    return st.integers(0, 10**6).map(lambda n: f"new {n}")


def unique_files(min_lines: int = 1) -> st.SearchStrategy[str]:
    """Files whose lines are all different, even compared stripped, and not blank."""
    texts = st.lists(
        st.text(alphabet=ALPHABET, min_size=1, max_size=6).filter(str.strip),
        min_size=min_lines,
        max_size=20,
        unique_by=str.strip,
    )
    return files(texts)


def prefix_lines(k: int) -> str:
    return "".join(f"unrelated {i}\n" for i in range(k))


@SETTINGS
@given(data=st.data())
def test_make_diff_then_plan_patch_yields_exactly_after(data: st.DataObject) -> None:
    before = data.draw(files(st.lists(line_texts, max_size=25)), label="before")
    after = data.draw(edits_of(before, line_texts), label="after")
    assume(before != after)
    diff = make_diff({PATH: before}, {PATH: after})

    with tree({PATH: before}) as root:
        applied = plan_patch(diff, root, POLICY)

    assert applied.edits == (FileEdit(PATH, None, before, after),)


@SETTINGS
@given(data=st.data(), kind=st.sampled_from(["create", "delete"]))
def test_created_and_deleted_files_round_trip(data: st.DataObject, kind: str) -> None:
    content = data.draw(files(st.lists(line_texts, max_size=10)), label="content")
    before, after = ({}, {PATH: content}) if kind == "create" else ({PATH: content}, {})

    with tree(before) as root:
        apply_patch(make_diff(before, after), root, POLICY)
        result = contents(root)

    assert result == {path: text.encode("utf-8") for path, text in after.items()}


@SETTINGS
@given(data=st.data(), k=st.integers(1, 30))
def test_diff_still_applies_after_unrelated_lines_are_prepended(data: st.DataObject, k: int) -> None:
    before = data.draw(unique_files(), label="before")
    after = data.draw(edits_of(before, fresh_lines()), label="after")
    assume(before != after)
    diff = make_diff({PATH: before}, {PATH: after})

    with tree({PATH: prefix_lines(k) + before}) as root:
        applied = plan_patch(diff, root, POLICY)

    assert applied.edits[0].after == prefix_lines(k) + after


def drift(diff: str) -> str:
    """Indent every hunk line of a one-file diff by two more spaces (typical LLM whitespace drift)."""
    lines = diff.splitlines(keepends=True)
    first_hunk = next(i for i, line in enumerate(lines) if line.startswith("@@"))
    body = [
        line if line.startswith(("@@", "\\")) else line[0] + "  " + line[1:] for line in lines[first_hunk:]
    ]
    return "".join(lines[:first_hunk] + body)


@SETTINGS
@given(data=st.data(), k=st.integers(0, 10), drifted=st.booleans())
def test_normalised_diff_is_a_fixed_point(data: st.DataObject, k: int, drifted: bool) -> None:
    before = data.draw(unique_files(), label="before")
    after = data.draw(edits_of(before, fresh_lines()), label="after")
    assume(before != after)
    diff = make_diff({PATH: before}, {PATH: after})
    original = prefix_lines(k) + before

    with tree({PATH: original}) as root:
        applied = plan_patch(drift(diff) if drifted else diff, root, POLICY)
        again = plan_patch(applied.diff, root, POLICY)

    assert applied.edits[0].after == prefix_lines(k) + after
    assert make_diff({PATH: original}, {PATH: applied.edits[0].after}) == applied.diff
    assert again.diff == applied.diff


segments = st.text(alphabet="abcxyz_09", min_size=1, max_size=5)


@st.composite
def bad_paths(draw: st.DrawFn) -> tuple[str, str]:
    """A path the policy must refuse, and the code it must be refused with."""
    dirs = draw(st.lists(segments, max_size=2))
    name = draw(segments)
    code = draw(st.sampled_from(["absolute_path", "parent_traversal", "protected_path", "outside_editable"]))
    if code == "absolute_path":
        return "/tmp/never-written/" + "/".join(["pkg", *dirs, name + ".py"]), code
    if code == "parent_traversal":
        parts = ["pkg", *dirs, name + ".py"]
        parts.insert(draw(st.integers(0, len(parts) - 1)), "..")
        return "/".join(parts), code
    if code == "protected_path":
        choices = [f"pkg/secret/{name}.py", "pkg/evaluate.py", f"pkg/./secret/{name}.py", f".git/{name}"]
        return draw(st.sampled_from(choices)), code
    choices = [f"docs/{name}.py", f"pkg/{name}.txt", f"{name}.py", f"pkgx/{name}.py", f"PKG/{name}.py"]
    return draw(st.sampled_from(choices)), code


def entry(source: str | None, target: str | None, removed: list[str], added: list[str], prefix: bool) -> str:
    a = "/dev/null" if source is None else ("a/" + source if prefix else source)
    b = "/dev/null" if target is None else ("b/" + target if prefix else target)
    hunk = f"@@ -{1 if removed else 0},{len(removed)} +{1 if added else 0},{len(added)} @@\n"
    return (
        f"--- {a}\n+++ {b}\n{hunk}" + "".join(f"-{x}\n" for x in removed) + "".join(f"+{x}\n" for x in added)
    )


@SETTINGS
@given(
    bad=bad_paths(),
    operation=st.sampled_from(["modify", "create", "delete", "rename_to", "rename_from"]),
    second=st.booleans(),
    prefix=st.booleans(),
)
def test_refused_paths_raise_their_code_and_leave_the_tree_identical(
    bad: tuple[str, str], operation: str, second: bool, prefix: bool
) -> None:
    path, code = bad
    entries = {
        "modify": entry(path, path, ["old"], ["new"], prefix),
        "create": entry(None, path, [], ["new"], prefix),
        "delete": entry(path, None, ["old"], [], prefix),
        "rename_to": entry(PATH, path, ["old"], ["new"], prefix),
        "rename_from": entry(path, PATH, ["old"], ["new"], prefix),
    }
    valid = entry("pkg/other.py", "pkg/other.py", ["old"], ["new"], prefix)
    diff = valid + entries[operation] if second else entries[operation] + valid
    files = {PATH: "old\n", "pkg/other.py": "old\n", "pkg/evaluate.py": "old\n", "pkg/secret/k.py": "old\n"}

    with tree(files) as root:
        before = contents(root)
        try:
            apply_patch(diff, root, POLICY)
        except PatchError as exc:
            refused: PatchError | None = exc
        else:
            refused = None
        after = contents(root)

    assert refused is not None and refused.code == code
    assert after == before


# --- header bookkeeping: counts, starts and blank-context spaces carry no meaning -----------------

HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
OTHER = "pkg/other.py"
# Python-like lines, blank lines among them (repeated), so blank context lines occur.
code_lines = st.one_of(st.just(""), st.text(alphabet="abxy =()#:+-", min_size=1, max_size=8))


@st.composite
def mangled_header(draw: st.DrawFn, header: str, starts: bool) -> str:
    """``header`` with wrong or missing counts, and (if ``starts``) a shifted or missing start."""
    match = HUNK_HEADER.match(header)
    assert match is not None
    old, new = int(match.group(1)), int(match.group(3))
    if starts:
        shift = draw(st.integers(-15, 15))
        old, new = max(old + shift, 0), max(new + shift, 0)
    count = st.integers(0, 40)
    forms = ["both", "no_counts", "old_only"] + (["new_only", "bare"] if starts else [])
    form = draw(st.sampled_from(forms))
    if form == "both":
        return f"@@ -{old},{draw(count)} +{new},{draw(count)} @@"
    if form == "no_counts":
        return f"@@ -{old} +{new} @@"
    if form == "old_only":
        return f"@@ -{old},{draw(count)} @@"
    if form == "new_only":
        return f"@@ +{new},{draw(count)} @@"
    return "@@"


@st.composite
def mangled(draw: st.DrawFn, diff: str, starts: bool) -> str:
    """``diff`` with every hunk header mangled and the space of blank context lines dropped."""
    out = []
    for line in diff.splitlines(keepends=True):
        if line.startswith("@@"):
            line = draw(mangled_header(line, starts)) + "\n"
        elif line in (" \n", " \r\n"):
            line = line[1:]
        out.append(line)
    return "".join(out)


def hunk_bodies(diff: str) -> Iterator[list[str]]:
    """The body lines of each hunk of a clean (correctly counted) diff."""
    body: list[str] | None = None
    for line in diff.splitlines(keepends=True):
        if line.startswith("@@"):
            if body is not None:
                yield body
            body = []
        elif line.startswith(("diff --git ", "--- ", "+++ ")) and body is not None:
            yield body
            body = None
        elif body is not None:
            body.append(line)
    if body is not None:
        yield body


def resolvable_without_counts(diff: str) -> bool:
    """Whether the diff avoids the two readings :mod:`bot.patch.headers` must guess without counts.

    A removed "-- x" right above an added "++ y" reads as file headers; a hunk whose only context or
    removed lines are blank lines after its last change reads as a bare insertion.
    """
    for body in hunk_bodies(diff):
        if any(a.startswith("--- ") and b.startswith("+++ ") for a, b in itertools.pairwise(body)):
            return False
        blank = [line in (" \n", " \r\n") for line in body]
        last_change = max((i for i, line in enumerate(body) if line[0] in "+-"), default=-1)
        anchors = [i for i, line in enumerate(body) if line[0] in " -" and not (blank[i] and i > last_change)]
        trailing_blanks = any(blank[i] for i in range(last_change + 1, len(body)))
        if trailing_blanks and not anchors:
            return False
        for i in range(1, len(body)):  # after a blank line, "- x" reads as a Markdown bullet
            if blank[i - 1] and BULLET.match(body[i]):
                return False
    return True


BULLET = re.compile(r"^[-+*] \S")


@SETTINGS
@given(data=st.data())
def test_diff_with_wrong_counts_and_bare_blank_lines_applies_like_the_clean_diff(data: st.DataObject) -> None:
    before = {
        PATH: data.draw(files(st.lists(code_lines, max_size=25)), label="before"),
        OTHER: data.draw(files(st.lists(code_lines, max_size=10)), label="other"),
    }
    after = {path: data.draw(edits_of(text, code_lines), label=path) for path, text in before.items()}
    assume(before != after)
    clean = make_diff(before, after)
    assume(resolvable_without_counts(clean))
    diff = data.draw(mangled(clean, starts=False), label="mangled")

    with tree(before) as root:
        expected = plan_patch(clean, root, POLICY)
        applied = plan_patch(diff, root, POLICY)

    assert applied.edits == expected.edits
    assert applied.diff == clean


@SETTINGS
@given(data=st.data())
def test_diff_with_wrong_starts_applies_like_the_clean_diff_when_its_context_is_unique(
    data: st.DataObject,
) -> None:
    before = data.draw(unique_files(), label="before")
    after = data.draw(edits_of(before, fresh_lines()), label="after")
    assume(before != after)
    clean = make_diff({PATH: before}, {PATH: after})
    assume(resolvable_without_counts(clean))
    diff = data.draw(mangled(clean, starts=True), label="mangled")

    with tree({PATH: before}) as root:
        applied = plan_patch(diff, root, POLICY)

    assert applied.edits == (FileEdit(PATH, None, before, after),)


@SETTINGS
@given(data=st.data(), starts=st.booleans())
def test_mangled_diff_whose_context_does_not_match_is_refused_with_the_line(
    data: st.DataObject, starts: bool
) -> None:
    before = data.draw(unique_files(min_lines=2), label="before")
    after = data.draw(edits_of(before, fresh_lines()), label="after")
    assume(before != after)
    clean = make_diff({PATH: before}, {PATH: after})
    lines = clean.splitlines(keepends=True)
    anchors = [i for i, line in enumerate(lines) if line[:1] in (" ", "-") and not line.startswith("--- ")]
    assume(anchors)
    wrong = data.draw(st.sampled_from(anchors), label="wrong line")
    lines[wrong] = lines[wrong][0] + "nowhere in the file\n"
    diff = data.draw(mangled("".join(lines), starts=starts), label="mangled")

    with tree({PATH: before}) as root, pytest.raises(PatchError) as caught:
        plan_patch(diff, root, POLICY)

    assert caught.value.code == "context_mismatch"
    assert "'nowhere in the file'" in str(caught.value)
