"""A fake :class:`agent_core.clock.Clock`: sleeping advances time instantly and is recorded.

Retry tests assert the exact waits (``sleeps``) without waiting for real; ``random_values``
fixes the jitter so the SDK formula can be checked to the last digit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


class FakeClock:
    def __init__(
        self, start: float = 1000.0, wall_start: float = 1_700_000_000.0, random_values: Iterable[float] = (0.0,)
    ) -> None:
        self.t = start
        self._wall_offset = wall_start - start
        self._random = list(random_values) or [0.0]
        self._next = 0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def wall(self) -> float:
        return self.t + self._wall_offset

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        await asyncio.sleep(0)  # still a suspension point, like the real one

    def random(self) -> float:
        """The scripted values in turn, repeating the last one."""
        value = self._random[min(self._next, len(self._random) - 1)]
        self._next += 1
        return value
