"""Off-policy evaluation for continuous-action control policies (scope-rl)."""

from contope.pipeline import estimate_return

__all__ = ["estimate_return"]
