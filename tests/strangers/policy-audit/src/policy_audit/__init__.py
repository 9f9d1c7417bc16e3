from .pipeline import OffPolicyAudit

__all__ = ["OffPolicyAudit"]
