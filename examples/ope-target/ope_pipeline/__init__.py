"""Off-policy evaluation pipeline: estimate how well a new policy would do, from logged data."""

from __future__ import annotations

from ope_pipeline.pipeline import estimate_policy_value

__all__ = ["estimate_policy_value"]
