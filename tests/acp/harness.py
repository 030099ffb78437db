"""End-to-end harness for ``agent-lsp acp``: the real console script over stdio, driven by the ACP
SDK's own client side, against the fake LLM server on loopback.

:class:`RecordingClient` is an ACP client the way an editor is one: it records every
``session/update``, answers ``session/request_permission`` as a test scripts it, and (when its
capabilities say so) serves ``fs/read_text_file`` from editor buffers and records
``fs/write_text_file``. Tests wait for updates with a bound, never by sleeping.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION, RequestError, spawn_agent_process
from acp.client.connection import ClientSideConnection
from acp.schema import (
    AgentMessageChunk,
    AgentThoughtChunk,
    AllowedOutcome,
    ClientCapabilities,
    DeniedOutcome,
    FileSystemCapabilities,
    Implementation,
    InitializeResponse,
    PermissionOption,
    ReadTextFileResponse,
    RequestPermissionResponse,
    TextContentBlock,
    ToolCallProgress,
    ToolCallStart,
    ToolCallUpdate,
    UserMessageChunk,
    WriteTextFileResponse,
)

from tests.fakes.llm_server import FakeLLM
from tests.server.harness import fake_settings

WAIT = 15.0
AGENT = Path(sys.executable).with_name("agent-lsp")


def agent_env() -> dict[str, str]:
    """The agent's environment: the test's, without any real provider key or URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_", "AGENT_LSP_"))}
    env["OPENAI_API_KEY"] = "test-key"
    return env


#: A permission answer: an option id to select, ``None`` for a dismissed question, or an
#: exception to answer with an error; plus an optional reason sent in ``_meta``.
@dataclass
class Answer:
    option: str | None = "allow_once"
    reason: str | None = None
    error: RequestError | None = None


@dataclass
class RecordingClient:
    """An ACP client that records (see the module docstring)."""

    updates: list[tuple[str, Any]] = field(default_factory=list)
    permission_requests: list[tuple[ToolCallUpdate, list[PermissionOption]]] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    #: Editor buffers served by fs/read_text_file (path -> text); other paths read the disk.
    buffers: dict[str, str] = field(default_factory=dict)
    #: Permission questions answered (the answer is on its way to the agent).
    answered: int = 0
    reads: list[str] = field(default_factory=list)
    writes: list[tuple[str, str]] = field(default_factory=list)
    #: Runs while a permission question is open (e.g. the user cancels meanwhile).
    while_asked: Callable[[], Any] | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    # -- the Client protocol ----------------------------------------------------------------------

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        async with self._changed:
            self.updates.append((session_id, update))
            self._changed.notify_all()

    async def request_permission(
        self, options: list[PermissionOption], session_id: str, tool_call: ToolCallUpdate, **kwargs: Any
    ) -> RequestPermissionResponse:
        async with self._changed:
            self.permission_requests.append((tool_call, options))
            self._changed.notify_all()
        if self.while_asked is not None:
            result = self.while_asked()
            if asyncio.iscoroutine(result):
                await result
        answer = self.answers.pop(0) if self.answers else Answer()
        async with self._changed:
            self.answered += 1
            self._changed.notify_all()
        if answer.error is not None:
            raise answer.error
        meta = {"reason": answer.reason} if answer.reason else None
        if answer.option is None:
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"), field_meta=meta)
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id=answer.option), field_meta=meta
        )

    async def read_text_file(
        self, path: str, session_id: str, limit: int | None = None, line: int | None = None, **kwargs: Any
    ) -> ReadTextFileResponse:
        self.reads.append(path)
        if path in self.buffers:
            return ReadTextFileResponse(content=self.buffers[path])
        try:
            return ReadTextFileResponse(content=Path(path).read_text())
        except FileNotFoundError:
            raise RequestError.resource_not_found(path) from None

    async def write_text_file(
        self, content: str, path: str, session_id: str, **kwargs: Any
    ) -> WriteTextFileResponse | None:
        self.writes.append((path, content))
        self.buffers[path] = content
        return WriteTextFileResponse()

    # -- reading what was received -----------------------------------------------------------------

    def of(self, session_id: str, kind: type) -> list[Any]:
        return [u for s, u in self.updates if s == session_id and isinstance(u, kind)]

    def text(self, session_id: str, kind: type = AgentMessageChunk) -> str:
        return "".join(u.content.text for u in self.of(session_id, kind) if isinstance(u.content, TextContentBlock))

    def thoughts(self, session_id: str) -> str:
        return self.text(session_id, AgentThoughtChunk)

    def user_text(self, session_id: str) -> str:
        return self.text(session_id, UserMessageChunk)

    def tool_updates(self, session_id: str, call_id: str | None = None) -> list[ToolCallStart | ToolCallProgress]:
        return [
            u
            for u in self.of(session_id, (ToolCallStart, ToolCallProgress))  # type: ignore[arg-type]
            if call_id is None or u.tool_call_id == call_id
        ]

    async def wait_for(self, predicate: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
        async def found() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        try:
            await asyncio.wait_for(found(), timeout)
        except TimeoutError:
            kinds = [type(u).__name__ for _, u in self.updates]
            raise AssertionError(f"no {what} within {timeout}s; received {kinds}") from None


@dataclass
class Agent:
    """A running ``agent-lsp acp`` and the client connection to it."""

    conn: ClientSideConnection
    process: asyncio.subprocess.Process
    client: RecordingClient
    workspace: Path
    log: Path
    initialized: InitializeResponse | None = None

    async def new_session(self) -> str:
        return (await self.conn.new_session(cwd=str(self.workspace), mcp_servers=[])).session_id

    async def prompt(self, session_id: str, text: str, timeout: float = WAIT) -> Any:
        return await asyncio.wait_for(
            self.conn.prompt(session_id=session_id, prompt=[TextContentBlock(type="text", text=text)]), timeout
        )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@asynccontextmanager
async def run_agent(
    tmp_path: Path,
    llm: FakeLLM,
    *,
    workspace: Path | None = None,
    settings: dict[str, Any] | None = None,
    fs: bool = False,
    client: RecordingClient | None = None,
    initialize: bool = True,
    meta: dict[str, Any] | None = None,
) -> AsyncIterator[Agent]:
    """Start ``agent-lsp acp --settings FILE`` and (by default) initialize it; stops it after."""
    workspace = workspace or tmp_path / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    settings_file = tmp_path / "acp-settings.json"
    settings_file.write_text(json.dumps(settings if settings is not None else fake_settings(llm)))
    log = tmp_path / "agent-stderr.log"
    client = client or RecordingClient()
    with log.open("ab") as stderr:
        async with spawn_agent_process(
            client,
            str(AGENT),
            "acp",
            "--settings",
            str(settings_file),
            "-v",
            env=agent_env(),
            cwd=workspace,
            transport_kwargs={"stderr": stderr},
        ) as (conn, process):
            agent = Agent(conn, process, client, workspace.resolve(), log)
            if initialize:
                caps = ClientCapabilities(fs=FileSystemCapabilities(read_text_file=fs, write_text_file=fs))
                agent.initialized = await asyncio.wait_for(
                    conn.initialize(
                        protocol_version=PROTOCOL_VERSION,
                        client_capabilities=caps,
                        client_info=Implementation(name="test-client", version="1"),
                        **(meta or {}),
                    ),
                    WAIT,
                )
            yield agent


class RawAgent:
    """``agent-lsp acp`` driven line by line, for input no SDK would send."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        #: Every message read so far (responses, notifications, the agent's own requests).
        self.received: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any] | str) -> None:
        line = message if isinstance(message, str) else json.dumps(message)
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()

    async def request(self, id_: Any, method: str, params: Any = None) -> dict[str, Any]:
        await self.send({"jsonrpc": "2.0", "id": id_, "method": method, "params": params})
        return await self.response(id_)

    async def response(self, id_: Any) -> dict[str, Any]:
        """The response with ``id_`` (``None`` for a line that had no usable id)."""
        return await self.wait_for(
            lambda m: "method" not in m and m.get("id") == id_, f"the response to {id_!r}", take=True
        )

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], what: str, *, take: bool = False
    ) -> dict[str, Any]:
        """The first message (read already or still to come) matching ``predicate``; ``take``
        removes it, so the same id can be waited for again."""

        async def read() -> dict[str, Any]:
            checked = 0
            while True:
                for message in self.received[checked:]:
                    if predicate(message):
                        if take:
                            self.received.remove(message)
                        return message
                checked = len(self.received)
                assert self.process.stdout is not None
                line = await self.process.stdout.readline()
                if not line:
                    raise AssertionError(f"the agent closed stdout before {what}")
                self.received.append(json.loads(line))

        try:
            return await asyncio.wait_for(read(), WAIT)
        except TimeoutError:
            raise AssertionError(f"no {what} within {WAIT}s") from None

    def updates(self, session_id: str, kind: str) -> list[dict[str, Any]]:
        return [
            m["params"]["update"]
            for m in self.received
            if m.get("method") == "session/update"
            and m["params"]["sessionId"] == session_id
            and m["params"]["update"]["sessionUpdate"] == kind
        ]

    def text(self, session_id: str) -> str:
        return "".join(u["content"]["text"] for u in self.updates(session_id, "agent_message_chunk"))


@asynccontextmanager
async def run_raw(tmp_path: Path, llm: FakeLLM) -> AsyncIterator[RawAgent]:
    """``agent-lsp acp`` on raw pipes; killed (after closing stdin) at the end."""
    workspace = tmp_path / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    settings_file = tmp_path / "acp-settings.json"
    settings_file.write_text(json.dumps(fake_settings(llm)))
    with (tmp_path / "agent-stderr.log").open("ab") as stderr:
        process = await asyncio.create_subprocess_exec(
            str(AGENT),
            "acp",
            "--settings",
            str(settings_file),
            "-v",
            cwd=workspace,
            env=agent_env(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
        try:
            yield RawAgent(process)
        finally:
            if process.returncode is None:
                assert process.stdin is not None
                process.stdin.close()
                try:
                    await asyncio.wait_for(process.wait(), WAIT)
                except TimeoutError:
                    process.kill()
                    await process.wait()
