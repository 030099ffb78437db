"""One turn's events -> the protocol's ``agent/*`` notifications, with text deltas coalesced.

A fast model (or a local server on loopback) can emit hundreds of tiny text deltas per second.
Sending one notification per delta floods the editor's message loop and its UI (every VS Code
webview post and every Neovim buffer update costs far more than a few characters), so deltas
are buffered and sent at most once per ``interval`` per turn. Coalescing must never lose or
reorder text: every other event of the turn (tool call, retry, notice, end) first flushes the
pending text, and the end of the turn flushes whatever is left.

The first delta after a quiet period goes out at once, so the first token's latency is not
raised by the coalescing window.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Literal, Protocol

from agent_core.events import (
    Event,
    MessageAdded,
    Notice,
    RetryScheduled,
    StreamFinished,
    TextDelta,
    ToolCallReady,
    ToolCallStarted,
    ToolFinished,
    ToolStarted,
    TurnEnded,
    TurnStarted,
    UsageReported,
)
from agent_core.messages import Usage
from lsp_server.transcript import usage_to_protocol

logger = logging.getLogger(__name__)

#: Seconds between two text notifications of one turn: at most 20 per second.
DEFAULT_INTERVAL = 0.05

#: How a stream sends a notification: ``(method, params)``.
Notify = Callable[[str, dict[str, Any]], None]

TurnKind = Literal["chat", "inlineEdit"]


class ProgressSink(Protocol):
    """The work-done progress of a turn (see :mod:`lsp_server.progress`)."""

    def report(self, message: str) -> None: ...

    def end(self, message: str) -> None: ...


class DeltaCoalescer:
    """Joins text pieces and hands them to ``send`` at most once per ``interval`` seconds.

    ``flush()`` sends the pending text now (callers do this before any other event); a timer
    on the running loop sends it otherwise.
    """

    def __init__(
        self,
        send: Callable[[str], None],
        interval: float = DEFAULT_INTERVAL,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._send = send
        self._interval = interval
        self._loop = loop or asyncio.get_running_loop()
        self._pending: list[str] = []
        self._timer: asyncio.TimerHandle | None = None
        self._last_sent = float("-inf")

    def add(self, text: str) -> None:
        if not text:
            return
        self._pending.append(text)
        if self._timer is not None:
            return
        wait = self._last_sent + self._interval - self._loop.time()
        if wait <= 0:
            self.flush()
        else:
            self._timer = self._loop.call_later(wait, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        self._last_sent = self._loop.time()
        self._send(text)


class TurnStream:
    """Everything the client hears about one turn, in order, ending exactly once."""

    def __init__(
        self,
        turn_id: str,
        kind: TurnKind,
        notify: Notify,
        *,
        progress: ProgressSink | None = None,
        interval: float = DEFAULT_INTERVAL,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.turn_id = turn_id
        self.kind = kind
        self._notify = notify
        self.progress = progress
        self._deltas = DeltaCoalescer(self._send_text, interval, loop)
        #: The latest usage the provider reported (cumulative per response; for inline edits,
        #: whose turns have no loop to sum it up).
        self.usage = Usage()
        self.ended = False
        self._wrote_text = False

    def started(self, prompt: str) -> None:
        self._notify("agent/turnStarted", {"turnId": self.turn_id, "kind": self.kind, "prompt": prompt})

    def report(self, event: Event) -> None:
        """Forward one core event. Events clients have no use for (stream finished, message
        added, a tool call's arguments complete) are not sent; nothing is sent after the end."""
        if self.ended:
            logger.debug("event after the end of turn %s dropped: %s", self.turn_id, event.type)
            return
        if isinstance(event, TextDelta):
            self._deltas.add(event.text)
            return
        if isinstance(event, UsageReported):
            self.usage = event.usage
            return
        if isinstance(event, TurnEnded):
            self.end(event)
            return
        if isinstance(event, (StreamFinished, TurnStarted, MessageAdded, ToolCallReady)):
            return
        self._deltas.flush()
        if isinstance(event, ToolCallStarted):
            self._tool_call({"id": event.id, "name": event.name, "status": "started"})
        elif isinstance(event, ToolStarted):
            self._tool_call({"id": event.call.id, "name": event.call.name, "status": "running",
                             "arguments": event.call.arguments})
            self._progress(f"Running {event.call.name}")
        elif isinstance(event, ToolFinished):
            self._tool_call({"id": event.call_id, "name": event.name, "status": "finished",
                             "output": event.output, "isError": event.is_error})
        elif isinstance(event, RetryScheduled):
            self._notify("agent/retry", {
                "turnId": self.turn_id, "attempt": event.attempt, "maxAttempts": event.max_attempts,
                "delay": event.delay, "reason": event.reason,
            })
            self._progress(f"Retry {event.attempt}/{event.max_attempts} in {event.delay:.1f}s: {event.reason}")
        elif isinstance(event, Notice):
            self._notify("agent/notice", {"turnId": self.turn_id, "level": event.level, "text": event.text})

    def flush(self) -> None:
        """Send pending text now (before a notification that must come after it)."""
        self._deltas.flush()

    def end(self, ended: TurnEnded) -> None:
        """Flush, end the progress, send ``agent/turnEnded``; later calls do nothing."""
        if self.ended:
            return
        self._deltas.flush()
        self.ended = True
        # Progress first: when the client sees agent/turnEnded, nothing else of the turn follows.
        if self.progress is not None:
            self.progress.end(_END_MESSAGES.get(ended.stop_reason, ended.stop_reason))
        params: dict[str, Any] = {
            "turnId": self.turn_id,
            "stopReason": ended.stop_reason,
            "usage": usage_to_protocol(ended.usage),
        }
        if ended.error:
            params["error"] = ended.error
        self._notify("agent/turnEnded", params)

    def _send_text(self, text: str) -> None:
        self._notify("agent/textDelta", {"turnId": self.turn_id, "text": text})
        if not self._wrote_text:
            self._wrote_text = True
            self._progress("Writing" if self.kind == "chat" else "Writing the proposal")

    def _tool_call(self, params: dict[str, Any]) -> None:
        self._notify("agent/toolCall", {"turnId": self.turn_id, **params})

    def _progress(self, message: str) -> None:
        if self.progress is not None:
            self.progress.report(message)


_END_MESSAGES = {
    "end_turn": "Done",
    "cancelled": "Cancelled",
    "max_rounds": "Stopped: too many rounds",
    "max_tokens": "Stopped: output limit reached",
    "error": "Failed",
}
