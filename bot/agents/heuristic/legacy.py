"""The fallback reader: what an attempt without heuristic details tried, read from its hypothesis.

Journals written before iteration records kept the move's details and failure kind (and attempts of
other agents) hold only prose. These patterns match the wording the heuristic's hypotheses have had
since (``In <file>, replace `X(…)` with `Y(…)` (Class): …``, ``set `k=v` on `X(…)` (was v0)``,
``set `NAME = v` (passed as `k` to `X(…)`) (was v0)``), so such journals keep steering the search.
Nothing else in the heuristic parses text; ``tests/test_heuristic_memory.py`` pins these readings.
"""

from __future__ import annotations

import re

from bot.ope.knobs import Setting

#: The class a hypothesis swaps to ("… with `Name(…`") and the class whose knob it sets ("on `Name(…`");
#: the name in parentheses when the code uses an alias.
_TARGET = re.compile(r"with `(?:\w+\.)*(\w+)\([^`]*`(?: \((\w+)\))?")
_KNOBBED = re.compile(r"on (?:the \w+ )?`(?:\w+\.)*(\w+)\(…\)`(?: \((\w+)\))?")
#: The settings a knob hypothesis names: (keyword, call, old value), for a keyword or a constant.
_SET_KEYWORD = re.compile(r"set `(\w+)=[^`]+` on (.+?) \(was (?:default )?([^)]+)\)")
_SET_CONSTANT = re.compile(r"set `\w+ = [^`]+` \(passed as `(\w+)` to (.+?)\) \(was ([^)]+)\)")


def read_hypothesis(hypothesis: str) -> tuple[frozenset[str], frozenset[str], tuple[Setting, ...]]:
    """(classes swapped to, classes whose knob is set, keywords set) as ``hypothesis`` names them."""
    swapped = frozenset(named or written for written, named in _TARGET.findall(hypothesis))
    tuned = frozenset(named or written for written, named in _KNOBBED.findall(hypothesis))
    settings = tuple(
        Setting(keyword, call, was)
        for pattern in (_SET_KEYWORD, _SET_CONSTANT)
        for keyword, call, was in pattern.findall(hypothesis)
    )
    return swapped, tuned, settings


def reason_says_guardrail(failure_reason: str | None) -> bool:
    """True if a failure reason (of a record without a failure kind) says a guardrail broke."""
    return "guardrail" in (failure_reason or "")


def norm_hypothesis(text: str) -> str:
    """``text`` with whitespace collapsed and case folded: how two hypotheses are compared."""
    return " ".join(text.split()).casefold()
