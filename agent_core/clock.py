"""Time as a dependency, so retry timing is tested with an injected clock, never real waits."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale."""
        ...

    def wall(self) -> float:
        """Seconds since the epoch (for HTTP-date ``retry-after``)."""
        ...

    async def sleep(self, seconds: float) -> None: ...

    def random(self) -> float:
        """Uniform in [0, 1): the jitter source."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def random(self) -> float:
        return random.random()
