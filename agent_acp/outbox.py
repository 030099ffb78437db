"""``session/update`` notifications, written the moment they are made.

The core reports events synchronously (``Host.report`` must not block), and a text delta should
reach the editor at once, not when the event loop next gets round to a sending task (a fast
stream can hand over dozens of deltas before it yields). So updates are not sent through the
SDK's ``await``-ing ``session_update`` but written straight to the transport, whole lines, in the
order they are made: the SDK's connection writes its responses and requests to the same
transport, also synchronously, so a prompt's response, a permission question or a replayed
history's answer can never overtake an update made before it.

Once the client is gone (stdout broken) updates are dropped: the turn still ends and is saved;
there is just nobody left to show it to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from acp.meta import CLIENT_METHODS
from acp.schema import (
    AgentMessageChunk,
    AgentThoughtChunk,
    AvailableCommandsUpdate,
    SessionInfoUpdate,
    SessionNotification,
    ToolCallProgress,
    ToolCallStart,
    UsageUpdate,
    UserMessageChunk,
)
from acp.utils import serialize_params

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

#: Writes one JSON-RPC message now (raises ``ConnectionError`` once the client is gone).
Write = Callable[[dict[str, Any]], None]


class Outbox:
    """One connection's ``session/update`` notifications (see the module docstring)."""

    def __init__(self, write: Write) -> None:
        self._write = write
        self._gone = False

    def send(self, session_id: str, update: Update) -> None:
        """Write ``update`` for ``session_id``; never blocks on the client."""
        if self._gone:
            return
        params = serialize_params(SessionNotification(session_id=session_id, update=update))
        try:
            self._write({"jsonrpc": "2.0", "method": CLIENT_METHODS["session_update"], "params": params})
        except ConnectionError:
            logger.info("the client is gone; session updates are no longer sent")
            self._gone = True
