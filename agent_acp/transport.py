"""ACP over stdio: newline-delimited JSON-RPC, bad input answered, and a save on every way out.

The SDK's own stdio reader skips a line that is not JSON without a word, and a message that is
JSON but not JSON-RPC (an array, a response with an object for an id) can stop its receive loop.
:class:`StdioTransport` reads the lines itself and answers such input the way JSON-RPC says
(``-32700`` parse error, ``-32600`` invalid request, with the request's id when it has one), so a
client with a bug learns what is wrong and the agent keeps serving. Only well-formed messages
reach the SDK's connection. Writes go straight to stdout, whole lines, in the order they are
made; stdout carries nothing else (logs go to stderr or ``--log-file``).

The process ends for one of three reasons, and each saves first: end of input (the editor closed
the pipe or died: running turns are cancelled and their partial replies saved), SIGTERM or SIGINT
(the same, then exit with 128 + the signal), or a broken stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from typing import IO, Any, cast

from acp.core import AgentSideConnection
from acp.interfaces import Agent

from agent_acp.errors import INVALID_REQUEST, PARSE_ERROR
from agent_acp.outbox import Outbox
from agent_acp.server import AcpServer
from agent_core.stdio import can_poll
from agent_core.surrogates import valid_json

logger = logging.getLogger(__name__)

#: The longest message read (the SDK's own default): prompts can embed whole files.
MAX_LINE = 50 * 1024 * 1024
#: Seconds the shutdown may take in all (editors kill agents that linger).
SHUTDOWN_TIMEOUT = 2.0
#: Characters of a bad line quoted in the log.
LOGGED = 200


class StdioTransport:
    """JSON-RPC messages over a byte reader and a binary output (see the module docstring)."""

    def __init__(self, reader: asyncio.StreamReader, output: IO[bytes]) -> None:
        self._reader = reader
        self._output = output
        self._broken = False

    async def send(self, message: dict[str, Any]) -> None:
        self.write(message)

    async def receive(self) -> dict[str, Any] | None:
        """The next well-formed message; None at end of input."""
        while True:
            line = await self._read_line()
            if line is None:
                return None
            line = line.strip()
            if not line:
                continue
            try:
                message = json.loads(line)
            except ValueError as error:
                logger.warning("not JSON: %r (%s)", line[:LOGGED], error)
                self._answer_error(None, PARSE_ERROR, f"Parse error: the line is not JSON ({error}).")
                continue
            problem, reply_id = _problem(message)
            if problem is not None:
                logger.warning("not a JSON-RPC message: %s: %r", problem, line[:LOGGED])
                self._answer_error(reply_id, INVALID_REQUEST, f"Invalid request: {problem}.")
                continue
            # Half an emoji ("\ud83d" alone) decodes to a str that cannot be saved or sent.
            return valid_json(message)  # type: ignore[no-any-return]

    async def close(self) -> None:
        if not self._broken:
            with contextlib.suppress(OSError):
                self._output.flush()

    def write(self, message: dict[str, Any]) -> None:
        """Write one message now, as one line (raises ``ConnectionError`` once stdout is gone)."""
        if self._broken:
            raise ConnectionError("stdout is closed")
        text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        try:
            data = text.encode("utf-8") + b"\n"
        except UnicodeEncodeError:  # a lone surrogate from somewhere: sent as U+FFFD
            data = json.dumps(valid_json(message), ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        try:
            self._output.write(data)
            self._output.flush()
        except (BrokenPipeError, OSError, ValueError) as error:
            self._broken = True
            logger.info("stdout is closed: %s", error)
            raise ConnectionError("stdout is closed") from error

    def _answer_error(self, reply_id: Any, code: int, message: str) -> None:
        with contextlib.suppress(ConnectionError):  # nobody is left to answer
            self.write({"jsonrpc": "2.0", "id": reply_id, "error": {"code": code, "message": message}})

    async def _read_line(self) -> bytes | None:
        """One line without its limit: an overlong line is answered and skipped, not fatal."""
        try:
            line = await self._reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as end:
            return end.partial or None
        except asyncio.LimitOverrunError:
            await self._skip_line()
            self._answer_error(None, INVALID_REQUEST, f"Invalid request: a message longer than {MAX_LINE} bytes.")
            return b""
        return line

    async def _skip_line(self) -> None:
        while True:
            try:
                await self._reader.readuntil(b"\n")
                return
            except asyncio.LimitOverrunError as over:
                await self._reader.readexactly(over.consumed)
            except asyncio.IncompleteReadError:
                return


def _problem(message: Any) -> tuple[str | None, Any]:
    """What makes ``message`` not a JSON-RPC 2.0 request, notification or response (None when
    nothing does), and the id to answer with."""
    if isinstance(message, list):
        return "batches are not supported; send one message per line", None
    if not isinstance(message, dict):
        return f"expected a JSON object, got {type(message).__name__}", None
    has_id = "id" in message
    message_id = message.get("id")
    if has_id and (isinstance(message_id, bool) or not isinstance(message_id, (str, int, type(None)))):
        return "the id must be a string, a number or null", None
    if message.get("jsonrpc") != "2.0":
        return 'the "jsonrpc" member must be "2.0"', message_id
    if "method" in message:
        if not isinstance(message["method"], str):
            return "the method must be a string", message_id
        return None, None
    if not has_id or not ("result" in message or "error" in message):
        return "a message needs a method (a request or notification) or an id with a result or error", message_id
    return None, None


async def _stdin_reader() -> asyncio.StreamReader:
    """stdin as a stream: read by the event loop when it is a pipe or a socket (what editors
    give), else (a file replayed, ``/dev/null``: the event loop cannot poll them) by a thread."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_LINE)
    fd = sys.stdin.fileno()
    if can_poll(fd):
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
        return reader

    def feed() -> None:
        for chunk in iter(lambda: os.read(fd, 65536), b""):
            loop.call_soon_threadsafe(reader.feed_data, chunk)
        loop.call_soon_threadsafe(reader.feed_eof)

    threading.Thread(target=feed, daemon=True, name="agent-lsp-acp-stdin").start()
    return reader


async def serve_stdio(file_settings: dict[str, Any], file_problems: list[str]) -> int:
    """Serve one client on stdin/stdout until end of input or a signal; returns the exit code."""
    loop = asyncio.get_running_loop()
    transport = StdioTransport(await _stdin_reader(), sys.stdout.buffer)
    server = AcpServer(file_settings, file_problems, Outbox(transport.write))
    # The SDK's Agent protocol lists every ACP method; the server defines those it supports, and
    # the SDK's router answers any other with -32601 (method not found).
    connection = AgentSideConnection(cast(Agent, server), transport, listening=False)
    stop = asyncio.Event()
    received: list[int] = []

    def on_signal(signum: int) -> None:
        logger.info("received %s: saving and exiting", signal.Signals(signum).name)
        received.append(signum)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    listening = asyncio.create_task(connection.listen(), name="acp-listen")
    stopping = asyncio.create_task(stop.wait(), name="acp-signals")
    try:
        await asyncio.wait({listening, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if listening.done() and not listening.cancelled() and listening.exception() is not None:
            logger.error("the connection failed: %s", listening.exception())
        elif listening.done():
            logger.info("end of input: saving and exiting")
        try:
            await asyncio.wait_for(server.aclose(), SHUTDOWN_TIMEOUT)
        except TimeoutError:
            logger.error("shutdown took longer than %.1f s; exiting anyway", SHUTDOWN_TIMEOUT)
    finally:
        stopping.cancel()
        listening.cancel()
        await connection.close()
    return 128 + received[0] if received else 0
