"""The patch engine: the security boundary between an agent's diff and the target repository.

Modules (import from this package, not from them):

- :mod:`bot.patch.parse`: find a diff in an agent's answer and parse it (``unidiff``) into files,
  hunks and lines.
- :mod:`bot.patch.headers`: hunk headers recounted from their bodies before parsing, so wrong or
  missing ``@@`` counts and starts, and blank context lines without their space, are no errors.
- :mod:`bot.patch.paths`: the path policy (editable / protected globs) and path normalisation.
- :mod:`bot.patch.hunks`: apply one file's hunks tolerantly (shifted lines, whitespace drift, CRLF).
- :mod:`bot.patch.apply`: the whole diff checked against the policy, applied all-or-nothing, and
  the normalised diff of what was really applied.
"""

from __future__ import annotations

from bot.patch.apply import AppliedPatch, FileEdit, apply_patch, make_diff, plan_patch
from bot.patch.parse import diff_summary, extract_diff
from bot.patch.paths import PathPolicy, glob_match

__all__ = [
    "AppliedPatch",
    "FileEdit",
    "PathPolicy",
    "apply_patch",
    "diff_summary",
    "extract_diff",
    "glob_match",
    "make_diff",
    "plan_patch",
]
