"""One MCP server's life: start, initialize, list tools, serve calls, restart after a crash, stop.

A connection runs as one asyncio task that owns the transport and the SDK's ``ClientSession``
(anyio wants both entered and left by the same task); calls come from the agent loop's own tasks
and go through the session. States, as ``agent.status`` shows them:

``stopped`` (not started yet: servers start when a turn first needs the tool list), ``starting``,
``running``, ``restarting`` (it stopped unexpectedly; restarted after 1, 2, 4, 8, 16 s on the
agent's clock, :data:`MAX_RESTARTS` times in a row at most), ``failed`` (it never started: the
command does not exist, it did not answer ``initialize`` within ``mcp.startTimeout``, it crashed
too often; tried again on the next turn after a config change or ``/mcp restart``).

While a server is not running its tools stay offered and a call returns a clear error saying
why. ``notifications/tools/list_changed`` makes the connection list the tools again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from agent_core import __version__
from agent_core.clock import Clock
from agent_core.mcp.spec import ServerSpec
from agent_core.mcp.stdio import ServerProcess, child_env, stdio_transport

logger = logging.getLogger(__name__)

State = Literal["stopped", "starting", "running", "restarting", "failed"]
#: Restarts in a row (without a successful start between them) before a server counts as failed.
MAX_RESTARTS = 5
#: Pages of ``tools/list`` read at most (a server paging forever must not hang the start).
MAX_PAGES = 50


class CallFailed(Exception):
    """A tool call did not produce a result; the message says why, for the model and the user."""


class Connection:
    """One configured server and its running session (see the module docstring)."""

    def __init__(
        self,
        spec: ServerSpec,
        *,
        workspace: Path,
        env: Mapping[str, str],
        secrets: frozenset[str],
        clock: Clock,
        start_timeout: float,
        on_event: Callable[[Connection, str, str], None],
    ) -> None:
        self.spec = spec
        self._workspace = workspace
        self._env = env
        self._secrets = secrets
        self._clock = clock
        self.start_timeout = start_timeout
        #: Told ``(connection, level, text)`` when the tool list changed or the server stopped.
        self._on_event = on_event
        self._state: State = "stopped"
        self._changed = asyncio.Event()
        self.tools: list[Any] = []
        #: Bumped whenever ``tools`` is replaced.
        self.version = 0
        self.error: str | None = None
        self._session: Any = None
        self._process: ServerProcess | None = None
        self._task: asyncio.Task[None] | None = None
        self._settled = asyncio.Event()
        self._stop = asyncio.Event()
        self._lost = asyncio.Event()
        self._relist = asyncio.Event()
        self._refreshing = asyncio.Lock()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def state(self) -> State:
        return self._state

    @state.setter
    def state(self, state: State) -> None:
        self._state = state
        self._changed.set()  # wakes every waiter; each checks again for the state it wants

    async def wait_for_state(self, *states: State) -> None:
        """Until the connection is in one of ``states`` (bound it with a timeout)."""
        while self._state not in states:
            self._changed.clear()
            await self._changed.wait()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start (or, when it failed, start again); a running connection is left alone."""
        if self._task is not None and not self._task.done():
            return
        self._settled.clear()
        self._stop.clear()
        self.state = "starting"
        self._task = asyncio.create_task(self._run(), name=f"mcp-{self.name}")

    async def wait_started(self) -> None:
        """Until the first start attempt is over (running, or failed)."""
        await self._settled.wait()

    async def stop(self) -> None:
        """Stop the server (its whole process group) and the task; safe to call twice."""
        self._stop.set()
        task = self._task
        if task is not None and not task.done():
            await asyncio.wait([task], timeout=3 * 0.4 + 1)
            if not task.done():
                if self._process is not None:
                    self._process.kill_group()
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        self.state = "stopped"

    async def _run(self) -> None:
        failures = 0
        ever_ran = False
        while not self._stop.is_set():
            ran = False
            try:
                async with self._open() as (read, write, process):
                    self._process = process
                    ran = await self._serve(read, write, process)
            except Exception as error:
                ended = self._process is not None and self._process.ended.is_set()
                self.error = self._process.why_ended() if ended and self._process else self._explain(error)
            finally:
                self._session = None
                self._process = None
            ever_ran = ever_ran or ran
            if self._stop.is_set():
                break
            failures = 0 if ran else failures + 1
            if not ever_ran or failures > MAX_RESTARTS:
                self.state = "failed"
                self._settled.set()
                self._on_event(self, "error", f"MCP server {self.name!r} failed: {self.error}")
                return
            delay = float(2 ** max(failures - 1, 0))
            self.state = "restarting"
            self._on_event(
                self, "warning", f"MCP server {self.name!r} stopped ({self.error}); restarting in {delay:g} s"
            )
            await _first(self._clock.sleep(delay), self._stop.wait())  # a stop ends the wait

    async def _serve(self, read: Any, write: Any, process: ServerProcess | None) -> bool:
        """Initialize and serve until the server ends or is stopped; True if it got to run."""
        import anyio
        from mcp import types

        self._lost.clear()
        async with _session_class()(
            read,
            write,
            message_handler=self._on_message,
            on_tools_changed=self._relist.set,
            client_info=types.Implementation(name="agent-lsp", version=__version__),
        ) as session:
            try:
                with anyio.fail_after(self.start_timeout):
                    await session.initialize()
                    tools = await _list_tools(session)
            except TimeoutError:
                self.error = (
                    f"it did not answer initialize and tools/list within {self.start_timeout:g} s (mcp.startTimeout)"
                )
                if process is not None and process.ended.is_set():
                    self.error = process.why_ended()
                return False
            self._set_tools(tools)
            self._session = session
            self.state = "running"
            self.error = None
            self._settled.set()
            relister = asyncio.ensure_future(self._relist_on_change(session))
            try:
                await _first(
                    self._stop.wait(), self._lost.wait(), process.ended.wait() if process is not None else None
                )
            finally:
                relister.cancel()
                self._session = None
            if not self._stop.is_set():
                self.error = (
                    process.why_ended()
                    if process is not None and process.ended.is_set()
                    else (self.error or "the connection was lost")
                )
            return True

    @contextlib.asynccontextmanager
    async def _open(self) -> AsyncIterator[tuple[Any, Any, ServerProcess | None]]:
        spec = self.spec
        if spec.transport == "stdio":
            assert spec.command is not None
            cwd = self._workspace / spec.cwd if spec.cwd else self._workspace
            env = child_env(self._env, spec.env, self._secrets)
            async with contextlib.AsyncExitStack() as stack:
                try:
                    streams = await stack.enter_async_context(
                        stdio_transport(self.name, spec.command, spec.args, env, cwd)
                    )
                except FileNotFoundError:
                    if not cwd.is_dir():
                        raise CallFailed(f"its working folder does not exist: {cwd}") from None
                    raise CallFailed(f"its command does not exist: {spec.command}") from None
                except PermissionError:
                    raise CallFailed(f"its command cannot be run (permission denied): {spec.command}") from None
                yield streams
            return
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        assert spec.url is not None
        async with (
            create_mcp_http_client(headers=dict(spec.headers)) as http,
            streamable_http_client(spec.url, http_client=http) as (read, write),
        ):
            yield read, write, None

    def _explain(self, error: BaseException) -> str:
        leaf = error
        while isinstance(leaf, BaseExceptionGroup) and leaf.exceptions:
            leaf = leaf.exceptions[0]
        if isinstance(leaf, CallFailed):
            return str(leaf)
        text = str(leaf) or type(leaf).__name__
        return f"{type(leaf).__name__}: {text}" if text != type(leaf).__name__ else text

    # -- tools -------------------------------------------------------------------------------

    async def _on_message(self, message: Any) -> None:
        from mcp import types

        if isinstance(message, Exception):
            logger.warning("MCP server %s: %s", self.name, message)
            if self.spec.transport == "http":
                self.error = self._explain(message)
                self._lost.set()
        elif isinstance(message, types.LoggingMessageNotification):
            logger.info("[%s] %s", self.name, message.params.data)

    async def _relist_on_change(self, session: Any) -> None:
        while True:
            await self._relist.wait()
            try:
                await self._refresh(session)
            except Exception as error:
                logger.warning("MCP server %s: listing its tools again failed: %s", self.name, error)

    async def _refresh(self, session: Any) -> None:
        """List the tools again if the server said they changed (one listing at a time, so a
        call that caused the change returns only once the new list is known)."""
        async with self._refreshing:
            if not self._relist.is_set():
                return
            self._relist.clear()
            self._set_tools(await _list_tools(session))
        self._on_event(self, "info", f"MCP server {self.name!r} changed its tools ({len(self.tools)} now)")

    def _set_tools(self, tools: list[Any]) -> None:
        self.tools = tools
        self.version += 1

    async def call(self, tool: str, arguments: dict[str, Any], timeout: float) -> Any:
        """``tools/call``: the SDK's result, or :class:`CallFailed` saying why there is none.
        A cancel of the caller abandons the call (the server is told to cancel it)."""
        from mcp import MCPError, types

        session = self._session
        if session is None or self.state != "running":
            raise CallFailed(self.unavailable())
        try:
            async with asyncio.timeout(timeout):
                result = await session.call_tool(tool, arguments)
                await self._refresh(session)  # the call changed the tools: the next request offers them
                return result
        except TimeoutError:
            raise CallFailed(f"no answer within {timeout:g} s (mcp.callTimeout); the call was abandoned") from None
        except MCPError as error:
            if error.code == types.CONNECTION_CLOSED:
                process = self._process
                if process is not None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(process.ended.wait(), 1.0)
                why = process.why_ended() if process is not None and process.ended.is_set() else "the connection closed"
                self.state, self.error = "restarting", why
                self._lost.set()
                raise CallFailed(
                    f"the MCP server {self.name!r} stopped during the call ({why}); it is being restarted"
                ) from None
            raise CallFailed(f"the MCP server {self.name!r} answered with an error: {error.message}") from None
        except (OSError, ValueError) as error:  # the HTTP connection failed, or a malformed result
            if self.spec.transport == "http":
                self.error = self._explain(error)
                self._lost.set()
            raise CallFailed(f"the call to the MCP server {self.name!r} failed: {self._explain(error)}") from None

    def unavailable(self) -> str:
        """Why this server's tools cannot be called now."""
        if self.state == "restarting":
            return f"the MCP server {self.name!r} is restarting after it stopped ({self.error}); try again shortly"
        if self.state == "failed":
            return f"the MCP server {self.name!r} is not running: {self.error}"
        return f"the MCP server {self.name!r} is {self.state}"


def _session_class() -> Any:
    """The SDK's ``ClientSession``, seeing ``notifications/tools/list_changed`` in receive order.

    The SDK hands notifications to ``message_handler`` in tasks of their own, so the response of
    the call that changed the tools can overtake it; its receive-path hook (private, hence the
    pinned major version) runs before that response is read, so a changed list is known (and
    listed again) before the call returns."""
    from mcp import ClientSession

    class Session(ClientSession):
        def __init__(self, *args: Any, on_tools_changed: Callable[[], None], **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._on_tools_changed = on_tools_changed

        def _intercept_notification(self, method: str, params: Any) -> bool:
            if method == "notifications/tools/list_changed":
                self._on_tools_changed()
            return bool(super()._intercept_notification(method, params))

    return Session


async def _list_tools(session: Any) -> list[Any]:
    from mcp import types

    tools: list[Any] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


async def _first(*waits: Any) -> None:
    """Until the first of ``waits`` (coroutines; None entries ignored) finishes."""
    tasks = [asyncio.ensure_future(w) for w in waits if w is not None]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
