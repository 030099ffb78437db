"""Every request to the editor is bounded: an editor that never answers must not hold a turn.

A permission question waits at most ``approvalTimeout`` seconds (no answer is a rejection the
model reads), a file read or write through the editor at most ``editTimeout`` (a read then falls
back to the disk, a write fails with the reason). The timeout names its setting, so the user
knows what to raise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


class NoAnswer(Exception):
    """The editor did not answer a request in time."""


async def within(work: Awaitable[T], seconds: float, method: str, setting: str) -> T:
    """``await work``, or :class:`NoAnswer` after ``seconds`` (the request is abandoned)."""
    try:
        return await asyncio.wait_for(work, seconds)
    except TimeoutError:
        raise NoAnswer(f"the editor did not answer {method} within {seconds:g} s ({setting})") from None
