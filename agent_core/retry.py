"""Retrying a provider request: the one place in the product where requests are sent again.

Timing follows openai-python and anthropic-sdk-python: the n-th retry waits
``min(initial_delay * 2**n, max_delay) * (1 - 0.25 * random())``, unless the server said how long
to wait (``retry-after-ms`` / ``retry-after``, already parsed into ``ProviderError.retry_after``).
A server wait is honoured up to ``max_retry_after``; asking for more means "not any time soon",
so we give up with a message saying so rather than sit silent for an hour.

Bounds: at most ``max_attempts`` attempts, and no attempt starts later than ``total_timeout``
after the first one. Only a ``retryable`` error is retried, and only while nothing has been
yielded to the caller: once text or a tool call was shown, a replay would duplicate it, so the
error is re-raised with ``output_started=True`` (the loop keeps the partial reply, marked
interrupted). Before each new attempt a :class:`RetryScheduled` event tells the user what is
happening: ``attempt`` is the number of the attempt about to start (2 for the first retry) out of
``max_attempts``, ``delay`` the wait in seconds, ``reason`` the failure's message. All timing goes
through the injected :class:`~agent_core.clock.Clock`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from agent_core.clock import Clock
from agent_core.config import RetryConfig
from agent_core.events import ProviderEvent, RetryScheduled, TextDelta, ToolCallReady, ToolCallStarted
from agent_core.providers.base import ChatRequest, Provider, ProviderError
from agent_core.providers.closing import closing


class RetryingProvider:
    """A :class:`Provider` that retries transient failures of ``inner``."""

    def __init__(self, inner: Provider, config: RetryConfig, clock: Clock) -> None:
        self.inner = inner
        self.config = config
        self.clock = clock
        self.name: str = inner.name
        self.model: str = inner.model
        self.context_window: int | None = inner.context_window
        self.prompt_style: str = getattr(inner, "prompt_style", "full")

    async def aclose(self) -> None:
        await self.inner.aclose()

    def backoff(self, retry_number: int) -> float:
        """The SDKs' delay before retry ``retry_number`` (0 for the first retry), with jitter."""
        cfg = self.config
        return min(cfg.initial_delay * 2.0**retry_number, cfg.max_delay) * (1 - 0.25 * self.clock.random())

    async def stream(self, request: ChatRequest) -> AsyncGenerator[ProviderEvent, None]:
        """Yield the inner provider's events; on a retryable failure before any output, yield a
        :class:`RetryScheduled`, wait, and try again."""
        cfg = self.config
        started = self.clock.now()
        attempt = 1
        while True:
            output_started = False
            try:
                async with closing(self.inner.stream(request)) as events:
                    async for event in events:
                        if isinstance(event, (TextDelta, ToolCallStarted, ToolCallReady)):
                            output_started = True
                        yield event
                return
            except ProviderError as err:
                if output_started or err.output_started:
                    err.output_started = True
                    raise
                if not err.retryable:
                    raise
                if attempt >= cfg.max_attempts:
                    raise _gave_up(err, f"gave up after {attempt} attempts") from err
                if err.retry_after:  # a wait of 0 (or a date in the past) gets the backoff, as in the SDKs
                    if err.retry_after > cfg.max_retry_after:
                        raise _gave_up(
                            err,
                            f"the server asked to wait {err.retry_after:.0f} s, longer than "
                            f"the {cfg.max_retry_after:.0f} s limit (retry.maxRetryAfter)",
                        ) from err
                    delay = err.retry_after
                else:
                    delay = self.backoff(attempt - 1)
                elapsed = self.clock.now() - started
                if elapsed + delay > cfg.total_timeout:
                    raise _gave_up(
                        err,
                        f"retrying for {elapsed + delay:.0f} s would pass the "
                        f"{cfg.total_timeout:.0f} s limit (retry.totalTimeout)",
                    ) from err
                attempt += 1
                yield RetryScheduled(attempt=attempt, max_attempts=cfg.max_attempts, delay=delay, reason=err.message)
                await self.clock.sleep(delay)


def _gave_up(err: ProviderError, why: str) -> ProviderError:
    """The same failure, no longer retryable, with the reason retrying stopped."""
    return ProviderError(
        f"{err.message} ({why})",
        kind=err.kind,
        retryable=False,
        status=err.status,
        retry_after=err.retry_after,
        output_started=err.output_started,
    )
