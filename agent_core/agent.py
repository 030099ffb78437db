"""The agent facade: one workspace's agent, the only class front ends drive.

It ties the core pieces together so that every front end gets the same behaviour for free:
the workspace's sessions (every message saved the moment it is complete), the provider (created
from the config on first use and wrapped in the one retry layer), the agent loop with truncation
before every request, slash commands, and a clean shutdown. The LSP server and the terminal only
translate between their world and this class (plus :mod:`agent_core.inline_edit`).

Each turn reports to the host it was submitted with (``submit(..., host=...)``): its loop, tools,
approvals, notices and a session switch by a slash command all go there, so turns never share a
mutable "current turn". Outside a turn (start-up, a session loaded by a front-end command) the
agent reports to the host it was created with. The front end announces a turn's start itself and
its end from the :class:`~agent_core.events.TurnEnded` that ``submit`` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from agent_core import __version__, commands
from agent_core.approvals import Approvals
from agent_core.checkpoints import CheckpointInfo, Checkpoints, FileDiff, RestoreMode, RestoreResult
from agent_core.clock import Clock, SystemClock
from agent_core.compact_prompt import COMPACT_SYSTEM_PROMPT
from agent_core.config import AgentConfig, ConfigError
from agent_core.events import Notice, NoticeLevel, SessionChanged, StopReason, TurnEnded
from agent_core.exceptions import AgentBusy, CommandCancelled
from agent_core.host import Host
from agent_core.loop import AgentLoop
from agent_core.mcp.manager import McpManager, ServerStatus
from agent_core.messages import Message, Usage, new_id
from agent_core.prompt import PromptContext, default_system_prompt, reply_reserve
from agent_core.providers.base import ChatRequest, Provider, ProviderError, ToolSpec
from agent_core.providers.local import LocalProvider
from agent_core.providers.model_server import ModelStatus
from agent_core.providers.select import DEFAULT_MODELS, choose_provider_name, create_provider, local_model_status
from agent_core.retry import RetryingProvider
from agent_core.sessions import Session, SessionError, SessionInfo, SessionStore
from agent_core.tokens import estimate_message, estimate_tools, known_prefix
from agent_core.tools import ToolRegistry
from agent_core.truncation import DEFAULT_CONTEXT_WINDOW, ContextOverflowError, fit

T = TypeVar("T")
log = logging.getLogger(__name__)

#: Settings that shape the provider object; changing one means creating a new provider.
_PROVIDER_FIELDS = (
    "provider",
    "model",
    "base_url",
    "api_key_env",
    "read_timeout",
    "retry",
    "local_model",
    "text_tool_calls",
)


@dataclass(frozen=True)
class CheckpointSpace:
    """How much the workspace's checkpoints hold, and may hold."""

    count: int
    bytes: int
    quota_bytes: int


@dataclass(frozen=True)
class AgentStatus:
    """What a status line shows about one agent (see :meth:`Agent.status`)."""

    version: str
    #: The provider in use, or the one the settings and environment select (None: none does).
    provider: str | None
    model: str | None
    session: SessionInfo | None
    #: Tokens used by this agent's turns since it was created.
    usage: Usage
    running: bool
    #: The embedded model's state when it is the provider (else None).
    local_model: ModelStatus | None = None
    #: The configured MCP servers and what each is doing.
    mcp_servers: list[ServerStatus] = field(default_factory=list)
    #: What was wrong with the MCP config when it was last read.
    mcp_problems: list[str] = field(default_factory=list)
    checkpoints: CheckpointSpace | None = None


class Agent:
    """One workspace's agent (see the module docstring and docs/architecture.md).

    ``host`` hears what happens outside a turn (each turn brings its own). ``provider`` may be
    injected (tests, or a front end that built one); it is then used as it is, without another
    retry layer. ``env`` defaults to the process environment and is where
    :func:`create_provider` finds API keys and base URLs.
    """

    def __init__(
        self,
        workspace: Path,
        config: AgentConfig,
        host: Host,
        *,
        provider: Provider | None = None,
        clock: Clock | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.workspace = Path(workspace).resolve()
        self.config = config
        self.host = host
        self.clock: Clock = clock or SystemClock()
        self._env: Mapping[str, str] = dict(os.environ) if env is None else env
        self._provider = provider
        self._injected = provider is not None
        self._stale: list[Provider] = []
        #: The workspace's checkpoints (a session's go with it when it is deleted).
        self.checkpoints = Checkpoints(self.workspace, config.checkpoints, config.sessions.folder)
        self.store = self._session_store()
        self._session: Session | None = None
        self.approvals = Approvals(config.approval, host)
        #: The workspace's MCP servers (started by the first turn that needs the tool list).
        self.mcp = McpManager(self.workspace, config, self._env, self.clock)
        self._running: AgentLoop | None = None
        #: The id of the turn :meth:`submit` is running (None when idle).
        self._turn_id: str | None = None
        #: Cancels whatever runs instead of a loop turn (a /compact request).
        self._cancel_other: Callable[[], object] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self.usage = Usage()
        #: Whether the last request carried the whole conversation, so the usage reported for it
        #: measures the whole prefix (see :func:`agent_core.tokens.known_prefix`).
        self._last_request_whole = False
        self._truncation_noted = False

    # -- state ---------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return not self._idle.is_set()

    @property
    def has_session(self) -> bool:
        """Whether a session is open (restored, loaded or started); :attr:`session` opens one."""
        return self._session is not None

    @property
    def session(self) -> Session:
        """The open session; the workspace's latest one is restored on first use."""
        if self._session is None:
            return self.restore()
        return self._session

    @property
    def provider(self) -> Provider:
        """The provider, created from the config on first use (raises :class:`ConfigError`)."""
        if self._provider is None:
            inner = create_provider(self.config, self._env)
            self._provider = RetryingProvider(inner, self.config.retry, self.clock)
        return self._provider

    def restore(self) -> Session:
        """Open the workspace's latest session (a new one if none or it is busy elsewhere), and
        report the switch, what loading repaired and which old sessions the retention settings
        removed. Raises :class:`SessionError` when the sessions folder cannot be used."""
        if self._session is not None:
            self._session.close()
            self._session = None
        try:
            session = self.store.open_latest()
        except OSError as error:  # the sessions folder cannot be created or read
            raise SessionError(str(error)) from error
        self._switch(session, self.host)
        deleted = self.store.cleanup(session.id)
        if deleted:
            self._notice(f"Removed {len(deleted)} old session(s) per the retention settings: {', '.join(deleted)}")
        return session

    def status(self) -> AgentStatus:
        """What a status line shows. Never creates the provider (that may start a local model):
        before the first turn it names the provider the settings and environment select."""
        provider = self._provider
        session = self._session
        name: str | None
        model: str | None
        if provider is not None:
            name, model = provider.name, provider.model
        else:
            try:
                name = choose_provider_name(self.config, self._env)
            except ConfigError:
                name = None
            model = self.config.model or (DEFAULT_MODELS.get(name) if name else None)
        target = getattr(provider, "inner", provider)
        space = self.checkpoints.store.usage()
        local = None
        if isinstance(target, LocalProvider):
            local = target.status()
        elif name == "local":
            with contextlib.suppress(ConfigError):
                local = local_model_status(self.config)
            model = local.name if local is not None else model
        return AgentStatus(
            version=__version__,
            provider=name,
            model=model,
            session=session.info() if session is not None else None,
            usage=self.usage,
            running=self.busy,
            local_model=local,
            mcp_servers=self.mcp.status(),
            mcp_problems=self.mcp.problems,
            checkpoints=CheckpointSpace(space.count, space.bytes, self.checkpoints.store.quota_bytes),
        )

    def update_config(self, config: AgentConfig) -> None:
        """Use new settings from the next turn on; the provider is rebuilt when its settings
        changed (the old one is closed once nothing uses it)."""
        old = self.config
        self.config = config
        self.approvals.policy = config.approval
        self.mcp.update_config(config)
        self.checkpoints.update_config(config.checkpoints)
        if config.sessions != old.sessions:
            self.store = self._session_store()
        changed = any(getattr(old, name) != getattr(config, name) for name in _PROVIDER_FIELDS)
        if changed and not self._injected and self._provider is not None:
            self._stale.append(self._provider)
            self._provider = None

    def switch_model(self, model: str) -> Provider:
        """``/model NAME``: the same provider with another model; the old settings stay when the
        new ones are refused."""
        if self._injected:
            raise ConfigError("The model of this provider is fixed by the front end that created it.")
        old = self.config
        self.update_config(old.model_copy(update={"model": model}))
        try:
            return self.provider
        except ConfigError:
            self.update_config(old)
            raise

    # -- turns ---------------------------------------------------------------------------------

    async def submit(
        self,
        text: str,
        *,
        context: PromptContext | None = None,
        turn_id: str | None = None,
        host: Host | None = None,
    ) -> TurnEnded:
        """Run one prompt: a slash command, or one agent-loop turn, reporting to ``host`` (the
        turn's own; default the agent's) and returning how it ended. Never raises for a bad
        config, provider or session; those end the turn with ``error`` and a notice. Raises
        :class:`AgentBusy` while another turn runs."""
        if self.busy:
            raise AgentBusy("A turn is already running; wait for it to finish or cancel it first.")
        self._idle.clear()
        turn_id = turn_id or new_id()
        host = host or self.host
        self._turn_id = turn_id
        try:
            await self._close_stale()
            if commands.is_command(text):
                output = await commands.run(self, text, host)
                self._notice(output.text, output.level, host)
                if output.level == "error":
                    return _ended(turn_id, "error", output.text)
                return _ended(turn_id, "cancelled" if output.cancelled else "end_turn", None)
            return await self._turn(text, context, turn_id, host)
        finally:
            self._turn_id = None
            self._idle.set()

    async def _turn(self, text: str, context: PromptContext | None, turn_id: str, host: Host) -> TurnEnded:
        try:
            session = self.session
        except SessionError as error:
            return self._fail(turn_id, f"The workspace's sessions cannot be opened: {error}", host)
        # The provider is built before the prompt is saved: a configuration problem is not part
        # of the conversation, and the front end still shows the prompt for sending again.
        try:
            provider = self.provider
        except ConfigError as error:
            return self._fail(turn_id, str(error), host)
        content = context.render(text) if context is not None else text
        user = Message(role="user", content=content)
        tools = ToolRegistry(self.workspace, host, self.config, self.approvals.for_host(host), self.mcp)
        # Checked before saving: a saved prompt that can never fit would be kept in every later
        # request (the first message and the latest ones are never left out), and each turn of
        # the session would fail the same way. (MCP tools are not counted: their servers start
        # with the turn.)
        refusal = self._too_big(user, provider, tools.specs())
        if refusal is not None:
            return self._fail(turn_id, refusal, host)
        try:
            session.append(user)
        except SessionError as error:
            return self._fail(turn_id, f"Your message was not sent because it could not be saved: {error}", host)
        tools.checkpoint = self.checkpoints.begin(session.id, user, text, turn_id, host.report, self.host.report)
        loop = AgentLoop(
            provider,
            tools,
            host,
            self.config,
            on_message=lambda message: self._save(message, host),
            # The tool list is read per request: MCP servers add theirs once started, and may
            # change it during the turn (list_changed).
            prepare=lambda messages: self._prepare(messages, provider, tools.specs(), host),
        )
        self._running = loop
        self._truncation_noted = False
        try:
            ended = await loop.run_turn(self.history(), turn_id)
        finally:
            self._running = None
        self.usage = self.usage + ended.usage
        return ended

    def history(self) -> list[Message]:
        """What the model sees of the session: everything from the latest ``/compact`` summary on
        (a copy: the loop appends to it, the session appends on save)."""
        messages = self.session.messages
        start = max((i for i, m in enumerate(messages) if m.kind == "summary"), default=0)
        return list(messages[start:])

    def system_prompt(self, specs: Sequence[ToolSpec], provider: Provider | None = None) -> str:
        """The configured prompt, else the compact one for providers that ask for it (small local
        models), else the default one."""
        if self.config.system_prompt:
            return self.config.system_prompt
        if getattr(provider, "prompt_style", "full") == "compact":
            return COMPACT_SYSTEM_PROMPT
        return default_system_prompt(self.workspace, specs)

    def context_window(self, provider: Provider | None) -> int:
        configured = self.config.truncation.context_window
        return configured or (provider.context_window if provider is not None else None) or DEFAULT_CONTEXT_WINDOW

    def _fit(self, messages: list[Message], provider: Provider, specs: Sequence[ToolSpec]) -> list[Message]:
        """``messages`` with the system prompt prepended, fitted into the window (no side effects;
        raises :class:`ContextOverflowError`)."""
        full = [Message(role="system", content=self.system_prompt(specs, provider)), *messages]
        window = self.context_window(provider)
        return fit(
            full,
            context_window=window,
            reserve_tokens=reply_reserve(self.config.truncation.reserve_tokens, self.config.max_tokens, window),
            min_recent=self.config.truncation.min_recent_messages,
            usage=known_prefix(full) if self._last_request_whole else None,
            fixed_tokens=estimate_tools(specs),
        )

    def _too_big(self, user: Message, provider: Provider, specs: Sequence[ToolSpec]) -> str | None:
        """Why ``user`` cannot be sent in this session (saying the limit), or None when it fits."""
        window = self.context_window(provider)
        reserve = reply_reserve(self.config.truncation.reserve_tokens, self.config.max_tokens, window)
        tools = estimate_tools(specs)
        system = estimate_message(Message(role="system", content=self.system_prompt(specs, provider)))
        available = window - reserve - tools - system
        size = estimate_message(user)
        if size > available:
            return (
                f"Your message was not sent: it is about {size} tokens, more than the "
                f"{max(available, 0)} this model can take in one message (context window {window}, "
                f"minus {reserve} reserved for the reply, {tools} for tool definitions and {system} "
                "for the system prompt). Shorten it, or send less context with it."
            )
        try:
            self._fit([*self.history(), user], provider, specs)
        except ContextOverflowError as error:
            return f"Your message was not sent: {error}"
        return None

    def _prepare(
        self, messages: list[Message], provider: Provider, specs: Sequence[ToolSpec], host: Host
    ) -> list[Message]:
        """Truncation before every request: the system prompt prepended, the rest fitted."""
        fitted = self._fit(messages, provider, specs)
        omission = next((m for m in fitted if m.kind == "omission"), None)
        self._last_request_whole = omission is None
        if omission is not None and not self._truncation_noted:
            self._truncation_noted = True
            self._notice(
                "Earlier messages were left out of this request to fit the model's context window "
                "(use /compact to summarise them).",
                "info",
                host,
            )
        return fitted

    def _save(self, message: Message, host: Host) -> None:
        """Save each message the moment it is complete; a failed save is reported, not raised
        (the message stays in the running turn, and the file keeps everything before it)."""
        try:
            self.session.append(message)
        except SessionError as error:
            self._notice(f"Could not save a message: {error}", "error", host)

    def cancel(self, turn_id: str | None = None) -> bool:
        """Stop the running turn or command (only if it is ``turn_id``, when given); True if
        something was stopped."""
        if turn_id is not None and turn_id != self._turn_id:
            return False
        if self._running is not None:
            self._running.cancel()
            return True
        if self._cancel_other is not None:
            self._cancel_other()
            return True
        return False

    async def run_cancellable(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` so that :meth:`cancel` stops it (used by ``/compact``); raises
        :class:`~agent_core.exceptions.CommandCancelled` then; a cancellation of the caller itself
        passes through unchanged."""
        task = asyncio.ensure_future(work)
        self._cancel_other = task.cancel
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and (current is None or current.cancelling() == 0):
                raise CommandCancelled() from None
            raise
        finally:
            self._cancel_other = None

    async def warm(self) -> bool:
        """When the provider is the embedded model: start it and get the fixed start of every
        request (system prompt and tools) into its cache, so the first turn does not wait for it.
        Meant to run in the background; a turn sent meanwhile simply waits for the model. Returns
        whether anything was warmed; failures are left for the first turn to report."""
        try:
            provider = self.provider
        except ConfigError:
            return False
        local = getattr(provider, "inner", provider)
        if not isinstance(local, LocalProvider):
            return False
        specs = ToolRegistry(self.workspace, self.host, self.config, self.approvals).specs()
        prefix = ChatRequest(
            messages=[Message(role="system", content=self.system_prompt(specs, provider))], tools=specs
        )
        try:
            outcome = await local.warm(prefix)
        except ProviderError as error:
            log.info("warming the local model failed: %s", error.message)
            return False
        log.info(
            "the local model %s is ready for %s (its fixed prefix: %s)",
            local.model,
            self.workspace,
            outcome or "already cached",
        )
        return True

    def record(self, message: Message) -> None:
        """Append ``message`` to the open session (inline-edit feedback); raises SessionError."""
        self.session.append(message)

    async def aclose(self) -> None:
        """Cancel the running turn, let the loop save the partial message, stop the MCP servers,
        close the session and release the provider. Safe to call twice."""
        if self.cancel():
            await self._idle.wait()
        await self.mcp.aclose()
        if self._provider is not None and not self._injected:
            self._stale.append(self._provider)
            self._provider = None
        await self._close_stale()
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- sessions ------------------------------------------------------------------------------

    def list_sessions(self) -> list[SessionInfo]:
        return self.store.list()

    # Switching sessions reports to ``host``: the turn's when a slash command switches, else the
    # agent's own.

    def load_session(self, session_id: str, *, host: Host | None = None) -> Session:
        self._require_idle()
        return self._switch(self.store.open(session_id), host or self.host)

    def new_session(self, *, host: Host | None = None) -> Session:
        self._require_idle()
        return self._switch(self.store.new(), host or self.host)

    def fork_session(self, session_id: str, *, host: Host | None = None) -> Session:
        """A copy of ``session_id`` under a new id, which becomes the open session."""
        self._require_idle()
        return self._switch(self.store.fork(session_id), host or self.host)

    def save_session(self, title: str | None = None) -> SessionInfo:
        """Every message is already saved; this names the session (default: its first prompt)."""
        session = self.session
        if title is None or not title.strip():
            first = next((m.content for m in session.messages if m.role == "user" and m.kind == "chat"), "")
            title = session.title or " ".join(first.split())[:60] or "Untitled session"
        session.set_title(title)
        return session.info()

    def rename_session(self, session_id: str, title: str) -> SessionInfo:
        if not title.strip():
            raise SessionError("A session title cannot be empty.")
        return self.store.rename(session_id, title)

    def delete_session(self, session_id: str) -> None:
        """Delete a session's file; the open one is refused (its history is what you are in)."""
        if self._session is not None and session_id == self._session.id:
            raise SessionError("That is the open session; start or load another one before deleting it.")
        self.store.delete(session_id)

    def export_session(self, session_id: str) -> str:
        return self.store.export_markdown(session_id)

    # -- checkpoints ---------------------------------------------------------------------------

    async def list_checkpoints(self, *, host: Host | None = None) -> list[CheckpointInfo]:
        """Every chat turn of the open session's active history, oldest first."""
        return await self.checkpoints.listing(self.session, host or self.host)

    async def diff_checkpoint(
        self, checkpoint_id: str, path: str | None = None, *, host: Host | None = None
    ) -> list[FileDiff]:
        return await self.checkpoints.diff(self.session, checkpoint_id, path, host or self.host)

    async def restore_checkpoint(
        self,
        checkpoint_id: str,
        mode: RestoreMode,
        *,
        force: bool = False,
        skip_conflicts: bool = False,
        host: Host | None = None,
    ) -> RestoreResult:
        """Restore to before turn ``checkpoint_id`` (see :mod:`agent_core.checkpoints`); a
        conversation rewind is announced like a session switch."""
        self._require_idle("A turn is running; cancel the running turn first.")
        host = host or self.host
        session = self.session
        result = await self.checkpoints.restore(
            session, checkpoint_id, mode, host, force=force, skip_conflicts=skip_conflicts, time=self.clock.wall()
        )
        if result.conversation:
            host.report(SessionChanged(session=session.info(), messages=list(session.messages)))
        return result

    async def undo_restore(self, *, host: Host | None = None) -> RestoreResult:
        """Undo the last restore of the open session: its files and its conversation rewind."""
        self._require_idle("A turn is running; cancel the running turn first.")
        host = host or self.host
        session = self.session
        result, rewind = await self.checkpoints.undo(session, host)
        if rewind is not None:
            session.unrewind(rewind)
            result.conversation = True
            host.report(SessionChanged(session=session.info(), messages=list(session.messages)))
        return result

    # -- helpers -------------------------------------------------------------------------------

    def _session_store(self) -> SessionStore:
        return SessionStore(
            self.workspace, self.config.sessions, clock=self.clock, on_delete=self.checkpoints.delete_session
        )

    def _switch(self, session: Session, host: Host) -> Session:
        """Make ``session`` the open one and announce it (:class:`SessionChanged`), after what
        loading it repaired."""
        if self._session is not None and self._session is not session:
            self._session.close()
        self._session = session
        self.approvals.forget()
        self._last_request_whole = False
        for warning in session.warnings:
            self._notice(warning, "warning", host)
        if session.read_only:
            self._notice(f"Session {session.id} is open in another window; it is read-only here.", "warning", host)
        host.report(SessionChanged(session=session.info(), messages=list(session.messages)))
        return session

    def _require_idle(self, message: str = "A turn is running; cancel it before switching sessions.") -> None:
        # Commands run while the agent is marked busy by their own submit; only a loop turn or
        # a /compact in flight would be disturbed by switching sessions under it.
        if self._running is not None or self._cancel_other is not None:
            raise AgentBusy(message)

    def _notice(self, text: str, level: NoticeLevel = "info", host: Host | None = None) -> None:
        (host or self.host).report(Notice(level=level, text=text))

    def _fail(self, turn_id: str, error: str, host: Host) -> TurnEnded:
        self._notice(error, "error", host)
        return _ended(turn_id, "error", error)

    async def _close_stale(self) -> None:
        while self._stale:
            await self._stale.pop().aclose()


def _ended(turn_id: str, stop_reason: StopReason, error: str | None) -> TurnEnded:
    """How a turn that never reached the model ended (no tokens used)."""
    return TurnEnded(turn_id=turn_id, stop_reason=stop_reason, usage=Usage(), error=error)
