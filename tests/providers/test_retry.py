"""RetryingProvider on its own: the SDK backoff formula, bounds, and the events it yields.

The inner provider is a scripted double here so each rule is isolated; the same rules against
real HTTP errors from the fake server are in test_fault_cases.py. Time is a FakeClock: every
wait is asserted, none is taken.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from agent_core.config import RetryConfig
from agent_core.events import ProviderEvent, RetryScheduled, StreamFinished, TextDelta, UsageReported
from agent_core.messages import Message, Usage
from agent_core.providers.base import ChatRequest, ProviderError
from agent_core.retry import RetryingProvider
from tests.fakes.clock import FakeClock

REQUEST = ChatRequest(messages=[Message(role="user", content="hi")])


def transient(retry_after: float | None = None) -> ProviderError:
    return ProviderError("rate limited", kind="rate_limit", retryable=True, status=429, retry_after=retry_after)


@dataclass
class Attempt:
    events: list[ProviderEvent] = field(default_factory=list)
    error: ProviderError | None = None


class ScriptedProvider:
    """One scripted attempt per stream() call; records whether each stream was closed."""

    name: str = "scripted"
    model: str = "m"
    context_window: int | None = None

    def __init__(self, *attempts: Attempt) -> None:
        self.attempts = list(attempts)
        self.calls = 0
        self.closed_streams = 0

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        attempt = self.attempts[min(self.calls, len(self.attempts) - 1)]
        self.calls += 1
        try:
            for event in attempt.events:
                yield event
            if attempt.error is not None:
                raise attempt.error
        finally:
            self.closed_streams += 1

    async def aclose(self) -> None:
        pass


OK = Attempt([TextDelta(text="hello"), StreamFinished(stop_reason="end_turn")])


async def run(provider: RetryingProvider) -> list[ProviderEvent]:
    return [event async for event in provider.stream(REQUEST)]


@pytest.mark.parametrize("r", [0.0, 0.3, 0.999])
def test_backoff_is_the_sdk_formula(r: float) -> None:
    retry = RetryingProvider(ScriptedProvider(OK), RetryConfig(), FakeClock(random_values=[r]))
    delays = [retry.backoff(n) for n in range(7)]
    assert delays == [min(0.5 * 2**n, 8.0) * (1 - 0.25 * r) for n in range(7)]
    assert delays[-1] <= 8.0 and delays[-1] >= 6.0


async def test_transient_failures_are_retried_with_events_and_fake_waits() -> None:
    clock = FakeClock(random_values=[0.0, 0.5])
    inner = ScriptedProvider(Attempt(error=transient()), Attempt(error=transient()), OK)
    events = await run(RetryingProvider(inner, RetryConfig(max_attempts=3), clock))
    retries = [e for e in events if isinstance(e, RetryScheduled)]
    assert [(r.attempt, r.max_attempts) for r in retries] == [(2, 3), (3, 3)]
    assert [r.delay for r in retries] == clock.sleeps == [0.5, 1.0 * (1 - 0.25 * 0.5)]
    assert all(r.reason == "rate limited" for r in retries)
    assert isinstance(events[-1], StreamFinished) and inner.calls == 3


async def test_a_non_retryable_error_is_raised_at_once() -> None:
    clock = FakeClock()
    inner = ScriptedProvider(Attempt(error=ProviderError("bad key", kind="auth", retryable=False, status=401)))
    with pytest.raises(ProviderError, match="bad key"):
        await run(RetryingProvider(inner, RetryConfig(), clock))
    assert inner.calls == 1 and clock.sleeps == []


async def test_attempts_are_bounded() -> None:
    clock = FakeClock()
    inner = ScriptedProvider(Attempt(error=transient()))
    with pytest.raises(ProviderError, match="gave up after 4 attempts") as info:
        await run(RetryingProvider(inner, RetryConfig(max_attempts=4), clock))
    assert inner.calls == 4 and len(clock.sleeps) == 3
    assert info.value.retryable is False and info.value.kind == "rate_limit"


async def test_server_wait_is_honoured_up_to_the_cap() -> None:
    clock = FakeClock()
    inner = ScriptedProvider(Attempt(error=transient(retry_after=42.0)), OK)
    await run(RetryingProvider(inner, RetryConfig(max_retry_after=60), clock))
    assert clock.sleeps == [42.0]


async def test_server_wait_over_the_cap_gives_up_with_a_clear_message() -> None:
    clock = FakeClock()
    inner = ScriptedProvider(Attempt(error=transient(retry_after=3600.0)), OK)
    with pytest.raises(ProviderError, match=r"asked to wait 3600 s, longer than the 60 s limit"):
        await run(RetryingProvider(inner, RetryConfig(max_retry_after=60), clock))
    assert inner.calls == 1 and clock.sleeps == []


async def test_total_time_is_bounded() -> None:
    clock = FakeClock()
    inner = ScriptedProvider(Attempt(error=transient(retry_after=20.0)))
    config = RetryConfig(max_attempts=10, total_timeout=50, max_retry_after=60)
    with pytest.raises(ProviderError, match=r"50 s limit \(retry.totalTimeout\)"):
        await run(RetryingProvider(inner, config, clock))
    assert clock.sleeps == [20.0, 20.0] and inner.calls == 3


async def test_error_after_output_is_not_replayed() -> None:
    clock = FakeClock()
    inner = ScriptedProvider(Attempt([TextDelta(text="partial")], transient()), OK)
    events: list[ProviderEvent] = []
    with pytest.raises(ProviderError) as info:
        async for event in RetryingProvider(inner, RetryConfig(), clock).stream(REQUEST):
            events.append(event)
    assert info.value.output_started is True
    assert events == [TextDelta(text="partial")] and inner.calls == 1 and clock.sleeps == []


async def test_usage_before_the_error_does_not_count_as_output() -> None:
    clock = FakeClock()
    usage = UsageReported(usage=Usage(input_tokens=5))
    inner = ScriptedProvider(Attempt([usage], transient()), OK)
    events = await run(RetryingProvider(inner, RetryConfig(), clock))
    assert [type(e).__name__ for e in events] == ["UsageReported", "RetryScheduled", "TextDelta", "StreamFinished"]


async def test_closing_the_stream_closes_the_inner_stream() -> None:
    inner = ScriptedProvider(Attempt([TextDelta(text="a"), TextDelta(text="b")]))
    stream = RetryingProvider(inner, RetryConfig(), FakeClock()).stream(REQUEST)
    assert await anext(stream) == TextDelta(text="a")
    await stream.aclose()  # what a cancelled turn does
    assert inner.closed_streams == 1


def test_it_is_a_provider_with_the_inner_identity() -> None:
    inner = ScriptedProvider(OK)
    retry = RetryingProvider(inner, RetryConfig(), FakeClock())
    assert (retry.name, retry.model, retry.context_window) == ("scripted", "m", None)


async def test_a_zero_server_wait_still_backs_off() -> None:
    clock = FakeClock()
    inner = ScriptedProvider(Attempt(error=transient(retry_after=0.0)), OK)
    await run(RetryingProvider(inner, RetryConfig(), clock))
    assert clock.sleeps == [0.5]
