"""The Anthropic Messages API as an :class:`~bot.agents.llm.LLMClient`.

Retries: the SDK itself retries 408/409/429/5xx (529 ``overloaded_error`` included), timeouts and
dropped connections with exponential backoff that honours ``retry-after``; ``max_retries`` sets how
often. What the SDK cannot retry is a stream that breaks after its 200 status: an ``error`` event in
the middle, a connection cut mid-chunk (the transport error is not wrapped), or a stream that simply
ends before ``message_stop`` (the SDK then returns the partial message as if it were complete).
:class:`AnthropicClient` retries those in a small bounded loop and never returns a partial answer.
A ``refusal`` stop reason and an answer over :data:`~bot.agents.llm.MAX_ANSWER_CHARS` are errors.

Caching: the system block (instructions, OPE catalog) and the context block (file contents of the
base commit) carry ``cache_control`` breakpoints; they repeat verbatim across iterations, the task
block after them does not.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

import anthropic
from anthropic.types import Message, MessageParam, TextBlockParam

from bot.agents.base import Usage
from bot.agents.budget import Budget, PriceTable, lookup_price
from bot.agents.llm import Completion, Prompt, check_answer_size
from bot.config import ModelPrice
from bot.errors import AgentError
from bot.redact import scrub

DEFAULT_BASE_URL = "https://api.anthropic.com"
#: Budget reservations assume 3 characters per token (denser than the 4 used for prompt caps), so
#: the estimate errs on the expensive side: the budget fails closed.
_RESERVE_CHARS_PER_TOKEN = 3
#: Error types that are worth another try when they arrive inside a stream.
_RETRYABLE_STREAM_ERRORS = frozenset({"overloaded_error", "rate_limit_error", "api_error", "timeout_error"})


class _BrokenStream(Exception):
    """The answer stream broke off after its 200 status (cut connection, or no ``message_stop``)."""


def make_sdk_client(
    environ: Mapping[str, str], *, max_retries: int = 4, timeout_s: float = 600.0
) -> anthropic.Anthropic:
    """An SDK client configured from ``environ`` only (not ``os.environ``), so callers control it.

    ``ANTHROPIC_BASE_URL`` is honoured; the key comes from ``ANTHROPIC_API_KEY`` or else
    ``ANTHROPIC_AUTH_TOKEN``. A base URL without any key is allowed (local gateways often need none);
    a placeholder key is sent then.

    Returns:
        An ``anthropic.Anthropic`` with the given retry count and per-request timeout.
    """
    base_url = environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
    timeout = anthropic.Timeout(timeout_s, connect=min(10.0, timeout_s))
    if environ.get("ANTHROPIC_API_KEY"):
        return anthropic.Anthropic(
            api_key=environ["ANTHROPIC_API_KEY"], base_url=base_url, max_retries=max_retries, timeout=timeout
        )
    if environ.get("ANTHROPIC_AUTH_TOKEN"):
        return anthropic.Anthropic(
            auth_token=environ["ANTHROPIC_AUTH_TOKEN"],
            base_url=base_url,
            max_retries=max_retries,
            timeout=timeout,
        )
    return anthropic.Anthropic(api_key="no-key", base_url=base_url, max_retries=max_retries, timeout=timeout)


def usage_of(message: Message, price: ModelPrice) -> Usage:
    """Tokens (cache writes and reads count as input) and dollars of one API answer."""
    raw = message.usage
    cache_write = raw.cache_creation_input_tokens or 0
    cache_read = raw.cache_read_input_tokens or 0
    return Usage(
        input_tokens=raw.input_tokens + cache_write + cache_read,
        output_tokens=raw.output_tokens,
        usd=price.cost(raw.input_tokens, raw.output_tokens, cache_write, cache_read),
    )


class AnthropicClient:
    """Sends :class:`Prompt` objects to one model, with budget checks, caching and accounting."""

    def __init__(
        self,
        sdk: anthropic.Anthropic,
        *,
        model: str,
        budget: Budget | None = None,
        prices: PriceTable | None = None,
        stream: bool = True,
        secrets: Sequence[str] = (),
        stream_retries: int = 2,
        retry_backoff_s: float = 1.0,
    ) -> None:
        self._sdk = sdk
        self.model = model
        self._budget = budget if budget is not None else Budget()
        self.price, self.price_known = lookup_price(model, prices)
        self._stream = stream
        self._secrets = list(secrets)
        self._stream_retries = stream_retries
        self._backoff = retry_backoff_s

    def estimate(self, prompt: Prompt) -> Usage:
        """The most a call with ``prompt`` can cost: generous input estimate plus ``max_tokens`` output."""
        input_tokens = math.ceil(len(prompt.render()) / _RESERVE_CHARS_PER_TOKEN)
        input_price = max(self.price.input, self.price.cache_write_price)
        usd = (input_tokens * input_price + prompt.max_tokens * self.price.output) / 1_000_000
        return Usage(input_tokens=input_tokens, output_tokens=prompt.max_tokens, usd=usd)

    def complete(self, prompt: Prompt) -> Completion:
        """Send ``prompt`` (secrets scrubbed) and return the answer text with its usage.

        Raises:
            BudgetExceeded: the call could exceed the budget; nothing was sent.
            AgentError: the API refused the request or failed after all retries (the message names
                the HTTP status and the API's own explanation), the stream broke off every time, the
                model declined (stop reason ``refusal``), or the answer is too long.
        """
        clean = prompt.scrubbed(self._secrets)
        estimate = self.estimate(clean)
        for attempt in range(self._stream_retries + 1):
            self._budget.reserve(estimate)
            last = attempt == self._stream_retries
            try:
                message = self._send(clean)
            except anthropic.APIStatusError as exc:
                # status < 400 means the error arrived as an event inside a 200 stream: the SDK
                # does not retry those, so this loop does.
                mid_stream = exc.status_code < 400 and (exc.type or "") in _RETRYABLE_STREAM_ERRORS
                if not mid_stream or last:
                    raise AgentError(self._describe(exc)) from exc
                time.sleep(self._backoff * 2**attempt)
                continue
            except anthropic.APIConnectionError as exc:
                raise AgentError(self._describe(exc)) from exc
            except _BrokenStream as exc:
                if last:
                    raise AgentError(scrub(
                        f"the answer stream of {self.model} broke off {attempt + 1} time(s), last: {exc}; "
                        "no partial answer was used", self._secrets)) from exc
                time.sleep(self._backoff * 2**attempt)
                continue
            usage = usage_of(message, self.price)
            self._budget.record(usage)
            raw = "".join(block.text for block in message.content if block.type == "text")
            text = scrub(raw, self._secrets)
            if message.stop_reason == "refusal":
                said = f": {text.strip()[:300]}" if text.strip() else ""
                raise AgentError(f"{self.model} declined to answer (stop reason `refusal`){said}")
            check_answer_size(text, self.model)
            return Completion(text=text, prompt=clean.render(), usage=usage)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _send(self, prompt: Prompt) -> Message:
        cache: anthropic.types.CacheControlEphemeralParam = {"type": "ephemeral"}
        system: list[TextBlockParam] = []
        if prompt.system.strip():
            system.append({"type": "text", "text": prompt.system, "cache_control": cache})
        content: list[TextBlockParam] = []
        if prompt.context.strip():
            content.append({"type": "text", "text": prompt.context, "cache_control": cache})
        content.append({"type": "text", "text": prompt.task})
        messages: list[MessageParam] = [{"role": "user", "content": content}]
        if self._stream:
            try:
                with self._sdk.messages.stream(
                    model=self.model, max_tokens=prompt.max_tokens, system=system, messages=messages
                ) as stream:
                    message: Message = stream.get_final_message()
            except anthropic.APIError:
                raise
            except Exception as exc:  # the transport failed mid-stream; the SDK does not wrap that
                raise _BrokenStream(f"{type(exc).__name__}: {exc}") from exc
            if message.stop_reason is None:
                raise _BrokenStream("the stream ended before message_stop (the answer is incomplete)")
            return message
        return self._sdk.messages.create(
            model=self.model, max_tokens=prompt.max_tokens, system=system, messages=messages
        )

    def _describe(self, exc: anthropic.APIError) -> str:
        if isinstance(exc, anthropic.APITimeoutError):
            text = f"the Anthropic API did not answer in time (model {self.model}) after the SDK's retries"
        elif isinstance(exc, anthropic.APIConnectionError):
            text = f"could not reach the Anthropic API at {self._sdk.base_url} after the SDK's retries: {exc}"
        elif isinstance(exc, anthropic.AuthenticationError):
            text = "the Anthropic API rejected the key (401): check ANTHROPIC_API_KEY"
        elif isinstance(exc, anthropic.APIStatusError):
            detail = exc.api_message or str(exc)
            kind = exc.type or "unknown"
            text = f"Anthropic API error {exc.status_code} ({kind}) for model {self.model}: {detail}"
        else:
            text = f"Anthropic API error: {exc}"
        return scrub(text, self._secrets)
