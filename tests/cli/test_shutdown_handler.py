"""ShutdownHandler in-process: the first signal cancels the turn, a stuck program is cancelled
after the grace period, a second signal forces at once, and handlers are removed on exit."""

from __future__ import annotations

import asyncio
import os
import signal

from agent_cli.shutdown import ShutdownHandler


class Target:
    """Stands in for the agent: records cancels, and says whether a turn was running."""

    def __init__(self, running: bool) -> None:
        self.running = running
        self.cancels = 0
        self.cancelled = asyncio.Event()

    def cancel(self) -> bool:
        self.cancels += 1
        self.cancelled.set()
        return self.running


async def test_first_signal_cancels_the_turn_and_the_program_ends_itself() -> None:
    target = Target(running=True)
    with ShutdownHandler(target, grace=30) as handler:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(target.cancelled.wait(), 5)
    assert handler.received == signal.SIGTERM and handler.exit_code == 143
    assert target.cancels == 1
    # Leaving the block removed our handler and its grace timer: SIGTERM is the default again.
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


async def test_a_turn_that_does_not_stop_is_cancelled_after_the_grace_period() -> None:
    target = Target(running=True)

    async def main() -> str:
        with ShutdownHandler(target, grace=0.05):
            os.kill(os.getpid(), signal.SIGINT)
            try:
                await asyncio.Event().wait()  # a turn that ignores the cancel
            except asyncio.CancelledError:
                return "cancelled"
        return "not cancelled"

    assert await asyncio.wait_for(main(), 5) == "cancelled"


async def test_second_signal_forces_and_nothing_running_stops_at_once() -> None:
    idle = Target(running=False)

    async def idle_main() -> str:
        with ShutdownHandler(idle, grace=30):
            os.kill(os.getpid(), signal.SIGTERM)
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                return "stopped"
        return "kept waiting"

    assert await asyncio.wait_for(idle_main(), 5) == "stopped"

    busy = Target(running=True)

    async def busy_main() -> str:
        with ShutdownHandler(busy, grace=30) as handler:
            os.kill(os.getpid(), signal.SIGINT)
            await asyncio.wait_for(busy.cancelled.wait(), 5)
            os.kill(os.getpid(), signal.SIGINT)
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                return f"forced after {handler.received}"
        return "kept waiting"

    assert await asyncio.wait_for(busy_main(), 5) == f"forced after {signal.SIGINT}"
