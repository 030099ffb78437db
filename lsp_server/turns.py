"""Running turns as background tasks, and stopping them by any of the three cancel paths.

``agent.chat`` and ``agent.inlineEdit`` return a turn id at once and the turn runs as an asyncio
task: the server's message loop is never blocked, so ``agent.status`` (or any other request) is
answered while a turn streams, and no client request timeout is ever hit by a long turn.

A turn can be stopped three ways, all of which end up in :meth:`TurnRegistry.cancel`:
``agent.cancel`` (by turn id or "whatever runs"), ``window/workDoneProgress/cancel`` (by the
turn's progress token) and ``$/cancelRequest`` (by the JSON-RPC id of the ``executeCommand``
request that started the turn, even after it was answered).

The registry owns each turn's start and end: it sends ``agent/turnStarted`` when the turn is
accepted and exactly one ``agent/turnEnded`` when its body is over, from the
:class:`~agent_core.events.TurnEnded` the body returned, or from how it failed. An
:class:`~agent_core.exceptions.AgentError` ends the turn with its message; anything else is a
bug, logged with its traceback, and the turn ends with ``error`` while the server goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from agent_core.events import TurnEnded
from agent_core.exceptions import AgentError
from agent_core.text import one_line
from lsp_server import wire
from lsp_server.folders import FolderAgent
from lsp_server.progress import TurnProgress
from lsp_server.streaming import TurnStream

logger = logging.getLogger(__name__)

#: A turn's body: gets the turn, returns how it ended (or raises; see :meth:`TurnRegistry.start`).
TurnBody = Callable[["Turn"], Awaitable[TurnEnded]]


@dataclass
class Turn:
    id: str
    kind: wire.TurnKind
    folder: FolderAgent
    stream: TurnStream
    progress: TurnProgress
    #: JSON-RPC id of the request that started the turn (for ``$/cancelRequest``).
    request_id: Any = None
    task: asyncio.Task[None] | None = None
    cancel_requested: bool = False


class TurnRegistry:
    """The running turns of one server.

    ``ready`` (when given) is set once the server finished starting up (settings pulled, the
    sessions restored): a turn requested before that is registered and answered at once, but
    its body waits for it, so it never runs on the settings of ``initializationOptions`` while
    ``workspace/configuration`` is still unanswered, nor in a session about to be replaced.
    """

    def __init__(self, ready: asyncio.Event | None = None) -> None:
        self._turns: dict[str, Turn] = {}
        self._ready = ready

    def running(self) -> list[Turn]:
        return list(self._turns.values())

    def busy_chat(self, folder: FolderAgent) -> Turn | None:
        """The chat turn running in ``folder`` (the agent runs one at a time)."""
        return next((t for t in self._turns.values() if t.kind == "chat" and t.folder is folder), None)

    def start(self, turn: Turn, body: TurnBody, title: str, prompt: str) -> None:
        """Register ``turn``, tell the client it started, and run ``body`` in the background.

        Whatever happens in ``body`` (it returns, raises, or is cancelled), the client gets
        exactly one ``agent/turnEnded`` and the progress ends.
        """
        self._turns[turn.id] = turn
        logger.info("turn %s (%s) started in %s", turn.id, turn.kind, turn.folder.uri)
        turn.stream.started(prompt)
        turn.task = asyncio.create_task(self._run(turn, body, title, prompt), name=f"turn-{turn.id}")

    async def _run(self, turn: Turn, body: TurnBody, title: str, prompt: str) -> None:
        try:
            turn.stream.end(await self._outcome(turn, body, title, prompt))
        finally:
            turn.progress.end("Done")
            self._turns.pop(turn.id, None)

    async def _outcome(self, turn: Turn, body: TurnBody, title: str, prompt: str) -> TurnEnded:
        """How the turn ended: what its body returned, or how it was stopped or failed."""
        try:
            await turn.progress.begin(title, one_line(prompt, 80))
            # A cancel that lands just as the client answers the progress request is swallowed by
            # asyncio.wait_for (Python 3.11), hence the flag; it must be seen before waiting on.
            if self._ready is not None and not turn.cancel_requested:
                await self._ready.wait()
            if turn.cancel_requested:
                raise asyncio.CancelledError
            return await body(turn)
        except asyncio.CancelledError:
            return TurnEnded(turn_id=turn.id, stop_reason="cancelled", usage=turn.stream.usage)
        except AgentError as exc:  # the user's to fix (settings, provider): no traceback
            logger.warning("turn %s failed: %s", turn.id, exc)
            return TurnEnded(turn_id=turn.id, stop_reason="error", usage=turn.stream.usage, error=str(exc))
        except Exception as exc:  # a bug: one failing turn must never take the server down
            logger.exception("turn %s failed", turn.id)
            return TurnEnded(
                turn_id=turn.id,
                stop_reason="error",
                usage=turn.stream.usage,
                error=f"Internal error: {type(exc).__name__}: {exc}",
            )

    def cancel(self, turn_id: str) -> bool:
        """Stop one turn for real: the agent cancels its HTTP stream and running tool; a turn
        that has not reached the agent yet (or an inline edit) has its task cancelled."""
        turn = self._turns.get(turn_id)
        if turn is None or turn.task is None or turn.task.done():
            return False
        turn.cancel_requested = True
        if turn.kind == "chat" and turn.folder.agent.cancel(turn.id):
            return True
        turn.task.cancel()
        return True

    def cancel_all(self) -> bool:
        results = [self.cancel(turn_id) for turn_id in list(self._turns)]
        return any(results)

    def cancel_by_request(self, request_id: Any) -> bool:
        turn = next((t for t in self._turns.values() if t.request_id is not None and t.request_id == request_id), None)
        return self.cancel(turn.id) if turn is not None else False

    def cancel_by_token(self, token: Any) -> bool:
        turn = next((t for t in self._turns.values() if t.progress.token == token), None)
        return self.cancel(turn.id) if turn is not None else False

    async def wait_all(self, timeout: float) -> None:
        """Wait (bounded) for every running turn's task to finish, e.g. after cancel_all."""
        tasks = [t.task for t in self._turns.values() if t.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
