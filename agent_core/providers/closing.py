"""Closing an event stream at once instead of whenever the garbage collector gets to it.

Every layer (retry, output tracking, the local provider, the SSE reader) wraps the stream below
it in :func:`closing`, so when a turn is cancelled or a consumer stops early the chain closes
top to bottom and the HTTP response is released immediately, which is what stops a server
generating tokens nobody reads. ``contextlib.aclosing`` needs an object with ``aclose``; a
:class:`~agent_core.providers.base.Provider` only promises an ``AsyncIterator``, hence this.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

T = TypeVar("T")


@asynccontextmanager
async def closing(events: AsyncIterator[T]) -> AsyncIterator[AsyncIterator[T]]:
    """Yield ``events``; on exit call its ``aclose()`` when it has one (async generators do)."""
    try:
        yield events
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
