"""Starting the fake MCP server (tests/fakes/mcp_server.py) the way a config names it, and
waiting for things with a bound."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

FAKE = Path(__file__).resolve().parents[1] / "fakes" / "mcp_server.py"
#: Starting a Python MCP server takes seconds on a busy machine (importing the SDK).
START = 60.0


def stdio(*extra: str) -> dict[str, Any]:
    """A config entry starting the fake server over stdio."""
    return {"command": sys.executable, "args": [str(FAKE), *extra]}


@contextmanager
def http_server(folder: Path) -> Iterator[str]:
    """The fake server on streamable HTTP (127.0.0.1, a free port); yields its URL."""
    port_file = folder / "mcp-port"
    process = subprocess.Popen([sys.executable, str(FAKE), "--http", str(port_file)])
    try:
        deadline = time.monotonic() + START
        while not (port_file.exists() and port_file.read_text()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the HTTP MCP server did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port_file.read_text()}/mcp"
    finally:
        process.kill()
        process.wait()


async def until(condition: Callable[[], bool], timeout: float = START) -> None:
    """Until ``condition()`` holds (checked every 20 ms), at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.02)
