"""Logging for a process whose stdout carries JSON-RPC.

A single stray line on stdout corrupts the stream and the editor drops the server ("broken pipe"),
so nothing here ever writes to stdout. Records of the agent's own loggers (``agent_core``,
``lsp_server``) go to the editor as ``window/logMessage`` (VS Code's output channel, Neovim's
``:LspLog``) and, with ``--log-file``, to a file with timestamps. pygls' own logger is never
forwarded to the editor: it logs every message it sends, so forwarding it would feed itself.

The log file is private (:func:`agent_core.log_file.open_log_file`: ``0600``, never through a
link, a regular file only). What could hold secrets (approval diffs, prompts, tool output, and with
pygls' logger every message) is logged at debug level only, which needs ``-v``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from agent_core.log_file import open_log_file

FORWARDED = ("agent_core", "lsp_server")

_LEVELS = (
    (logging.ERROR, types.MessageType.Error),
    (logging.WARNING, types.MessageType.Warning),
    (logging.INFO, types.MessageType.Info),
)


class LogMessageHandler(logging.Handler):
    """Sends records as ``window/logMessage`` once a client is connected; safe from any thread."""

    def __init__(self, server: LanguageServer, level: int) -> None:
        super().__init__(level)
        self._server = server
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._sending = threading.local()

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Remember the server's loop: records from other threads are handed to it, never written
        concurrently with the loop's own messages."""
        self._loop = loop
        self._loop_thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if self._loop is None or self._server.protocol.writer is None:
            return
        try:
            message = self.format(record)
        except Exception:
            self.handleError(record)
            return
        kind = next((kind for level, kind in _LEVELS if record.levelno >= level), types.MessageType.Log)
        params = types.LogMessageParams(type=kind, message=message)
        if threading.get_ident() == self._loop_thread:
            self._send(params)
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._send, params)

    def _send(self, params: types.LogMessageParams) -> None:
        if getattr(self._sending, "active", False):
            return  # a record logged while sending one: dropping it beats recursion
        self._sending.active = True
        try:
            self._server.window_log_message(params)
        except Exception:  # the client is gone; the log file (if any) still has the record
            pass
        finally:
            self._sending.active = False


def configure(server: LanguageServer, *, verbose: bool, log_file: Path | None) -> LogMessageHandler:
    """Set up logging for the server process and return the editor handler (bind its loop once
    the loop runs). Raises :class:`LogFileError` before changing anything when ``log_file``
    cannot be used."""
    log_stream = open_log_file(log_file) if log_file is not None else None
    level = logging.DEBUG if verbose else logging.INFO
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.StreamHandler) and getattr(handler, "stream", None) is sys.stdout:
            root.removeHandler(handler)
    root.setLevel(level)  # below the level no record is even created (httpcore logs every chunk)

    editor = LogMessageHandler(server, level)
    editor.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    for name in FORWARDED:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.addHandler(editor)

    # Libraries log details at INFO that belong to debug here: pygls every message it sends,
    # httpx every request URL (with any user:password in a base URL).
    for library in ("pygls", "httpx", "httpcore"):
        logging.getLogger(library).setLevel(logging.DEBUG if verbose else logging.WARNING)
    # Anything unhandled still reaches stderr (which editors show), never stdout.
    fallback = logging.StreamHandler(sys.stderr)
    fallback.setLevel(logging.WARNING)
    root.addHandler(fallback)

    if log_stream is not None:
        file_handler = logging.StreamHandler(log_stream)
        file_handler.setLevel(logging.DEBUG if verbose else logging.INFO)
        file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(file_handler)
    return editor
