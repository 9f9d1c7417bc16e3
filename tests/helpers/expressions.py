"""GitHub Actions expressions (``${{ … }}``), evaluated as the runner does, for the fake world.

Covers what workflows and composite actions use: literals, context access (``github.event.x``,
``needs.job.outputs.name``, ``inputs['x']``; keys case-insensitive, missing keys are ``null``),
``!``, ``==``/``!=`` (strings compared case-insensitively), ``<``/``>``/``<=``/``>=``, ``&&``/``||``
(returning an operand, so ``inputs.n || '2'`` works), parentheses, and the functions
``startsWith``, ``endsWith``, ``contains``, ``format``, ``join``, ``toJSON``, ``fromJSON`` and the
status checks ``success()``, ``failure()``, ``cancelled()``, ``always()``.
Reference: https://docs.github.com/actions/reference/workflows-and-actions/expressions
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\].,*])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)
STATUS_FUNCTIONS = ("success", "failure", "cancelled", "always")
_TEMPLATE = re.compile(r"\$\{\{((?:(?!\}\}).)*)\}\}", re.DOTALL)  # one expression, never across a "}}"


class ExpressionError(ValueError):
    """An expression the runner would refuse."""


@dataclass
class Status:
    """What the status functions answer for the job or step being evaluated."""

    success: bool = True
    failure: bool = False
    cancelled: bool = False


def _tokens(text: str) -> list[tuple[str, str]]:
    found, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ExpressionError(f"cannot read {text[pos:]!r} in {text!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        pos = match.end()
    return found


def _truthy(value: Any) -> bool:
    return not (value is None or value is False or value == "" or (isinstance(value, float | int)
                                                                   and (value == 0 or math.isnan(value))))


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip() or 0)
        except ValueError:
            return math.nan
    return math.nan


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    if type(a) is type(b) or (a is None and b is None):
        return bool(a == b)
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return a is b
    return _number(a) == _number(b)


def to_string(value: Any) -> str:
    """How the runner writes a value into a string (``with:``, ``env:``, templates)."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2)
    return str(value)


class _Parser:
    def __init__(self, text: str, contexts: Mapping[str, Any], status: Status) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0
        self.contexts = {k.lower(): v for k, v in contexts.items()}
        self.status = status

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise ExpressionError(f"unexpected end of {self.text!r}")
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise ExpressionError(f"expected {expected!r}, got {token[1]!r} in {self.text!r}")
        self.pos += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if self.pos != len(self.tokens):
            raise ExpressionError(f"unexpected {self.peek()!r} in {self.text!r}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == "||":
            self.take()
            right = self.and_()
            value = value if _truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.compare()
        while self.peek() == "&&":
            self.take()
            right = self.compare()
            value = right if _truthy(value) else value
        return value

    def compare(self) -> Any:
        value = self.unary()
        while self.peek() in ("==", "!=", "<", ">", "<=", ">="):
            op = self.take()[1]
            right = self.unary()
            if op in ("==", "!="):
                value = _equal(value, right) == (op == "==")
            else:
                a, b = _number(value), _number(right)
                value = {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
        return value

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not _truthy(self.unary())
        return self.access(self.primary())

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "num":
            return float(text)
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if text == "(":
            value = self.or_()
            self.take(")")
            return value
        if kind != "name":
            raise ExpressionError(f"unexpected {text!r} in {self.text!r}")
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered == "null":
            return None
        if self.peek() == "(":
            return self.call(lowered)
        if lowered not in self.contexts:
            raise ExpressionError(f"unknown context {text!r} in {self.text!r}")
        return self.contexts[lowered]

    def access(self, value: Any) -> Any:
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                key = self.take()[1]
                if key == "*":
                    value = list(value.values()) if isinstance(value, dict) else value
                    continue
                value = _get(value, key)
            else:
                key = self.or_()
                self.take("]")
                value = value[int(_number(key))] if isinstance(value, list) else _get(value, to_string(key))
        return value

    def call(self, name: str) -> Any:
        self.take("(")
        args: list[Any] = []
        while self.peek() != ")":
            args.append(self.or_())
            if self.peek() == ",":
                self.take()
        self.take(")")
        return _FUNCTIONS[name](self.status, *args) if name in _FUNCTIONS else self._unknown(name)

    def _unknown(self, name: str) -> Any:
        raise ExpressionError(f"unknown function {name}() in {self.text!r}")


def _get(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        if key in value:
            return value[key]
        folded = key.casefold()
        return next((v for k, v in value.items() if str(k).casefold() == folded), None)
    return None


def _format(_: Status, template: Any, *args: Any) -> str:
    return re.sub(r"\{(\d+)\}", lambda m: to_string(args[int(m[1])]), to_string(template))


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "startswith": lambda _, a, b: to_string(a).casefold().startswith(to_string(b).casefold()),
    "endswith": lambda _, a, b: to_string(a).casefold().endswith(to_string(b).casefold()),
    "contains": lambda _, a, b: any(_equal(x, b) for x in a) if isinstance(a, list)
    else to_string(b).casefold() in to_string(a).casefold(),
    "format": _format,
    "join": lambda _, a, sep=",": to_string(sep).join(to_string(x) for x in a) if isinstance(a, list)
    else to_string(a),
    "tojson": lambda _, a: json.dumps(a, indent=2),
    "fromjson": lambda _, a: json.loads(to_string(a)),
    "success": lambda status: status.success,
    "failure": lambda status: status.failure,
    "cancelled": lambda status: status.cancelled,
    "always": lambda status: True,
}


def evaluate(expression: str, contexts: Mapping[str, Any], status: Status | None = None) -> Any:
    """The value of ``expression`` (without ``${{ }}``) in ``contexts``.

    Raises:
        ExpressionError: the expression is malformed, or names an unknown context or function.
    """
    return _Parser(expression, contexts, status or Status()).parse()


def render(text: Any, contexts: Mapping[str, Any], status: Status | None = None) -> Any:
    """A ``with:``/``env:`` value with every ``${{ }}`` replaced; a value that is exactly one
    expression keeps the expression's type (the caller turns it into a string when it needs one)."""
    if not isinstance(text, str):
        return text
    whole = _TEMPLATE.fullmatch(text.strip())
    if whole:
        return evaluate(whole[1], contexts, status)
    return _TEMPLATE.sub(lambda m: to_string(evaluate(m[1], contexts, status)), text)


def condition(text: Any, contexts: Mapping[str, Any], status: Status) -> bool:
    """An ``if:`` value: ``${{ }}`` optional; without a status function it also needs ``success()``."""
    if text is None:
        return status.success
    if isinstance(text, bool):
        return text and status.success
    source = str(text).strip()
    whole = _TEMPLATE.fullmatch(source)
    source = whole[1] if whole else source
    names = {token[1].lower() for token in _tokens(source) if token[0] == "name"}
    value = _truthy(evaluate(source, contexts, status))
    return value if names & set(STATUS_FUNCTIONS) else value and status.success
