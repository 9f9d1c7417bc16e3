"""Off-policy evaluation of RL policies from logged episodes (scope-rl)."""

from rl_ope.estimate import estimate_policy_value

__all__ = ["estimate_policy_value"]
