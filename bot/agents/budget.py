"""Token and dollar accounting for LLM calls: per-model prices and a budget that fails closed.

Prices are USD per million tokens. :data:`DEFAULT_PRICES` holds Anthropic list prices as of writing;
callers pass overrides (for new models, discounts, or a local endpoint that costs nothing). A model
is matched exactly, else by the longest known prefix (``claude-sonnet-4-5-20250929`` →
``claude-sonnet-4-5``); an unknown model is charged the most expensive known price, so a dollar
budget can only stop a run early, never let it overspend.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping

from bot.agents.base import Usage
from bot.config import ModelPrice
from bot.errors import BudgetExceeded

PriceTable = Mapping[str, ModelPrice]

DEFAULT_PRICES: dict[str, ModelPrice] = {
    "claude-opus-4-5": ModelPrice(input=5.0, output=25.0),
    "claude-opus-4-1": ModelPrice(input=15.0, output=75.0),
    "claude-opus-4": ModelPrice(input=15.0, output=75.0),
    "claude-sonnet-4-5": ModelPrice(input=3.0, output=15.0),
    "claude-sonnet-4": ModelPrice(input=3.0, output=15.0),
    "claude-3-7-sonnet": ModelPrice(input=3.0, output=15.0),
    "claude-haiku-4-5": ModelPrice(input=1.0, output=5.0),
    "claude-3-5-haiku": ModelPrice(input=0.8, output=4.0),
    "claude-3-haiku": ModelPrice(input=0.25, output=1.25),
}


def lookup_price(model: str, overrides: PriceTable | None = None) -> tuple[ModelPrice, bool]:
    """The price of ``model``: overrides first, then :data:`DEFAULT_PRICES`.

    Returns:
        ``(price, known)``; ``known`` is False when no entry matched and the most expensive known
        price was used instead (fail closed).
    """
    table: dict[str, ModelPrice] = {**DEFAULT_PRICES, **(overrides or {})}
    if model in table:
        return table[model], True
    prefixes = sorted((name for name in table if model.startswith(name)), key=len, reverse=True)
    if prefixes:
        return table[prefixes[0]], True
    dearest = max(table.values(), key=lambda price: (price.output, price.input))
    return dearest, False


class Budget:
    """Tracks spend against optional token and dollar limits, refusing calls that could exceed them.

    Calls are expected one at a time (the loop is sequential); a lock keeps the counters consistent
    if a caller shares one budget across threads anyway.
    """

    def __init__(self, usd: float | None = None, tokens: int | None = None) -> None:
        self.usd = usd
        self.tokens = tokens
        self._spent = Usage()
        self._lock = threading.Lock()

    @property
    def spent(self) -> Usage:
        """Everything recorded so far."""
        return self._spent

    @property
    def remaining_usd(self) -> float:
        """Dollars left (``inf`` when unlimited)."""
        return math.inf if self.usd is None else self.usd - self._spent.usd

    @property
    def remaining_tokens(self) -> float:
        """Tokens left (``inf`` when unlimited)."""
        return math.inf if self.tokens is None else self.tokens - self._spent.tokens

    def reserve(self, estimated: Usage) -> None:
        """Check that a call costing at most ``estimated`` fits in what is left.

        Raises:
            BudgetExceeded: spent + estimated would pass a limit; the message states both numbers so
                the user can raise ``loop.budget`` or lower the prompt size.
        """
        with self._lock:
            if estimated.tokens > self.remaining_tokens:
                raise BudgetExceeded(
                    f"token budget: the next call may use up to {estimated.tokens} tokens but only "
                    f"{max(0, int(self.remaining_tokens))} of loop.budget.tokens={self.tokens} are left "
                    f"({self._spent.tokens} spent); raise loop.budget.tokens to continue"
                )
            if estimated.usd > self.remaining_usd + 1e-12:
                raise BudgetExceeded(
                    f"dollar budget: the next call may cost up to ${estimated.usd:.4f} but only "
                    f"${max(0.0, self.remaining_usd):.4f} of loop.budget.usd={self.usd} is left "
                    f"(${self._spent.usd:.4f} spent); raise loop.budget.usd to continue"
                )

    def record(self, actual: Usage) -> None:
        """Add the measured spend of a finished call."""
        with self._lock:
            self._spent = self._spent + actual
