"""Recognising secrets: which environment names hold them, and scrubbing their values from text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_SECRET_NAME = re.compile(r"(TOKEN|KEY|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|AUTH)", re.IGNORECASE)
#: Values shorter than this are not scrubbed: they would mangle ordinary text ("1", "true").
_MIN_SECRET_LEN = 6


def is_secret_name(name: str) -> bool:
    """True if an environment variable of this name may hold a secret (``*_TOKEN``, ``*KEY*``…)."""
    return bool(_SECRET_NAME.search(name))


def secret_values(environ: Mapping[str, str]) -> list[str]:
    """The values of every secret-looking variable in ``environ``, longest first."""
    values = {v for k, v in environ.items() if is_secret_name(k) and len(v) >= _MIN_SECRET_LEN}
    return sorted(values, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Return ``text`` with every occurrence of each secret replaced by ``***``."""
    for value in secrets:
        if len(value) >= _MIN_SECRET_LEN:
            text = text.replace(value, "***")
    return text
