"""SIGINT/SIGTERM for an asyncio program that drives agents: the terminal and the language server.

Closing a terminal or an editor sends SIGTERM (Ctrl-C sends SIGINT) in the middle of an answer or
of a running command. What the user must find afterwards: the partial answer kept and marked
interrupted, the running tool call given an "interrupted" result, the session file closed, so the
resumed session's next request is valid for every provider (fault case 15). And the process must
be gone within 2 seconds, or the editor kills it harder and nothing is saved.

So the first signal cancels the running turn (the agent loop stops the HTTP stream and kills a
running subprocess within 100 ms and saves the partial messages itself); if the program has not
finished after ``grace`` seconds, or on a second signal, the main task is cancelled outright, and
the caller's ``finally`` closes the session. The terminal passes its agent as the target; the
language server passes none (its main task is cancelled at once, and its ``finally`` cancels and
saves every turn, see :mod:`lsp_server.transport`).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from types import TracebackType
from typing import Protocol

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Cancellable(Protocol):
    def cancel(self) -> bool:
        """Stop the running turn; True if one was running."""
        ...


class ShutdownHandler:
    """Installs the handlers on the running loop for the life of a ``with`` block.

    ``target`` is the agent (anything with ``cancel()``), or None when there is nothing to wind
    down first; ``main`` is the task to cancel when the turn does not end on its own in time
    (default: the task that enters the block). ``on_signal`` is told of the first signal.
    ``received`` is the first signal number, so the caller can exit with ``128 + signal``.
    """

    def __init__(
        self,
        target: Cancellable | None,
        *,
        grace: float = 1.5,
        main: asyncio.Task[object] | None = None,
        on_signal: Callable[[int], None] | None = None,
    ) -> None:
        self.target = target
        self.grace = grace
        self.main = main
        self.on_signal = on_signal
        self.received: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._installed: list[int] = []

    @property
    def exit_code(self) -> int | None:
        """The conventional exit status for the signal received (130 for SIGINT, 143 for SIGTERM)."""
        return None if self.received is None else 128 + self.received

    def install(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self.main is None:
            self.main = asyncio.current_task()
        for number in SIGNALS:
            try:
                self._loop.add_signal_handler(number, self._handle, number)
            except NotImplementedError:  # Windows: no signal handlers on the event loop
                return
            self._installed.append(number)

    def remove(self) -> None:
        if self._loop is None:
            return
        for number in self._installed:
            self._loop.remove_signal_handler(number)
        self._installed.clear()
        if self._timer is not None:
            self._timer.cancel()
        self._loop = None

    def __enter__(self) -> ShutdownHandler:
        self.install()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.remove()

    def _handle(self, number: int) -> None:
        if self.received is not None:
            self._force()  # a second signal: the user means it
            return
        self.received = number
        if self.on_signal is not None:
            self.on_signal(number)
        if self.target is not None and self.target.cancel():
            assert self._loop is not None
            self._timer = self._loop.call_later(self.grace, self._force)
        else:
            self._force()  # nothing to wind down: stop whatever the program is waiting on

    def _force(self) -> None:
        if self.main is not None and not self.main.done():
            self.main.cancel()
