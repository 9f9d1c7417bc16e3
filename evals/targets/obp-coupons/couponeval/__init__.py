"""Offline evaluation of coupon-targeting policies from campaign logs."""

from couponeval.value import policy_value

__all__ = ["policy_value"]
