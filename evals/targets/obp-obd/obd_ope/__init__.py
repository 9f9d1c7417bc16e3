"""Off-policy estimates of a recommendation policy's click rate from Open Bandit Dataset logs."""

from obd_ope.estimate import estimate_click_rate

__all__ = ["estimate_click_rate"]
