"""Work-arounds for scope-rl 0.2.1 on numpy 2 / d3rlpy 2.x. Import before gym or scope_rl."""
import numpy as np

np.bool8 = getattr(np, "bool8", np.bool_)
if not hasattr(np, "issubsctype"):
    np.issubsctype = lambda arg1, arg2: np.issubdtype(np.result_type(arg1), arg2)

import d3rlpy.ope  # noqa: E402
import torch  # noqa: E402
import scope_rl.ope.input  # noqa: E402
from d3rlpy.logging import NoopAdapterFactory  # noqa: E402


class _FQE(d3rlpy.ope.DiscreteFQE):
    # scope-rl calls fit(dataset, n_steps=N) and d3rlpy then runs N // 10_000 epochs, i.e. none
    # for small N; it also writes d3rlpy_logs/ into the working directory.
    def fit(self, dataset, n_steps, **kwargs):
        kwargs.setdefault("n_steps_per_epoch", n_steps)
        kwargs.setdefault("logger_adapter", NoopAdapterFactory())
        kwargs.setdefault("show_progress", False)
        return super().fit(dataset, n_steps=n_steps, **kwargs)


scope_rl.ope.input.DiscreteFQE = _FQE
torch.set_num_threads(1)  # tiny networks: threads only add overhead
