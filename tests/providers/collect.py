"""Running a provider stream to its end in tests: the events, and the error if it raised."""

from __future__ import annotations

from agent_core.events import ProviderEvent, RetryScheduled, TextDelta
from agent_core.messages import Message
from agent_core.providers.base import ChatRequest, Provider, ProviderError

REQUEST = ChatRequest(messages=[Message(role="user", content="hello")])


async def collect(
    provider: Provider, request: ChatRequest = REQUEST
) -> tuple[list[ProviderEvent], ProviderError | None]:
    events: list[ProviderEvent] = []
    try:
        async for event in provider.stream(request):
            events.append(event)
    except ProviderError as err:
        return events, err
    return events, None


def text_of(events: list[ProviderEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def retries(events: list[ProviderEvent]) -> list[RetryScheduled]:
    return [e for e in events if isinstance(e, RetryScheduled)]
