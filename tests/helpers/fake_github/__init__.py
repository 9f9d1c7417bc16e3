"""A local, stateful stand-in for the GitHub REST API, validated against GitHub's OpenAPI description."""

from __future__ import annotations

from tests.helpers.fake_github.server import BODY_LIMIT, FakeGitHub, Recorded

__all__ = ["BODY_LIMIT", "FakeGitHub", "Recorded"]
