"""Human text from outside (PR comments, slash-command hints, review text), made safe to store and show.

:func:`strip_controls` is the one sanitiser: it removes what can hide or reorder text without being
seen (C0 and C1 control characters, DEL, zero-width characters, bidi embeddings, overrides and
isolates, the byte-order mark, Unicode line and paragraph separators) and keeps newlines and tabs,
which are visible layout; callers that want one line collapse whitespace themselves.
"""

from __future__ import annotations

import re

#: C0 controls but tab and newline, DEL and the C1 controls; zero-width space, non-joiner, joiner and
#: the left-to-right/right-to-left marks; line and paragraph separators; bidi embeddings and
#: overrides; the word joiner and invisible operators; bidi isolates; the Arabic letter mark; the BOM.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\u061c\ufeff]"
)


def strip_controls(text: str) -> str:
    """``text`` without control, zero-width and bidi-formatting characters; CRLF becomes a newline.

    Newlines and tabs stay. Raises nothing.
    """
    return _INVISIBLE.sub("", text.replace("\r\n", "\n"))
