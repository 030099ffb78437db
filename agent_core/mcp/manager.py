"""One workspace folder's MCP servers: configured, trusted, started, offered, called, stopped.

The agent owns one :class:`McpManager`. At the start of every turn the tool registry calls
:meth:`McpManager.prepare` with the turn's host: it reads the sources again (a changed file or
setting is picked up), asks the user to trust the workspace's own config when it would start a
server (see :mod:`agent_core.mcp.trust`), starts the servers not running yet and waits (each at
most ``mcp.startTimeout``) for their tool lists; every problem found since the last turn is
reported to that turn as a notice, once. Servers are started lazily so a workspace whose servers
are never used never pays for them, and a workspace's config never starts anything before the
user said yes.

:meth:`specs` and :meth:`run` are what the registry offers and calls; a call is approved like any
other tool (``approval.mcp``, ``approval.mcpAllow``; read-only hints do not skip the question),
bounded by ``mcp.callTimeout``, stopped by a cancel, and its result capped like command output.
The ``mcp`` package is imported only once a server is configured, so an agent without servers
starts as fast as before.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent_core.approvals import Approvals
from agent_core.clock import Clock
from agent_core.config import AgentConfig
from agent_core.events import Notice, NoticeLevel
from agent_core.host import Decision, Host
from agent_core.mcp import offer, sources, trust
from agent_core.mcp.connection import CallFailed, Connection
from agent_core.mcp.spec import ServerSpec
from agent_core.messages import ToolCall
from agent_core.providers.base import ToolSpec

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerStatus:
    """One configured server as ``agent.status`` shows it."""

    name: str
    source: str
    transport: str
    #: ``stopped``, ``starting``, ``running``, ``restarting``, ``failed``, ``disabled``,
    #: ``untrusted`` (waiting for the trust question) or ``declined`` (the user said no).
    state: str
    tools: int
    error: str | None = None


@dataclass(frozen=True)
class _Offered:
    connection: Connection
    tool: Any
    spec: ToolSpec


class McpManager:
    """The MCP servers of one workspace (see the module docstring)."""

    def __init__(
        self,
        workspace: Path,
        config: AgentConfig,
        env: Mapping[str, str],
        clock: Clock,
        trust_store: trust.TrustStore | None = None,
    ) -> None:
        self.workspace = workspace
        self.config = config
        self._env = env
        self._clock = clock
        self.trust_store = trust_store or trust.TrustStore(trust.state_folder(env) / "mcp-trust.json")
        self._client: list[ServerSpec] = []
        self._client_problems: list[str] = []
        self._connections: dict[str, Connection] = {}
        self._configured = sources.Configured()
        #: Trust answers given while this manager lives: config hash -> allowed.
        self._answers: dict[str, bool] = {}
        self._pending: list[tuple[NoticeLevel, str]] = []
        self._reported: set[str] = set()
        self._offered: dict[str, _Offered] = {}
        self._offered_key: tuple[Any, ...] = ()
        self._lock = asyncio.Lock()

    # -- configuration ---------------------------------------------------------------------------

    @property
    def secrets(self) -> frozenset[str]:
        """The provider API key variables: never given to a server unless the user's own
        settings do so explicitly."""
        return frozenset(self.config.key_env_names())

    def update_config(self, config: AgentConfig) -> None:
        """New settings: applied at the next turn's :meth:`prepare`."""
        self.config = config

    def set_client_servers(self, specs: Sequence[ServerSpec], problems: Sequence[str] = ()) -> None:
        """The hook for a front end that is handed its own list (ACP's ``session/new``): these
        servers win over every other source and need no trust question."""
        self._client = list(specs)
        self._client_problems = list(problems)

    def _read(self) -> sources.Configured:
        configured = sources.read_all(self.workspace, self.config, self._env, self.secrets, self._client)
        configured.problems[:0] = self._client_problems
        return configured

    # -- turns -----------------------------------------------------------------------------------

    async def prepare(self, host: Host, turn_id: str) -> None:
        """Before a turn's first request (see the module docstring); reports to ``host``."""
        async with self._lock:
            configured = self._read()
            if configured.problems != self._configured.problems:
                for problem in configured.problems:
                    self._note("warning", f"MCP config: {problem}", once=False)
            self._configured = configured
            wanted = await self._trusted(self._configured.servers, host, turn_id)
            await self._reconcile(wanted)
            starting = [c for c in self._connections.values() if c.state == "stopped"]
            for connection in starting:
                connection.start()
            if starting:
                await asyncio.wait([asyncio.ensure_future(c.wait_started()) for c in starting])
            for connection in starting:
                if connection.state == "running":
                    logger.info("MCP server %s started with %d tool(s)", connection.name, len(connection.tools))
            self.specs()  # finds bad schemas and name clashes now, so this turn hears of them
        self.flush(host)

    async def _trusted(self, servers: list[ServerSpec], host: Host, turn_id: str) -> list[ServerSpec]:
        """``servers`` without the workspace's own ones unless the user trusts them (asked once
        per config; see :mod:`agent_core.mcp.trust`)."""
        own = [s for s in servers if s.from_workspace]
        if not own:
            return servers
        digest = trust.config_hash(self.workspace, own)
        allowed = self._answers.get(digest)
        if allowed is None and self.trust_store.is_trusted(self.workspace, digest):
            allowed = True
        if allowed is None:
            result = await host.ask_permission(trust.question(self.workspace, own, turn_id))
            allowed = result.decision is not Decision.REJECT
            self._answers[digest] = allowed
            if result.decision is Decision.ALLOW_SESSION:
                try:
                    self.trust_store.trust(self.workspace, digest)
                except OSError as error:
                    self._note(
                        "warning",
                        f"Could not remember the trust in this workspace's MCP config ({error}); "
                        "you will be asked again.",
                    )
            if not allowed:
                names = ", ".join(s.name for s in own)
                why = f"not trusted: {result.reason}" if result.reason else "you rejected them"
                self._note(
                    "info",
                    f"MCP servers of this workspace not started: {names} ({why}; you are asked again "
                    "when the agent restarts, or after /mcp restart).",
                )
        return servers if allowed else [s for s in servers if not s.from_workspace]

    async def _reconcile(self, wanted: list[ServerSpec]) -> None:
        """Stop the servers no longer configured (or configured differently); add the new ones."""
        keep = {spec.name: spec for spec in wanted}
        stale = [c for name, c in self._connections.items() if name not in keep or keep[name] != c.spec]
        for connection in stale:
            del self._connections[connection.name]
        if stale:
            await asyncio.gather(*(c.stop() for c in stale))
        for connection in self._connections.values():
            connection.start_timeout = self.config.mcp.start_timeout  # for its next start
        for spec in wanted:
            if spec.name not in self._connections:
                self._connections[spec.name] = Connection(
                    spec,
                    workspace=self.workspace,
                    env=self._env,
                    secrets=self.secrets,
                    clock=self._clock,
                    start_timeout=self.config.mcp.start_timeout,
                    on_event=self._on_event,
                )

    def _on_event(self, connection: Connection, level: str, text: str) -> None:
        logger.log(logging.WARNING if level in ("error", "warning") else logging.INFO, "%s", text)
        self._note(level if level in ("info", "warning", "error") else "info", text, once=False)  # type: ignore[arg-type]

    # -- notices ---------------------------------------------------------------------------------

    def _note(self, level: NoticeLevel, text: str, *, once: bool = True) -> None:
        """Queue a notice for the next turn (``once``: unless the same text was told before)."""
        if once and text in self._reported:
            return
        self._reported.add(text)
        self._pending.append((level, text))

    def flush(self, host: Host) -> None:
        """Report the queued notices to ``host`` (the turn's)."""
        pending, self._pending = self._pending, []
        for level, text in pending:
            host.report(Notice(level=level, text=text))

    # -- tools -----------------------------------------------------------------------------------

    def specs(self) -> list[ToolSpec]:
        """The tools of every server that started, by offered name, in source order."""
        key = tuple((c.name, c.version) for c in self._connections.values())
        if key != self._offered_key:
            self._offered = self._offer()
            self._offered_key = key
        return [offered.spec for offered in self._offered.values()]

    def _offer(self) -> dict[str, _Offered]:
        table: dict[str, _Offered] = {}
        for connection in self._connections.values():
            clashes: dict[str, list[str]] = {}
            for tool in connection.tools:
                name = offer.offered_name(connection.name, tool.name)
                if name in table:
                    clashes.setdefault(table[name].connection.name, []).append(name)
                    continue
                try:
                    schema = offer.input_schema(tool.input_schema)
                except offer.BadSchema as why:
                    self._note("warning", f"MCP tool {tool.name!r} of server {connection.name!r} is left out: {why}")
                    continue
                spec = ToolSpec(
                    name=name, description=offer.description(connection.name, tool.description), parameters=schema
                )
                table[name] = _Offered(connection, tool, spec)
            for other, names in clashes.items():
                self._note(
                    "warning",
                    f"MCP server {connection.name!r}: {len(names)} tool(s) left out, their names "
                    f"clash with tools of server {other!r}: {', '.join(names)} (rename one of the servers)",
                )
        return table

    def owns(self, name: str) -> bool:
        return name in self._offered

    async def run(
        self, call: ToolCall, approvals: Approvals, turn_id: str, started: Callable[[], None]
    ) -> tuple[str, bool]:
        """Approve and run one call of an offered tool: ``(text, is_error)`` for the model."""
        offered = self._offered[call.name]
        connection, tool = offered.connection, offered.tool
        title = f"MCP {connection.name}: {tool.name}"  # Approvals makes title and detail visible
        approval = await approvals.check(
            call.name,
            title,
            self._detail(connection, tool, call.arguments),
            turn_id,
            mode=approvals.mcp_mode(connection.name, tool.name),
        )
        if not approval.allowed:
            return f"The MCP tool was not run. {approval.message}", True
        started()
        try:
            result = await connection.call(tool.name, call.arguments, self.config.mcp.call_timeout)
        except CallFailed as why:
            return f"{call.name} failed: {why}", True
        text = offer.result_text(list(result.content), result.structured_content)
        return text, bool(result.is_error)

    def _detail(self, connection: Connection, tool: Any, arguments: dict[str, Any]) -> str:
        spec = connection.spec
        lines = [
            f"Server: {spec.name} ({spec.source}: {spec.describe()})",
            f"Tool: {tool.name}",
        ]
        hints = getattr(tool, "annotations", None)
        if hints is not None and getattr(hints, "read_only_hint", None):
            lines.append("The server says this tool only reads; that does not skip this question.")
        lines += ["Arguments:", json.dumps(arguments, indent=2, ensure_ascii=False, sort_keys=True)]
        return "\n".join(lines)

    # -- status and control ----------------------------------------------------------------------

    def status(self) -> list[ServerStatus]:
        """Every configured server as the sources say now (read again: cheap, and a health check
        must show a config edited since the last turn), with what it is doing."""
        configured = self._read()
        own = [s for s in configured.servers if s.from_workspace]
        digest = trust.config_hash(self.workspace, own) if own else ""
        answer = self._answers.get(digest)
        trusted = not own or answer is True or (answer is None and self.trust_store.is_trusted(self.workspace, digest))
        offered: dict[str, int] = {}
        for entry in self._offered.values():
            offered[entry.connection.name] = offered.get(entry.connection.name, 0) + 1
        out = []
        for spec in configured.servers:
            connection = self._connections.get(spec.name)
            if connection is not None and connection.spec == spec:
                out.append(
                    ServerStatus(
                        spec.name,
                        spec.source,
                        spec.transport,
                        connection.state,
                        offered.get(spec.name, 0),
                        connection.error,
                    )
                )
            else:
                state = (
                    "stopped" if trusted or not spec.from_workspace else "declined" if answer is False else "untrusted"
                )
                out.append(ServerStatus(spec.name, spec.source, spec.transport, state, 0))
        out += [ServerStatus(name, source, "", "disabled", 0) for name, source in configured.disabled]
        return out

    @property
    def problems(self) -> list[str]:
        """What is wrong with the MCP config as the sources say now."""
        return self._read().problems

    async def restart(self, name: str | None = None) -> list[str]:
        """Stop the named server (default: every one) so the next turn starts it again, and
        forget a rejected trust question so it is asked again. Returns the names restarted."""
        self._answers = {digest: ok for digest, ok in self._answers.items() if ok}
        self._reported.clear()
        async with self._lock:
            chosen = [c for c in self._connections.values() if name is None or c.name == name]
            await asyncio.gather(*(c.stop() for c in chosen))
        return [c.name for c in chosen]

    async def aclose(self) -> None:
        """Stop every server (each whole process group), concurrently; safe to call twice."""
        connections = list(self._connections.values())
        self._connections.clear()
        self._offered = {}
        self._offered_key = ()
        await asyncio.gather(*(c.stop() for c in connections), return_exceptions=True)
