"""The ACP agent: ``initialize``, the ``session/*`` methods, and a clean shutdown.

Handlers are thin: check the input, call the core through :class:`~agent_acp.session.AcpSession`,
convert. Every answer to bad input is a JSON-RPC error whose message says what to send instead;
an error the core means for the user is answered with its message
(:func:`~agent_acp.errors.answers_user_errors`), and a bug in a handler is logged with its
traceback and answered as an internal error by the SDK's connection, which keeps serving.

* ``initialize`` negotiates the protocol version: a client asking for a newer version gets ours
  (1), as the protocol says, and decides; one asking for version 0 (pre-release ACP, whose
  messages differ) gets an error saying so. The answer advertises ``loadSession``, embedded context
  and resource links in prompts, and ``session/list``.
* ``session/new`` and ``session/load`` take ``cwd`` as the workspace. ``mcpServers`` (stdio and
  HTTP; ``mcpCapabilities.http`` is advertised) are the client's own servers: they go to the
  session's agent (:meth:`~agent_core.mcp.manager.McpManager.set_client_servers`), win over every
  other MCP source, need no trust question, and start with the session's first prompt.
* ``session/load`` replays the whole transcript before it answers.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION
from acp.interfaces import Client
from acp.schema import (
    AgentCapabilities,
    ClientCapabilities,
    Implementation,
    InitializeResponse,
    ListSessionsResponse,
    LoadSessionResponse,
    McpCapabilities,
    NewSessionResponse,
    PromptCapabilities,
    PromptResponse,
    SessionCapabilities,
    SessionInfo,
    SessionListCapabilities,
)

from agent_acp import errors, settings
from agent_acp.client_files import ClientFiles
from agent_acp.outbox import Outbox
from agent_acp.prompt import Block
from agent_acp.session import AcpSession, SessionHost, say
from agent_core import __version__
from agent_core.agent import Agent
from agent_core.config import AgentConfig
from agent_core.mcp.sources import from_acp
from agent_core.sessions import SessionError
from agent_core.sessions.session import SessionInfo as CoreSessionInfo

logger = logging.getLogger(__name__)

#: Sessions per ``session/list`` page.
PAGE_SIZE = 100
#: Seconds a shutdown waits for running turns to save their partial reply.
SHUTDOWN_GRACE = 1.5


class AcpServer:
    """One connection's agent side (one per process: ACP runs one client over stdio)."""

    def __init__(self, file_settings: Mapping[str, Any], file_problems: list[str], outbox: Outbox) -> None:
        self._file_settings = dict(file_settings)
        self._problems = list(file_problems)
        self._outbox = outbox
        self._config = AgentConfig()
        self._client: Client | None = None
        self._capabilities = ClientCapabilities()
        self._initialized = False
        self._closing = False
        self._sessions: dict[str, AcpSession] = {}

    def on_connect(self, conn: Client) -> None:
        self._client = conn

    # -- initialize ----------------------------------------------------------------------------

    async def initialize(
        self,
        protocol_version: int,
        client_capabilities: ClientCapabilities | None = None,
        client_info: Implementation | None = None,
        **meta: Any,
    ) -> InitializeResponse:
        if protocol_version < 1:
            raise errors.invalid_params(
                f"agent-lsp speaks ACP protocol version {PROTOCOL_VERSION}; this client asked for version "
                f"{protocol_version} (a pre-release of the protocol). Update the editor or its ACP plugin."
            )
        self._capabilities = client_capabilities or ClientCapabilities()
        combined = settings.combine(self._file_settings, meta.get(settings.META_KEY))
        self._config = combined.config
        self._problems += combined.problems
        for problem in self._problems:
            logger.warning("settings: %s", problem)
        self._initialized = True
        who = f"{client_info.name} {client_info.version}" if client_info is not None else "an unnamed client"
        logger.info("initialized by %s (protocol version %s)", who, protocol_version)
        return InitializeResponse(
            protocol_version=PROTOCOL_VERSION,
            agent_capabilities=AgentCapabilities(
                load_session=True,
                mcp_capabilities=McpCapabilities(http=True, sse=False),
                prompt_capabilities=PromptCapabilities(embedded_context=True, image=False, audio=False),
                session_capabilities=SessionCapabilities(list=SessionListCapabilities()),
            ),
            agent_info=Implementation(name="agent-lsp", title="agent-lsp", version=__version__),
            auth_methods=[],
        )

    async def authenticate(self, method_id: str, **meta: Any) -> None:
        raise errors.invalid_params(
            "agent-lsp has no sign-in: API keys come from the environment (see agent-lsp acp --help)."
        )

    # -- sessions ------------------------------------------------------------------------------

    @errors.answers_user_errors
    async def new_session(
        self,
        cwd: str,
        additional_directories: list[str] | None = None,
        mcp_servers: Sequence[Any] | None = None,
        **meta: Any,
    ) -> NewSessionResponse:
        workspace = self._workspace(cwd)
        session = self._open(workspace, None)
        problems = self._use_mcp_servers(session, mcp_servers or [])
        # The client learns the id from this answer; updates for the session go out right after it.
        asyncio.get_running_loop().call_soon(self._greet, session, problems, additional_directories)
        return NewSessionResponse(session_id=session.id)

    @errors.answers_user_errors
    async def load_session(
        self,
        cwd: str,
        session_id: str,
        mcp_servers: Sequence[Any] | None = None,
        additional_directories: list[str] | None = None,
        **meta: Any,
    ) -> LoadSessionResponse:
        workspace = self._workspace(cwd)
        session = self._sessions.get(session_id)
        if session is not None and session.workspace != workspace:
            raise errors.invalid_params(f"Session {session_id} is open in another workspace ({session.workspace}).")
        if session is not None and session.busy:
            raise errors.busy(session_id)
        if session is None:
            session = self._open(workspace, session_id)
        session.show_history()
        self._greet(session, self._use_mcp_servers(session, mcp_servers or []), additional_directories)
        return LoadSessionResponse()

    @errors.answers_user_errors
    async def list_sessions(
        self, cwd: str | None = None, cursor: str | None = None, **meta: Any
    ) -> ListSessionsResponse:
        self._require_initialized()
        workspace = self._workspace(cwd) if cwd is not None else Path.cwd().resolve()
        start = _page_start(cursor)
        infos = self._agent(workspace).list_sessions()
        page = infos[start : start + PAGE_SIZE]
        more = start + PAGE_SIZE < len(infos)
        return ListSessionsResponse(
            sessions=[_session_info(info, workspace) for info in page],
            next_cursor=str(start + PAGE_SIZE) if more else None,
        )

    @errors.answers_user_errors
    async def prompt(self, session_id: str, prompt: list[Block], **meta: Any) -> PromptResponse:
        session = self._session(session_id)
        if self._closing:
            raise errors.invalid_request("agent-lsp is shutting down; the prompt was not run.")
        return await session.prompt(prompt)

    async def cancel(self, session_id: str, **meta: Any) -> None:
        session = self._sessions.get(session_id)
        if session is None:
            logger.warning("session/cancel for unknown session %s ignored", session_id)
            return
        session.cancel()

    # -- shutdown ------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Cancel every running turn, let each save its partial reply (bounded), close the
        sessions. Used at end of input and on SIGTERM/SIGINT."""
        self._closing = True
        for session in self._sessions.values():
            session.cancel()
        await asyncio.gather(*(s.wait_idle(SHUTDOWN_GRACE) for s in self._sessions.values()))
        for session in list(self._sessions.values()):
            try:
                await session.agent.aclose()
            except Exception:
                logger.exception("closing session %s failed", session.id)
        self._sessions.clear()

    # -- helpers -------------------------------------------------------------------------------

    def _open(self, workspace: Path, session_id: str | None) -> AcpSession:
        """A new session in ``workspace``, or the saved ``session_id``."""
        outbox = self._outbox
        host = SessionHost(outbox)
        agent = self._agent(workspace, host)
        try:
            if session_id is None:
                agent.new_session()
            else:
                agent.load_session(session_id)
        except SessionError as error:
            raise errors.invalid_params(f"{error} (session/list shows this workspace's sessions)") from None
        except OSError as error:
            raise errors.invalid_params(f"The sessions of {workspace} cannot be opened: {error}") from None
        assert self._client is not None
        fs = self._capabilities.fs
        files = ClientFiles(
            self._client,
            agent.session.id,
            bool(fs and fs.read_text_file),
            bool(fs and fs.write_text_file),
            self._config.edit_timeout,
        )
        session = AcpSession(agent, host, self._client, outbox, files)
        self._sessions[session.id] = session
        logger.info("session %s opened in %s", session.id, workspace)
        return session

    def _agent(self, workspace: Path, host: SessionHost | None = None) -> Agent:
        return Agent(workspace, self._config, host or SessionHost(self._outbox))

    def _use_mcp_servers(self, session: AcpSession, mcp_servers: Sequence[Any]) -> list[str]:
        """Hand the client's MCP servers to the session's agent; returns what was wrong with them."""
        raw = [server.model_dump(by_alias=True, exclude_none=True) for server in mcp_servers]
        specs, problems = from_acp(raw, session.workspace, os.environ)
        session.agent.mcp.set_client_servers(specs, problems)
        if specs:
            logger.info("MCP servers from the client: %s", ", ".join(spec.name for spec in specs))
        return [f"MCP server list: {problem}" for problem in problems]

    def _greet(self, session: AcpSession, mcp_problems: list[str], extra_folders: list[str] | None) -> None:
        """What a session says when it opens: its slash commands, settings problems (once), what
        was wrong with the client's MCP servers, and what it could not take on (additional
        folders)."""
        session.announce_commands()
        outbox = self._outbox
        notes = [f"Settings problem: {problem}" for problem in self._problems]
        self._problems = []
        notes += session.opening_notices()
        notes += mcp_problems
        if extra_folders:
            logger.warning("additional directories are not supported; ignored: %s", extra_folders)
            notes.append(
                f"Additional workspace folders are not supported; this session works in {session.workspace} only."
            )
        if notes:
            say(outbox, session.id, "\n".join(f"- {note}" for note in notes))

    def _workspace(self, cwd: str) -> Path:
        self._require_initialized()
        path = Path(cwd)
        if not path.is_absolute() or not path.is_dir():
            raise errors.invalid_params(f"cwd must be the absolute path of an existing folder; got {cwd!r}.")
        return path.resolve()

    def _session(self, session_id: str) -> AcpSession:
        self._require_initialized()
        session = self._sessions.get(session_id)
        if session is None:
            raise errors.unknown_session(session_id)
        return session

    def _require_initialized(self) -> None:
        if not self._initialized:
            raise errors.not_initialized()


def _page_start(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise errors.invalid_params(f"Unknown cursor {cursor!r}; pass the nextCursor of the previous answer.")
    return int(cursor)


def _session_info(info: CoreSessionInfo, workspace: Path) -> SessionInfo:
    title = info.title or info.preview or "(empty)"
    if info.error:
        title = f"{title} [unreadable: {info.error}]"
    updated = datetime.fromtimestamp(info.updated, tz=UTC).isoformat()
    return SessionInfo(session_id=info.id, cwd=str(workspace), title=title, updated_at=updated)
