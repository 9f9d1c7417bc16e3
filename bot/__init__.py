"""GrowthHacker: a code bot that proposes, verifies and ships improvements to OPE code."""

from __future__ import annotations

__version__ = "0.1.0"
