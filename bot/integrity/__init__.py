"""The metric-gaming check: does a candidate's ADDED code reach around the evaluation harness?

Candidate code runs in the same process as the repository's evaluation harness, so a diff could win
by reading the ground truth (a protected file, a cached ``ground_truth.npy``), importing the harness,
inspecting its caller's frames, rewriting the metrics file, or escaping to the environment, a
subprocess or the network. :func:`check_diff` reads the added lines of a candidate diff and parses
the changed files (the whole post-patch text when the caller has it, else each hunk's post-image) to
find such code (the rules: :mod:`bot.integrity.rules`). Only code on added lines is judged: what
the base commit already does is trusted. :func:`checkout_fingerprint` is the run-time counterpart:
compared before and after an evaluation, it shows whether candidate code wrote into the user's
checkout.

The check is static and conservative — it catches the straightforward ways, and names them so an
agent can fix its candidate; obfuscated code (``getattr(__builtins__, "op" + "en")``) is flagged as
dynamic code, not decoded. Held-out seeds, restoring protected files before every evaluation and the
scrubbed environment are the other layers (see SECURITY.md).
"""

from __future__ import annotations

from bot.integrity.check import check_diff, checkout_fingerprint
from bot.integrity.rules import Finding, FindingCode

__all__ = ["Finding", "FindingCode", "check_diff", "checkout_fingerprint"]
