"""The one sanitiser of human text: what it removes (invisible or reordering characters) and keeps."""

from __future__ import annotations

import pytest

from bot.github.commands import parse_command
from bot.github.outcomes import clean_text
from bot.text import strip_controls

REMOVED = {
    "C0 control (escape)": "\x1b",
    "C0 control (NUL)": "\x00",
    "bell": "\x07",
    "lone carriage return": "\r",
    "vertical tab": "\x0b",
    "DEL": "\x7f",
    "C1 control (CSI)": "\x9b",
    "next line (C1)": "\x85",
    "zero-width space": "\u200b",
    "zero-width non-joiner": "\u200c",
    "zero-width joiner": "\u200d",
    "left-to-right mark": "\u200e",
    "right-to-left mark": "\u200f",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "left-to-right embedding": "\u202a",
    "right-to-left override": "\u202e",
    "pop directional formatting": "\u202c",
    "word joiner": "\u2060",
    "left-to-right isolate": "\u2066",
    "pop directional isolate": "\u2069",
    "Arabic letter mark": "\u061c",
    "byte-order mark": "\ufeff",
}


@pytest.mark.parametrize("char", REMOVED.values(), ids=REMOVED.keys())
def test_invisible_and_reordering_characters_are_removed(char: str) -> None:
    assert strip_controls(f"a{char}b") == "ab"


def test_newlines_tabs_and_visible_unicode_stay() -> None:
    text = "line one\n\tindented: café, 日本語, emoji 🚀, «quotes» — dash"

    assert strip_controls(text) == text


def test_crlf_becomes_a_newline() -> None:
    assert strip_controls("one\r\ntwo\r\n") == "one\ntwo\n"


def test_review_comments_keep_their_lines_and_hints_lose_them() -> None:
    body = "first\u200b line\r\nsecond\u202e line"

    assert clean_text(body) == "first line\nsecond line"
    command = parse_command(f"/growthhacker iterate {body}")
    assert command is not None and command.hint == "first line"


def test_a_command_hint_loses_zero_width_characters_like_a_comment_does() -> None:
    command = parse_command("/growthhacker iterate try\u200d SN\u200bIPW")

    assert command is not None and command.hint == "try SNIPW"
    assert clean_text("try\u200d SN\u200bIPW") == "try SNIPW"
