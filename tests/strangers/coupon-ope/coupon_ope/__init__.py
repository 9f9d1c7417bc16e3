"""Offline evaluation of coupon targeting policies."""
