"""The server's state: what every handler shares, on a ``LanguageServer`` subclass.

:class:`AgentLanguageServer` holds the settings, one agent per workspace folder, the running
turns and the pending inline-edit proposals, plus the helpers the feature modules share. The
handlers live in :mod:`lsp_server.server` (lifecycle and registration), :mod:`lsp_server.commands`,
:mod:`lsp_server.code_actions` and :mod:`lsp_server.inline_completion`; all of them import this
module, and it imports none of them.

Start-up is paid with every editor window, so this module and :mod:`lsp_server.server` import
nothing of the agent core: ``initialize`` is answered with what pygls itself needs, and
everything built from the core (settings, folders and their agents, turns, completions: a
:class:`~lsp_server.server_state.ServerState`) is made on first use, which is ``initialized``
(or any request a client sends before it). That first use is the one place the core is imported
(:attr:`AgentLanguageServer.state`); a package missing there is shown to the user and answered
with its message, never left for the middle of a turn.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError
from pygls.lsp.server import LanguageServer

from agent_core import __version__
from agent_core.exceptions import AgentError
from lsp_server.protocol import AgentProtocol

if TYPE_CHECKING:
    from agent_core.config import AgentConfig
    from lsp_server import wire
    from lsp_server.folders import FolderAgent, FolderAgents
    from lsp_server.inline_completion import Completions
    from lsp_server.inline_edits import ProposalStore
    from lsp_server.server_state import ServerState
    from lsp_server.settings import ParsedSettings
    from lsp_server.turns import Turn, TurnRegistry

logger = logging.getLogger(__name__)

#: How long shutdown waits for cancelled turns to save their partial messages.
CLOSE_TIMEOUT = 2.0


class CoreUnavailable(AgentError):
    """The agent core could not be loaded (a broken or partial installation)."""


class AgentLanguageServer(LanguageServer):
    def __init__(self, *, delta_interval: float | None = None) -> None:
        super().__init__(
            "agent-lsp",
            __version__,
            protocol_cls=AgentProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        #: Seconds between two text notifications of a turn (None: the default of streaming.py).
        self.delta_interval = delta_interval
        #: What ``initialize`` said: its ``initializationOptions`` and workspace folders, read
        #: when the state is built.
        self.initialize_params: types.InitializeParams | None = None
        #: Set when ``initialized`` has pulled the settings and restored the sessions; turns
        #: (answered at once) wait for it before they run.
        self.started = asyncio.Event()
        self._state: ServerState | None = None
        self._load_error: CoreUnavailable | None = None
        self._closing: asyncio.Task[None] | None = None
        #: Background work no request waits for (warming the local model).
        self._background: set[asyncio.Task[Any]] = set()

    @property
    def state(self) -> ServerState:
        """Everything built from the agent core, made (and the core imported) on first use."""
        if self._state is None:
            if self._load_error is not None:
                raise self._load_error
            try:
                from lsp_server.server_state import ServerState  # the core's one import: see above
            except ImportError as exc:
                self._load_error = CoreUnavailable(
                    f"agent-lsp could not load its agent core ({exc}); reinstall agent-lsp with its dependencies"
                )
                logger.error("%s", self._load_error, exc_info=exc)
                self.window_show_message(
                    types.ShowMessageParams(type=types.MessageType.Error, message=str(self._load_error))
                )
                raise self._load_error from exc
            self._state = ServerState(self)
        return self._state

    @property
    def has_state(self) -> bool:
        """Whether the state was built (the agent core loaded)."""
        return self._state is not None

    def report_server_error(self, error: Exception, source: Any) -> None:
        """pygls' default shows every out-of-band error with ``window/showMessage``; when sending
        itself failed (the client is gone), that would fail again, so it is only logged."""
        if source is JsonRpcInternalError:
            logger.error("could not send to the client: %s", error)
            return
        super().report_server_error(error, source)

    # -- the state, as every handler reads it ---------------------------------------------------

    @property
    def folders(self) -> FolderAgents:
        return self.state.folders

    @property
    def turns(self) -> TurnRegistry:
        return self.state.turns

    @property
    def proposals(self) -> ProposalStore:
        return self.state.proposals

    @property
    def completions(self) -> Completions:
        return self.state.completions

    @property
    def initial_settings(self) -> ParsedSettings:
        return self.state.initial_settings

    @initial_settings.setter
    def initial_settings(self, parsed: ParsedSettings) -> None:
        self.state.initial_settings = parsed

    @property
    def folder_configs(self) -> dict[Path, AgentConfig]:
        return self.state.folder_configs

    @property
    def settings_problems(self) -> list[str]:
        return self.state.settings_problems

    # -- shared helpers used by the feature modules -------------------------------------------

    def config_for(self, root: Path) -> AgentConfig:
        return self.state.config_for(root)

    def warm(self, folder: FolderAgent) -> None:
        """When the folder's provider is the embedded model, start it and let it read the fixed
        start of every request in the background (:meth:`Agent.warm`); a turn sent meanwhile just
        waits for the model, with a notice saying so."""
        task = asyncio.ensure_future(folder.agent.warm())
        self._background.add(task)
        task.add_done_callback(self._background_done)

    def _background_done(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background work failed", exc_info=task.exception())

    def notify(self, params: wire.Notification) -> None:
        self.state.notify(params)

    def new_turn(self, kind: wire.TurnKind, folder: FolderAgent) -> Turn:
        """A turn for the current request (its JSON-RPC id is kept for ``$/cancelRequest``)."""
        return self.state.new_turn(kind, folder, request_id=self.protocol.msg_id)

    def cancel_request_turn(self, request_id: Any) -> bool:
        return self._state is not None and self._state.turns.cancel_by_request(request_id)

    def show_problems(self, problems: list[str]) -> None:
        """Bad settings: one ``window/showMessage`` naming every bad field (defaults used)."""
        self.state.settings_problems = list(dict.fromkeys(problems))
        if not self.settings_problems:
            return
        text = "agent-lsp settings: " + "; ".join(self.settings_problems)
        logger.warning("%s", text)
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=text))

    # -- settings -----------------------------------------------------------------------------

    def client_has_configuration(self) -> bool:
        workspace = self.client_capabilities.workspace
        return bool(workspace and workspace.configuration)

    async def pull_configuration(self) -> list[str]:
        """Ask the client for each folder's ``agent`` section; returns the problems found.

        A folder whose answer is empty keeps the ``initializationOptions`` settings.
        """
        return await self.state.pull_configuration()

    def apply_configs(self) -> None:
        self.folders.update_config(lambda folder: self.config_for(folder.root))

    # -- shutdown -----------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Cancel running turns, save, close every agent's session. Idempotent and shared: the
        second caller waits for the first."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        for task in list(self._background):
            task.cancel()
        state = self._state
        if state is None:  # never got past initialize: nothing was opened
            return
        state.turns.cancel_all()
        await state.turns.wait_all(CLOSE_TIMEOUT)
        for folder in state.folders:
            try:
                await asyncio.wait_for(folder.agent.aclose(), CLOSE_TIMEOUT)
            except Exception:
                logger.exception("closing the agent of %s failed", folder.uri)
        try:
            # Not through wait_for (a task of its own): closing what was never used must not
            # yield to the loop, or a shutdown answered right before end of input loses its reply.
            await state.completions.aclose()
        except Exception:
            logger.exception("closing the completion engines failed")
