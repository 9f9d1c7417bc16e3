"""Compatibility fixes for scope-rl 0.2.1 on numpy 2 / d3rlpy 2.8 (protected; part of the harness).

Import this module before gym, basicgym or scope_rl. It
- restores ``np.issubsctype`` (used by scope-rl/basicgym ``check_array``), ``np.bool8`` (gym 0.26)
  and ``np.infty`` (scope-rl's on-policy rollouts), all removed in numpy 2;
- makes d3rlpy's FQE train for the ``n_steps`` it is asked for: scope-rl calls ``fit(n_steps=...)``
  without ``n_steps_per_epoch``, so d3rlpy runs ``n_steps // 10_000`` epochs, i.e. none at all below
  10,000 steps;
- gives every such fit a no-op logger (no ``d3rlpy_logs/`` in the working directory) and no progress bar.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _issubsctype(arg1: Any, arg2: Any) -> bool:
    return bool(np.issubdtype(np.result_type(arg1), arg2))


for _name, _value in (("issubsctype", _issubsctype), ("bool8", np.bool_), ("infty", np.inf)):
    if not hasattr(np, _name):
        setattr(np, _name, _value)

from d3rlpy.logging import NoopAdapterFactory  # noqa: E402
from d3rlpy.ope import FQE, DiscreteFQE  # noqa: E402


def _train_every_step(cls: type) -> None:
    if getattr(cls.fit, "_rlbench_patched", False):
        return
    original = cls.fit

    def fit(self: Any, dataset: Any, n_steps: int, **kwargs: Any) -> Any:
        kwargs.setdefault("n_steps_per_epoch", n_steps)
        kwargs.setdefault("logger_adapter", NoopAdapterFactory())
        kwargs.setdefault("show_progress", False)
        return original(self, dataset, n_steps, **kwargs)

    fit._rlbench_patched = True  # type: ignore[attr-defined]
    cls.fit = fit


_train_every_step(DiscreteFQE)
_train_every_step(FQE)
