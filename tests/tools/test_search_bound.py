"""search_text is bounded in time and never stalls the event loop, whatever the pattern.

``(a+)+$`` against a line of 28 a's and a "!" backtracks for tens of seconds in Python's ``re``;
run in a thread it held the GIL all that time, so every other request (cancel included) waited.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path

from agent_core.config import AgentConfig
from tests.fakes.doubles import wait_gone
from tests.tools.helpers import Tools

SLOW = r"hit|(a+)+$"
LINES = "hit one\n" + "a" * 28 + "!\n" + "hit two\n"


async def test_a_catastrophic_pattern_is_stopped_while_the_loop_keeps_running(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(LINES)
    tools = Tools(tmp_path, AgentConfig.model_validate({"searchTimeout": 1}))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    started = time.monotonic()
    try:
        outcome = await asyncio.wait_for(tools.run("search_text", pattern=SLOW), 60)
    finally:
        ticking.cancel()
    elapsed = time.monotonic() - started
    assert outcome.is_error
    assert outcome.output.startswith("a.txt:1:hit one\n[search_text stopped after 1 s (searchTimeout): ")
    assert "pattern is too slow" in outcome.output
    assert elapsed < 6  # the 1 s limit plus a loaded machine's process start and kill
    assert ticks >= 10  # the loop answered all along (a tick every 10 ms while it was free)


async def test_cancel_kills_the_search_at_once(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(LINES)
    tools = Tools(tmp_path, AgentConfig.model_validate({"searchTimeout": 60}))
    search = asyncio.create_task(tools.run("search_text", pattern=SLOW))
    worker = await wait_for_child()
    search.cancel()
    started = time.monotonic()
    with contextlib.suppress(asyncio.CancelledError):
        await search
    assert time.monotonic() - started < 0.5
    assert await wait_gone(worker)


async def wait_for_child(timeout: float = 10.0) -> int:
    """The pid of this process's first child (the search worker), waiting for it to start."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = _children()
        if children:
            return children[0]
        await asyncio.sleep(0.01)
    raise AssertionError("no child process started")


def _children() -> list[int]:
    children = []
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        with open(f"/proc/{os.getpid()}/task/{task}/children") as listing:
            children += [int(pid) for pid in listing.read().split()]
    return children
