"""GitHub's REST OpenAPI description (vendored, trimmed): request/response validation and schema-shaped
instances for the fake server.

``openapi/github-rest.json`` is produced by ``trim_openapi.py`` from the npm package ``@octokit/openapi``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.exceptions import OpenAPIError
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_PATH = Path(__file__).parent / "openapi" / "github-rest.json"
#: The vendored description's server; requests are presented to the validator as if sent there.
GITHUB_API = "https://api.github.com"
_MULTI_SEGMENT_PREFIXES = ("/git/ref/", "/git/refs/")


@cache
def spec_dict() -> dict[str, Any]:
    """The trimmed description as a dict (loaded once)."""
    data: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return data


@cache
def openapi() -> OpenAPI:
    """The validator for the trimmed description (built once; building checks the description itself)."""
    return OpenAPI.from_dict(spec_dict())


@dataclass
class ApiRequest:
    """A request in the shape openapi-core's Request protocol expects."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes | None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    host_url: str = GITHUB_API

    def __post_init__(self) -> None:
        self.method = self.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict([(k, v) for k, vs in self.query.items() for v in vs]),
            header=Headers(self.headers),
        )
        # ``{ref}`` spans several segments (x-multi-segment); the matcher only knows one segment,
        # so present the ref percent-encoded the way a strict client would send it.
        for prefix in _MULTI_SEGMENT_PREFIXES:
            head, sep, ref = self.path.partition(prefix)
            if sep:
                self.path = head + prefix + quote(ref, safe="")

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


@dataclass
class ApiResponse:
    """A response in the shape openapi-core's Response protocol expects."""

    status_code: int
    payload: Any
    content_type: str = "application/json"

    @property
    def data(self) -> bytes | None:
        return None if self.payload is None else json.dumps(self.payload).encode()

    @property
    def headers(self) -> Headers:
        return Headers({"Content-Type": self.content_type})


def request_errors(request: ApiRequest) -> list[str]:
    """Why ``request`` does not conform to the description (empty when it does)."""
    try:
        openapi().validate_request(request)
    except OpenAPIError as err:
        return [_describe(err)]
    return []


def response_errors(request: ApiRequest, response: ApiResponse) -> list[str]:
    """Why ``response`` (to ``request``) does not conform to the description (empty when it does)."""
    try:
        openapi().validate_response(request, response)
    except OpenAPIError as err:
        return [_describe(err)]
    return []


#: ``user.type`` values GitHub sends (the description types the field as a plain string).
ACCOUNT_TYPES = ("User", "Bot", "Organization")


def account_errors(payload: Any) -> list[str]:
    """Accounts in ``payload`` whose ``type`` GitHub would not send for their login.

    GitHub marks app accounts, and only them, as ``Bot``, and their logins end in ``[bot]``
    (``github-actions[bot]``); the bot's sticky-comment rule relies on that, so the fake must too.
    """
    problems: list[str] = []
    stack = [payload]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            login, kind = item.get("login"), item.get("type")
            if isinstance(login, str) and "avatar_url" in item:
                is_bot = login.endswith("[bot]")
                if kind not in ACCOUNT_TYPES or (kind == "Bot") != is_bot:
                    problems.append(f"account {login!r} has type {kind!r}")
            stack.extend(item.values())
    return problems


def _describe(err: BaseException) -> str:
    """The error chain, naming each schema violation and where it is (values are not dumped)."""
    parts = []
    cause: BaseException | None = err
    while cause is not None:
        schema_errors = getattr(cause, "schema_errors", None)
        if schema_errors:
            parts += [
                f"{e.message[:300]} at {'/'.join(map(str, e.absolute_path)) or '<root>'}"
                for e in schema_errors
            ]
        else:
            parts.append(f"{type(cause).__name__}: {str(cause)[:300]}")
        cause = cause.__cause__ or cause.__context__
    return " <- ".join(parts)


def schema(name: str) -> dict[str, Any]:
    """The component schema called ``name``."""
    found: dict[str, Any] = spec_dict()["components"]["schemas"][name]
    return found


def instance_of(schema_name: str, /, **overrides: Any) -> dict[str, Any]:
    """A minimal object valid against component schema ``schema_name``, with ``overrides`` applied on top.

    Required properties get placeholder values of the right type (nullable ones get ``None``), so a
    response built this way passes validation unless an override breaks it.
    """
    value = _instance(schema(schema_name))
    assert isinstance(value, dict)
    value.update(overrides)
    return value


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema(node["$ref"].rsplit("/", 1)[1])
    return node


def _instance(node: dict[str, Any]) -> Any:
    node = _resolve(node)
    if "allOf" in node:
        merged: dict[str, Any] = {}
        for part in node["allOf"]:
            part_value = _instance(part)
            if isinstance(part_value, dict):
                merged.update(part_value)
        return merged
    for key in ("oneOf", "anyOf"):
        if key in node:
            return _instance(node[key][0])
    if node.get("nullable"):
        return None
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type", "object")
    if kind == "object":
        props = node.get("properties", {})
        return {name: _instance(props.get(name, {"type": "string"})) for name in node.get("required", [])}
    return _SCALARS[kind](node)


_SCALARS: dict[str, Any] = {
    "string": lambda node: {
        "date-time": "2026-01-01T00:00:00Z",
        "uri": "https://github.invalid/placeholder",
        "email": "placeholder@example.invalid",
    }.get(node.get("format", ""), "placeholder"),
    "integer": lambda node: max(0, node.get("minimum", 0)),
    "number": lambda node: 0,
    "boolean": lambda node: False,
    "array": lambda node: [],
}
