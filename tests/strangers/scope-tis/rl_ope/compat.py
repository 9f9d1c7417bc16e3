"""numpy 2 removed aliases that gym 0.26 and scope-rl 0.2.1 still use."""
import numpy as np

if not hasattr(np, "bool8"):
    np.bool8 = np.bool_
if not hasattr(np, "issubsctype"):
    def _issubsctype(arg1, arg2):
        return np.issubdtype(np.result_type(arg1), arg2)
    np.issubsctype = _issubsctype
