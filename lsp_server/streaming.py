"""One turn's events -> the protocol's ``agent/*`` notifications, with text deltas coalesced.

The stream of a turn is what that turn's :class:`~lsp_server.host.LspHost` reports to. Its start
and its one end are sent by the turn's owner (:class:`~lsp_server.turns.TurnRegistry`), the end
from the :class:`~agent_core.events.TurnEnded` the core returned.

A fast model (or a local server on loopback) can emit hundreds of tiny text deltas per second.
Sending one notification per delta floods the editor's message loop and its UI (every VS Code
webview post and every Neovim buffer update costs far more than a few characters), so deltas
are buffered and sent at most once per ``interval`` per turn. Coalescing must never lose or
reorder text: every other event of the turn (tool call, retry, notice, end) first flushes the
pending text, the end of the provider's response (``StreamFinished``) sends the rest of its
text before the reply is saved, and the end of the turn flushes whatever is left.

The first delta after a quiet period goes out at once, so the first token's latency is not
raised by the coalescing window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from agent_core.events import (
    Event,
    Notice,
    RetryScheduled,
    StreamFinished,
    TextDelta,
    ToolCallStarted,
    ToolFinished,
    ToolStarted,
    TurnEnded,
    UsageReported,
)
from agent_core.messages import Usage
from lsp_server import wire

#: Seconds between two text notifications of one turn: at most 20 per second.
DEFAULT_INTERVAL = 0.05

#: How a stream sends a notification.
Notify = Callable[[wire.Notification], None]


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
    """Everything the client hears about one turn, in order: :meth:`started`, the events,
    :meth:`end`."""

    def __init__(
        self,
        turn_id: str,
        kind: wire.TurnKind,
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
        self._wrote_text = False

    def started(self, prompt: str) -> None:
        self._notify(wire.TurnStartedParams(turn_id=self.turn_id, kind=self.kind, prompt=prompt))

    def report(self, event: Event) -> None:
        """Forward one core event. Events clients have no use for (stream finished, message
        added, a tool call's arguments complete) are not sent; a session switch is sent by the
        host (:meth:`~lsp_server.host.LspHost.report`), not as part of the turn."""
        if isinstance(event, TextDelta):
            self._deltas.add(event.text)
            return
        if isinstance(event, UsageReported):
            self.usage = event.usage
            return
        if isinstance(event, StreamFinished):
            # The reply's text is complete: send it now, not after the turn's bookkeeping (the
            # reply is saved, durably, before the turn ends).
            self._deltas.flush()
            return
        notification = self._notification(event)
        if notification is None:
            return
        self._deltas.flush()
        self._notify(notification)
        if isinstance(event, ToolStarted):
            self._progress(f"Running {event.call.name}")
        elif isinstance(event, RetryScheduled):
            self._progress(f"Retry {event.attempt}/{event.max_attempts} in {event.delay:.1f}s: {event.reason}")

    def _notification(self, event: Event) -> wire.Notification | None:
        turn_id = self.turn_id
        if isinstance(event, ToolCallStarted):
            return wire.ToolCallParams(turn_id=turn_id, id=event.id, name=event.name, status="started")
        if isinstance(event, ToolStarted):
            call = event.call
            return wire.ToolCallParams(
                turn_id=turn_id, id=call.id, name=call.name, status="running", arguments=call.arguments
            )
        if isinstance(event, ToolFinished):
            return wire.ToolCallParams(
                turn_id=turn_id,
                id=event.call_id,
                name=event.name,
                status="finished",
                output=event.output,
                is_error=event.is_error,
            )
        if isinstance(event, RetryScheduled):
            return wire.RetryParams(
                turn_id=turn_id,
                attempt=event.attempt,
                max_attempts=event.max_attempts,
                delay=event.delay,
                reason=event.reason,
            )
        if isinstance(event, Notice):
            return wire.NoticeParams(turn_id=turn_id, level=event.level, text=event.text)
        return None

    def flush(self) -> None:
        """Send pending text now (before a notification that must come after it)."""
        self._deltas.flush()

    def end(self, ended: TurnEnded) -> None:
        """Flush, end the progress, send ``agent/turnEnded``: called once, by the turn's owner."""
        self._deltas.flush()
        # Progress first: when the client sees agent/turnEnded, nothing else of the turn follows.
        if self.progress is not None:
            self.progress.end(_END_MESSAGES.get(ended.stop_reason, ended.stop_reason))
        self._notify(
            wire.TurnEndedParams(
                turn_id=self.turn_id,
                stop_reason=ended.stop_reason,
                usage=wire.TokenUsage.of(ended.usage),
                error=ended.error or None,
            )
        )

    def _send_text(self, text: str) -> None:
        self._notify(wire.TextDeltaParams(turn_id=self.turn_id, text=text))
        if not self._wrote_text:
            self._wrote_text = True
            self._progress("Writing" if self.kind == "chat" else "Writing the proposal")

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
