"""The embedded model as a completion server: "start it if needed, give me its URL".

Completion needs nothing of the local model but llama.cpp's HTTP root (``/infill``,
``/v1/completions``, ``/health``), so it depends on this small interface instead of on the chat
provider: :class:`ModelServer`. :class:`EmbeddedModelServer` adapts the local provider to it; one
instance serves every workspace folder of the process, and it holds the process's one shared
llama.cpp server (the chat's local provider uses the same one). A request never waits for the model to
load: :meth:`ModelServer.url_if_ready` starts loading in the background and answers None, and the
editor gets an empty suggestion at once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal, Protocol

from agent_core.providers.base import ProviderError
from agent_core.providers.local import LocalProvider

log = logging.getLogger(__name__)

ServerState = Literal["stopped", "loading", "ready", "failed"]


class ModelServer(Protocol):
    model: str
    state: ServerState
    #: Why the last start failed (state ``failed``), in words for the user.
    problem: str | None

    def url_if_ready(self) -> str | None:
        """The server's root URL when it is ready; else start it in the background, None."""
        ...

    async def ensure_started(self) -> str:
        """Start the server (or wait for the start under way) and return its root URL."""
        ...

    async def aclose(self) -> None: ...


class EmbeddedModelServer:
    """:class:`ModelServer` over a :class:`~agent_core.providers.local.LocalProvider`."""

    def __init__(self, provider: LocalProvider) -> None:
        self._provider = provider
        self.model: str = provider.model
        self.state: ServerState = "stopped"
        self.problem: str | None = None
        self._url: str | None = None
        self._start: asyncio.Task[str] | None = None

    def url_if_ready(self) -> str | None:
        if self._url is None:
            self._begin()
        return self._url

    async def ensure_started(self) -> str:
        if self._url is not None:
            return self._url
        return await asyncio.shield(self._begin())

    def _begin(self) -> asyncio.Task[str]:
        """The start under way, or a new one (after none or a failed one)."""
        if self._start is None or self._start.done():
            self._start = asyncio.ensure_future(self._started())
            self._start.add_done_callback(_retrieve)
        return self._start

    async def _started(self) -> str:
        self.state = "loading"
        try:
            url = await self._provider.start()
        except ProviderError as exc:
            self.state, self.problem = "failed", exc.message
            raise
        self._url, self.state, self.problem = url, "ready", None
        return url

    async def aclose(self) -> None:
        if self._start is None:
            return  # never started: nothing to stop
        if not self._start.done():
            self._start.cancel()
        self._url, self.state = None, "stopped"
        await self._provider.aclose()


def _retrieve(task: asyncio.Task[str]) -> None:
    """A background start that failed is reported through ``state``/``problem``; its exception
    is retrieved here so asyncio does not log it as never retrieved."""
    if not task.cancelled() and task.exception() is not None:
        log.info("the embedded model did not start: %s", task.exception())
