"""Running the server over stdio or TCP, and saving before the process ends.

pygls' own ``start_io`` reads stdin on a worker thread; a thread blocked in ``read()`` keeps the
process alive after a SIGTERM. Here stdin is read by the event loop itself (a non-blocking pipe),
so a signal can cancel the read, close every agent (cancel the turn, save the partial message,
close the session) and return, well within an editor's shutdown grace period.

The process ends for one of four reasons, all of which save first: the ``exit`` notification
(pygls exits after our handler closed the agents), end of input (the editor died), SIGTERM or
SIGINT, or the TCP client disconnecting. Over TCP a connection is served only after its first
message passed :mod:`lsp_server.tcp_auth` (loopback, token).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import threading
from typing import Any

from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async

from agent_cli.shutdown import ShutdownHandler
from agent_core.stdio import can_poll
from lsp_server.language_server import AgentLanguageServer as ClosableServer
from lsp_server.logging_setup import LogMessageHandler
from lsp_server.tcp_auth import Refused, TcpListen, read_first_message

logger = logging.getLogger(__name__)
#: pygls' message loop logs every message it reads; that belongs to pygls' (unforwarded) logger.
_io_logger = logging.getLogger("pygls.io")


class _StreamReader:
    """asyncio's StreamReader with pygls' reader interface (a short read at EOF, not an error),
    reading ``first`` (bytes already taken from the stream) before the stream itself."""

    def __init__(self, reader: asyncio.StreamReader, first: bytes = b"") -> None:
        self._reader = reader
        self._first = first

    async def readline(self) -> bytes:
        if self._first:
            end = self._first.find(b"\n") + 1 or len(self._first)
            line, self._first = self._first[:end], self._first[end:]
            return line
        return await self._reader.readline()

    async def readexactly(self, n: int) -> bytes:
        head, self._first = self._first[:n], self._first[n:]
        if len(head) == n:
            return head
        try:
            return head + await self._reader.readexactly(n - len(head))
        except asyncio.IncompleteReadError as exc:
            return head + exc.partial


async def _stdin_reader() -> Any:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**20)
    if not can_poll(sys.stdin.fileno()):
        # a regular file (a recorded session replayed) or /dev/null: read on a worker thread, as
        # pygls does
        return StdinAsyncReader(sys.stdin.buffer)
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    except (ValueError, OSError, NotImplementedError):  # a platform without pipe transports
        return StdinAsyncReader(sys.stdin.buffer)
    return _StreamReader(reader)


async def _serve_stdio(server: ClosableServer, stop: threading.Event) -> None:
    reader = await _stdin_reader()
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))
    await run_async(
        stop_event=stop,
        reader=reader,
        protocol=server.protocol,
        logger=_io_logger,
        error_handler=server.report_server_error,
    )


async def _serve_tcp(server: ClosableServer, stop: threading.Event, tcp: TcpListen) -> None:
    finished = asyncio.Event()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if server.protocol.writer is not None:
            writer.close()  # one client per server process
            return
        try:
            first = await read_first_message(reader, tcp.token)
        except Refused as refusal:
            logger.warning("refused a connection from %s: %s", writer.get_extra_info("peername"), refusal)
            writer.write(refusal.answer)
            writer.close()
            return
        if server.protocol.writer is not None:  # another client got in while this one was checked
            writer.close()
            return
        server.protocol.set_writer(writer)
        try:
            await run_async(
                stop_event=stop,
                reader=_StreamReader(reader, first),
                protocol=server.protocol,
                logger=_io_logger,
                error_handler=server.report_server_error,
            )
        finally:
            finished.set()

    listener = await asyncio.start_server(connection, tcp.host, tcp.port)
    address = listener.sockets[0].getsockname()
    # stderr, never stdout; a launcher that asked for port 0 reads the real port here, and the
    # token on the next line when it was made up for this run.
    sys.stderr.write(f"agent-lsp: listening on {address[0]}:{address[1]}\n")
    if tcp.generated:
        sys.stderr.write(f"agent-lsp: token {tcp.token}\n")
    sys.stderr.flush()
    async with listener:
        await finished.wait()


async def _main(server: ClosableServer, log_handler: LogMessageHandler, tcp: TcpListen | None) -> None:
    log_handler.bind_loop(asyncio.get_running_loop())
    stop = threading.Event()

    def on_signal(signum: int) -> None:
        logger.info("received %s: saving and exiting", signal.Signals(signum).name)
        stop.set()

    # A signal cancels this task (without signal support, the exit notification and end of
    # input still save); the finally below cancels the turns and saves.
    with ShutdownHandler(None, on_signal=on_signal):
        try:
            if tcp is not None:
                await _serve_tcp(server, stop, tcp)
            else:
                await _serve_stdio(server, stop)
        except asyncio.CancelledError:
            pass
        finally:
            await server.aclose()


def serve(server: ClosableServer, log_handler: LogMessageHandler, *, tcp: TcpListen | None) -> int:
    """Serve until exit; returns the process exit code."""
    try:
        asyncio.run(_main(server, log_handler, tcp))
    except SystemExit as exc:  # the LSP ``exit`` notification (after the agents were closed)
        return exc.code if isinstance(exc.code, int) else 0
    except BrokenPipeError:
        logger.error("the connection to the editor was lost")
        return 1
    return 0
