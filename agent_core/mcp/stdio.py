"""The stdio transport: an MCP server as a child process in its own process group.

The SDK ships a stdio transport; this one exists for what an agent inside an editor needs on top:

* the server's stderr goes to the log, line by line, and its last lines are kept so a crash can be
  explained ("exited with code 1: ModuleNotFoundError: ...");
* the process and everything it started share a new process group, stopped together (stdin
  closed, then SIGTERM, then SIGKILL to the group) within about a second, so shutdown stays inside
  an editor's grace period;
* a message is read as one line of any length up to :data:`MAX_MESSAGE` bytes, in linear time (a
  50 MB tool result arrives whole; a larger one ends the connection with a clear error instead
  of exhausting memory);
* the environment is built by the caller (:func:`child_env`): only a few harmless variables are
  inherited, never a provider API key unless the user's own config sets it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

logger = logging.getLogger(__name__)

#: The longest message (one JSON line) read from a server.
MAX_MESSAGE = 256 * 1024 * 1024
#: Variables a server inherits from the agent's environment (besides what its config sets).
INHERITED = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR")
#: Seconds a server gets to exit after its stdin closes, and again after SIGTERM.
STOP_GRACE = 0.4
#: stderr lines kept to explain a crash.
TAIL_LINES = 5
#: A stderr line longer than this is cut in the log.
LOG_LINE = 2000


def child_env(env: Mapping[str, str], extra: Mapping[str, str], secrets: frozenset[str]) -> dict[str, str]:
    """The environment of a server: :data:`INHERITED` from ``env`` (no provider key among them),
    then its config's own ``env``."""
    base = {name: env[name] for name in INHERITED if name in env and name not in secrets}
    return {**base, **extra}


@dataclass
class ServerProcess:
    """The running child: its pid, how it ended, and its last stderr lines."""

    name: str
    process: asyncio.subprocess.Process
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    #: Set when the connection was ended by us for a reason (a message too large).
    problem: str | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def why_ended(self) -> str:
        """One sentence: the exit code (or signal) and the server's last words on stderr."""
        if self.problem:
            return self.problem
        code = self.process.returncode
        if code is None:
            what = "closed its output"
        elif code < 0:
            what = f"was killed by signal {-code}"
        else:
            what = f"exited with code {code}"
        last = " | ".join(self.tail)
        return f"{what}: {last}" if last else what

    def kill_group(self, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)


Streams = tuple[MemoryObjectReceiveStream[Any], MemoryObjectSendStream[Any], ServerProcess]


@contextlib.asynccontextmanager
async def stdio_transport(
    name: str, command: str, args: tuple[str, ...], env: dict[str, str], cwd: Path
) -> AsyncIterator[Streams]:
    """Start the server and yield the SDK's stream pair plus the process; stop it on exit.
    Raises OSError when the program cannot be started (not found, not executable)."""
    from mcp.shared.message import SessionMessage
    from mcp_types import jsonrpc_message_adapter

    process = await asyncio.create_subprocess_exec(
        command,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=cwd,
        start_new_session=True,
        limit=MAX_MESSAGE,
    )
    server = ServerProcess(name, process)
    read_send, read_receive = anyio.create_memory_object_stream[Any](0)
    write_send, write_receive = anyio.create_memory_object_stream[Any](0)
    assert process.stdout is not None and process.stdin is not None and process.stderr is not None
    stdout, stdin, stderr = process.stdout, process.stdin, process.stderr

    async def read() -> None:
        try:
            async with read_send:
                while True:
                    try:
                        line = await stdout.readuntil(b"\n")
                    except asyncio.IncompleteReadError as end:
                        line = end.partial
                        if not line.strip():
                            break
                    except asyncio.LimitOverrunError:
                        server.problem = (
                            f"sent a message larger than {MAX_MESSAGE // 2**20} MB; the connection was closed"
                        )
                        server.kill_group()
                        break
                    if not line.strip():
                        continue
                    try:
                        message = jsonrpc_message_adapter.validate_json(line, by_name=False)
                    except ValueError:
                        logger.warning("MCP server %s wrote a line that is not JSON-RPC: %.200r", name, line)
                        continue
                    await read_send.send(SessionMessage(message))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass
        finally:
            # The exit code explains the end; give the process a moment to report it.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), STOP_GRACE)
            server.ended.set()

    async def write() -> None:
        try:
            async with write_receive:
                async for message in write_receive:
                    body = message.message.model_dump_json(by_alias=True, exclude_unset=True)
                    stdin.write(body.encode() + b"\n")
                    await stdin.drain()
        except (OSError, anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass  # the server is gone: the reader sees the end and says why

    async def log_stderr() -> None:
        with contextlib.suppress(OSError, ValueError):
            while raw := await stderr.readline():
                text = raw.decode("utf-8", "replace").rstrip()
                if text:
                    server.tail.append(text[:300])
                    logger.info("[%s] %s", name, text[:LOG_LINE])

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(read)
            group.start_soon(write)
            group.start_soon(log_stderr)
            try:
                yield read_receive, write_send, server
            finally:
                with anyio.CancelScope(shield=True):
                    await _stop(server)
                group.cancel_scope.cancel()
    finally:
        for stream in (read_receive, write_send):
            stream.close()


async def _stop(server: ServerProcess) -> None:
    """Close stdin, then SIGTERM and SIGKILL the whole group, each after a short grace."""
    process = server.process
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), STOP_GRACE)
        # Even after the leader exited, whatever it started may still run in its group.
        server.kill_group(sig)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), STOP_GRACE)
    if process.returncode is None:
        logger.warning("MCP server %s (pid %d) did not stop after SIGKILL", server.name, process.pid)
