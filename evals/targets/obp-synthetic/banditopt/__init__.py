"""Offline evaluation of bandit policies from logged feedback."""

from banditopt.offpolicy import estimate_value

__all__ = ["estimate_value"]
