"""Produce the trimmed copy of GitHub's REST OpenAPI description that the fake GitHub validates against.

GitHub publishes its REST API description in the npm package ``@octokit/openapi``
(``generated/api.github.com.json``, ~13 MB). The fake only needs the endpoints the bot calls, so this
script keeps those operations and every component they reference (transitively), drops examples and
prose, and writes ``openapi/github-rest.json`` next to this file.

Usage (from the repository root)::

    cd /tmp && npm pack @octokit/openapi && tar xzf octokit-openapi-*.tgz
    python tests/helpers/fake_github/trim_openapi.py /tmp/package/generated/api.github.com.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

#: (path, method) of every operation the bot or the tests call; keep in sync with the fake's routes.
OPERATIONS: tuple[tuple[str, str], ...] = (
    ("/repos/{owner}/{repo}/git/ref/{ref}", "get"),
    ("/repos/{owner}/{repo}/pulls", "get"),
    ("/repos/{owner}/{repo}/pulls", "post"),
    ("/repos/{owner}/{repo}/pulls/{pull_number}", "get"),
    ("/repos/{owner}/{repo}/pulls/{pull_number}", "patch"),
    ("/repos/{owner}/{repo}/issues/{issue_number}/comments", "get"),
    ("/repos/{owner}/{repo}/issues/{issue_number}/comments", "post"),
    ("/repos/{owner}/{repo}/issues/comments/{comment_id}", "get"),
    ("/repos/{owner}/{repo}/issues/comments/{comment_id}", "patch"),
    ("/repos/{owner}/{repo}/issues/comments/{comment_id}", "delete"),
    ("/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", "post"),
    ("/repos/{owner}/{repo}/issues/{issue_number}/labels", "post"),
    ("/repos/{owner}/{repo}/check-runs", "post"),
    ("/repos/{owner}/{repo}/statuses/{sha}", "post"),
    ("/repos/{owner}/{repo}/collaborators/{username}/permission", "get"),
)
#: Keys that only document (prose or samples, not constraints). ``description`` is blanked instead of
#: dropped because OpenAPI 3.0 requires it on Response objects.
_DOC_KEYS = {"summary", "example", "examples", "externalDocs", "x-github", "x-octokit"}
OUTPUT = Path(__file__).parent / "openapi" / "github-rest.json"


def _strip_docs(node: Any, parent_key: str = "") -> Any:
    """A copy of ``node`` without documentation keys (but keeping properties that happen to share a name)."""
    if isinstance(node, dict):
        keep_all = parent_key == "properties"  # here keys are property names, not keywords
        return {
            key: "" if key == "description" and isinstance(value, str) else _strip_docs(value, key)
            for key, value in node.items()
            if keep_all or key not in _DOC_KEYS
        }
    if isinstance(node, list):
        return [_strip_docs(item, parent_key) for item in node]
    return node


def _refs(node: Any) -> set[str]:
    """Every ``$ref`` target inside ``node``."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                found.add(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def trim(spec: dict[str, Any]) -> dict[str, Any]:
    """Return a self-contained description holding only :data:`OPERATIONS` and what they reference.

    Raises:
        KeyError: an operation in :data:`OPERATIONS` is missing from ``spec`` (the API moved).
    """
    paths: dict[str, dict[str, Any]] = {}
    for path, method in OPERATIONS:
        item = spec["paths"][path]
        operation = _strip_docs(item[method])
        paths.setdefault(path, {})[method] = operation
    components: dict[str, dict[str, Any]] = {}
    pending = _refs(paths)
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _hash, _components, section, name = ref.split("/")  # "#/components/schemas/pull-request"
        body = _strip_docs(spec["components"][section][name])
        components.setdefault(section, {})[name] = body
        pending |= _refs(body) - seen
    return {
        "openapi": spec["openapi"],
        "info": {
            "title": spec["info"]["title"] + " (trimmed for the GrowthHacker fake)",
            "version": spec["info"]["version"],
        },
        "servers": spec.get("servers", []),
        "paths": paths,
        "components": {section: dict(sorted(items.items())) for section, items in sorted(components.items())},
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="generated/api.github.com.json from @octokit/openapi")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    spec = json.loads(args.source.read_text(encoding="utf-8"))
    trimmed = trim(spec)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(trimmed, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    count = sum(len(methods) for methods in trimmed["paths"].values())
    print(f"wrote {args.out} ({count} operations, version {trimmed['info']['version']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
