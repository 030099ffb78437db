"""``agent-lsp --tcp``: loopback only unless asked, and a token before anything else.

Real sockets on 127.0.0.1: a connection that does not open with an ``initialize`` carrying the
right ``initializationOptions.token`` is closed without any agent work (no agent, no session
folder), and the server keeps waiting for its real client, which then works as over stdio.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.client import LanguageClient as PlainClient

from lsp_server.tcp_auth import TcpSetupError, check_host
from tests.fakes.llm_server import FakeLLM
from tests.server.harness import WAIT, fake_settings, server_env


@dataclass
class Listening:
    process: asyncio.subprocess.Process
    port: int
    #: The token announced on stderr (None when it came from --token-file).
    token: str | None


@asynccontextmanager
async def tcp_server(*args: str) -> AsyncIterator[Listening]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lsp_server",
        "--tcp",
        "127.0.0.1:0",
        *args,
        env=server_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        line = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode()
        assert "listening on 127.0.0.1:" in line, line
        port = int(line.rsplit(":", 1)[1])
        token = None
        if "--token-file" not in args:
            token_line = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode()
            assert token_line.startswith("agent-lsp: token "), token_line
            token = token_line.split()[2]
        yield Listening(process, port, token)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def initialize(root: Path, options: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"capabilities": {}, "rootUri": root.as_uri(), "initializationOptions": options},
    }


async def raw_exchange(port: int, data: bytes) -> bytes:
    """Send ``data`` on a fresh connection; everything the server answers until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), WAIT)  # until the server closes
    except ConnectionResetError:  # closed before it read what was sent
        return b""
    finally:
        writer.close()


async def connect(port: int, root: Path, options: Any) -> PlainClient:
    client = PlainClient("tcp-test", "1")
    await client.start_tcp("127.0.0.1", port)
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=root.as_uri(), initialization_options=options
        )
    )
    client.initialized(types.InitializedParams())
    return client


async def finish(client: PlainClient, server: Listening) -> None:
    await client.shutdown_async(None)
    client.exit(None)
    assert await asyncio.wait_for(server.process.wait(), WAIT) == 0
    await client.stop()


async def test_only_a_client_with_the_token_is_served(fake_llm: FakeLLM, tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    log_file = tmp_path / "server.log"
    async with tcp_server("-v", "--log-file", str(log_file)) as server:
        assert server.token and len(server.token) >= 32
        settings = fake_settings(fake_llm)
        refused = [
            frame(initialize(root, settings)),  # no token
            frame(initialize(root, {**settings, "token": "guess"})),  # a wrong token
            frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}),  # not initialize first
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",  # not LSP at all (a browser)
        ]
        for attempt in refused:
            answer = await raw_exchange(server.port, attempt)
            assert b"result" not in answer  # closed, at most with an error
            if b"initialize" in attempt and b'"id"' in attempt:
                assert b"token" in answer and b'"error"' in answer
        assert not (root / ".agent-lsp").exists()  # no agent ever ran
        assert server.process.returncode is None  # still waiting for its client

        client = await connect(server.port, root, {**settings, "token": server.token})
        status = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="agent.status", arguments=[{}])
        )
        assert status["model"] == "fake-model" and status["settingsProblems"] == []  # the token is no setting
        # One client per server: a second one is turned away, even with the token.
        late = await raw_exchange(server.port, frame(initialize(root, {**settings, "token": server.token})))
        assert b"result" not in late
        await finish(client, server)
    assert server.token not in log_file.read_text()  # -v logs every message, but never the token


async def test_a_token_file(fake_llm: FakeLLM, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("correct horse battery staple\n")
    token_file.chmod(0o600)
    root = tmp_path / "project"
    root.mkdir()
    async with tcp_server("--token-file", str(token_file)) as server:
        with pytest.raises((JsonRpcException, ConnectionError, asyncio.TimeoutError)):
            bad = await asyncio.wait_for(connect(server.port, root, {"token": "correct horse"}), WAIT)
            await bad.stop()
        client = await connect(server.port, root, {**fake_settings(fake_llm), "token": "correct horse battery staple"})
        await finish(client, server)


async def _refused_at_start(*args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lsp_server",
        *args,
        env=server_env(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), WAIT)
    assert process.returncode == 2, stderr
    return stderr.decode()


async def test_listening_beyond_loopback_needs_an_explicit_flag() -> None:
    stderr = await _refused_at_start("--tcp", "0.0.0.0:0")
    assert "--allow-remote" in stderr and "0.0.0.0" in stderr


async def test_a_token_file_others_can_read_is_refused(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("secret\n")
    token_file.chmod(0o644)
    stderr = await _refused_at_start("--tcp", "127.0.0.1:0", "--token-file", str(token_file))
    assert str(token_file) in stderr and "600" in stderr
    empty = tmp_path / "empty"
    empty.write_text("\n")
    os.chmod(empty, 0o600)
    assert "empty" in await _refused_at_start("--tcp", "127.0.0.1:0", "--token-file", str(empty))


def test_which_hosts_count_as_loopback() -> None:
    for host in ("127.0.0.1", "127.1.2.3", "::1", "localhost"):
        check_host(host, allow_remote=False)
    for host in ("0.0.0.0", "::", "192.0.2.1"):
        with pytest.raises(TcpSetupError, match="--allow-remote"):
            check_host(host, allow_remote=False)
        check_host(host, allow_remote=True)
