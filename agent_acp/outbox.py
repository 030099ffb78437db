"""``session/update`` notifications, sent in the order they were made.

The core reports events synchronously (``Host.report`` must not block), while the SDK sends a
notification with an ``await``. The outbox bridges the two: :meth:`Outbox.send` queues an update
at once, one task sends them in order, and :meth:`Outbox.flush` waits until everything queued so
far is written. A prompt's response, a permission request and a replayed history's answer are
sent only after a flush, so a client never sees the end of a turn before its last chunk.

Once the client is gone (stdin closed, stdout broken) updates are dropped: the turn still ends
and is saved; there is just nobody left to show it to.
"""

from __future__ import annotations

import asyncio
import logging

from acp.interfaces import Client
from acp.schema import (
    AgentMessageChunk,
    AgentThoughtChunk,
    AvailableCommandsUpdate,
    SessionInfoUpdate,
    ToolCallProgress,
    ToolCallStart,
    UsageUpdate,
    UserMessageChunk,
)

logger = logging.getLogger(__name__)

#: Every kind of update this agent sends.
Update = (
    UserMessageChunk
    | AgentMessageChunk
    | AgentThoughtChunk
    | ToolCallStart
    | ToolCallProgress
    | AvailableCommandsUpdate
    | SessionInfoUpdate
    | UsageUpdate
)


class Outbox:
    """The ordered queue of one connection's ``session/update`` notifications."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._queue: asyncio.Queue[tuple[str, Update]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._gone = False

    def send(self, session_id: str, update: Update) -> None:
        """Queue ``update`` for ``session_id``; never blocks."""
        if self._gone:
            return
        self._queue.put_nowait((session_id, update))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain(), name="acp-outbox")

    async def flush(self) -> None:
        """Wait until every update queued so far has been written (or dropped)."""
        await self._queue.join()

    async def _drain(self) -> None:
        while not self._queue.empty():
            session_id, update = self._queue.get_nowait()
            try:
                if not self._gone:
                    await self._client.session_update(session_id=session_id, update=update)
            except ConnectionError:
                logger.info("the client is gone; session updates are no longer sent")
                self._gone = True
            except Exception:  # one bad update must not stop the ones after it
                logger.exception("could not send a session/update")
            finally:
                self._queue.task_done()
