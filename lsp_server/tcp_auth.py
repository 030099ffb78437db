"""Who may talk to ``agent-lsp --tcp``: loopback by default, and only a client with the token.

Over stdio the only client is the editor that started the server. A TCP port is open to every
process on the machine (and with a non-loopback address to the network), and whoever connects
first would drive an agent that edits files and runs commands. So:

* the server listens on loopback addresses only, unless ``--allow-remote`` says otherwise;
* a client proves itself with a token, random per run (printed on stderr after the port) or
  read from ``--token-file``. It goes where every LSP client can already put something: the
  ``initialize`` request's ``initializationOptions.token`` (Neovim's ``init_options``, VS Code's
  ``initializationOptions``, Emacs' and Helix' equivalents). A custom first line on the socket
  would need a custom transport in every client; this needs none;
* the first message of a connection must be that ``initialize``, read here before pygls sees
  anything, bounded in size and time. Anything else (no token, a wrong one, another method,
  not LSP at all) is answered with an error when it was an ``initialize`` request and the
  connection is closed: no agent, no session, nothing else runs. The token is removed from the
  message before pygls reads it, so it never reaches the settings or a log.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import secrets
import socket
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The ``initializationOptions`` key that carries the token.
TOKEN_KEY = "token"
#: How long a new connection may take to send its ``initialize``.
FIRST_MESSAGE_TIMEOUT = 10.0
#: The largest ``initialize`` accepted (real ones are a few kilobytes of capabilities).
MAX_FIRST_MESSAGE = 1 << 20
_MAX_HEADER_LINES = 16


class TcpSetupError(Exception):
    """The ``--tcp`` options cannot be used as given; the message says why and what to do."""


@dataclass(frozen=True)
class TcpListen:
    """Where to listen and the token a client must send."""

    host: str
    port: int
    token: str
    #: True when the token was made up for this run (it is printed for the launcher).
    generated: bool


def tcp_settings(host: str, port: int, *, token_file: Path | None, allow_remote: bool) -> TcpListen:
    """Check the ``--tcp`` options and get the token; raises :class:`TcpSetupError`."""
    check_host(host, allow_remote=allow_remote)
    token, generated = load_token(token_file)
    return TcpListen(host, port, token, generated)


class Refused(Exception):
    """The connection did not authenticate; ``answer`` (framed JSON-RPC) is sent before closing."""

    def __init__(self, reason: str, answer: bytes = b"") -> None:
        super().__init__(reason)
        self.answer = answer


def check_host(host: str, *, allow_remote: bool) -> None:
    """Refuse a host that is not a loopback address unless ``allow_remote``."""
    if allow_remote or _is_loopback(host):
        return
    raise TcpSetupError(
        f"--tcp {host} listens beyond this machine, where anyone who reaches the port could try to "
        "drive the agent. Use 127.0.0.1 (or ::1), or add --allow-remote if that is what you mean "
        "(the token is still required)"
    )


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError as exc:
        raise TcpSetupError(f"--tcp: cannot resolve {host!r} ({exc})") from None
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def load_token(path: Path | None) -> tuple[str, bool]:
    """The token, and whether it was generated (then the caller prints it). A token file must be
    private to the user (like an SSH key) and not empty."""
    if path is None:
        return secrets.token_urlsafe(32), True
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise TcpSetupError(f"cannot read --token-file {path}: {exc}") from None
    if mode & 0o077:
        raise TcpSetupError(f"--token-file {path} can be read by other users (mode {mode:o}); run chmod 600 on it")
    if not token:
        raise TcpSetupError(f"--token-file {path} is empty")
    return token, False


async def read_first_message(reader: asyncio.StreamReader, token: str) -> bytes:
    """Read and check a connection's first message (see the module docstring); returns it framed
    again without the token, or raises :class:`Refused`."""
    try:
        body = await asyncio.wait_for(_read_frame(reader), FIRST_MESSAGE_TIMEOUT)
    except TimeoutError:
        raise Refused("no initialize within the time allowed") from None
    try:
        message = json.loads(body)
    except ValueError:
        raise Refused("the first message is not JSON") from None
    if not isinstance(message, dict) or message.get("method") != "initialize" or "id" not in message:
        raise Refused("the first message is not an initialize request")
    params = message.get("params")
    options = params.get("initializationOptions") if isinstance(params, dict) else None
    given = options.pop(TOKEN_KEY, None) if isinstance(options, dict) else None
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), token.encode()):
        raise Refused(
            "no valid token", _error(message["id"], "agent-lsp over TCP needs its token in initializationOptions.token")
        )
    return frame(message)


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    length = None
    for _ in range(_MAX_HEADER_LINES):
        try:
            line = await reader.readuntil(b"\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            raise Refused("the first message is not an LSP message") from None
        if line == b"\r\n":
            break
        name, _, value = line.decode("ascii", "replace").partition(":")
        if name.strip().lower() == "content-length" and value.strip().isdigit():
            length = int(value.strip())
    else:
        raise Refused("the first message has too many header lines")
    if length is None or length > MAX_FIRST_MESSAGE:
        raise Refused("the first message has no usable Content-Length")
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        raise Refused("the connection closed during the first message") from None


def frame(message: Any) -> bytes:
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _error(msg_id: Any, text: str) -> bytes:
    # -32600 Invalid Request: LSP has no code for "not allowed".
    return frame({"jsonrpc": "2.0", "id": msg_id, "error": {"code": -32600, "message": text}})
