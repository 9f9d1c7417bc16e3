"""Applying a diff with the real patch engine to a real tree, for tests that check what a diff does."""

from __future__ import annotations

from pathlib import Path

from bot.patch import PathPolicy, plan_patch


def apply(diff: str, files: dict[str, str], tmp_path: Path, editable: tuple[str, ...] = ("**/*.py",)
          ) -> dict[str, str]:
    """The files after the diff, applied by the real patch engine to a real tree where ``editable``
    paths may change."""
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    planned = plan_patch(diff, tmp_path, PathPolicy(editable=editable, protected=()))
    after = dict(files)
    for edit in planned.edits:
        assert edit.after is not None
        after[edit.path] = edit.after
    return after
