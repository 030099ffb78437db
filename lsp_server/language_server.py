"""The server's state: what every handler shares, on a ``LanguageServer`` subclass.

:class:`AgentLanguageServer` holds the settings, one agent per workspace folder, the running
turns and the pending inline-edit proposals, plus the helpers the feature modules share. The
handlers live in :mod:`lsp_server.server` (lifecycle), :mod:`lsp_server.commands` and
:mod:`lsp_server.code_actions`; all of them import this module, and it imports none of them.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError
from pygls.lsp.server import LanguageServer

from agent_core import __version__
from agent_core.agent import Agent
from agent_core.config import AgentConfig
from agent_core.messages import new_id
from lsp_server import wire
from lsp_server.folders import FolderAgent, FolderAgents
from lsp_server.host import LspHost
from lsp_server.inline_completion import Completions
from lsp_server.inline_edits import ProposalStore
from lsp_server.progress import TurnProgress
from lsp_server.protocol import AgentProtocol
from lsp_server.settings import SECTION, ParsedSettings, parse_settings
from lsp_server.streaming import DEFAULT_INTERVAL, TurnStream
from lsp_server.turns import Turn, TurnRegistry

logger = logging.getLogger(__name__)

#: How long shutdown waits for cancelled turns to save their partial messages.
CLOSE_TIMEOUT = 2.0
#: A client that never answers ``workspace/configuration`` must not stall start-up.
CONFIGURATION_TIMEOUT = 5.0


class AgentLanguageServer(LanguageServer):
    def __init__(self, *, delta_interval: float = DEFAULT_INTERVAL) -> None:
        super().__init__(
            "agent-lsp",
            __version__,
            protocol_cls=AgentProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.delta_interval = delta_interval
        self.initial_settings = ParsedSettings(AgentConfig(), given=False)
        self.folder_configs: dict[Path, AgentConfig] = {}
        self.settings_problems: list[str] = []
        self.folders = FolderAgents(
            lambda root, uri: LspHost(self, root, uri, lambda: self.config_for(root)), self._make_agent
        )
        #: Set when ``initialized`` has pulled the settings and restored the sessions; turns
        #: (answered at once) wait for it before they run.
        self.started = asyncio.Event()
        self.turns = TurnRegistry(ready=self.started)
        self.proposals = ProposalStore()
        self.completions = Completions(self)
        self._closing: asyncio.Task[None] | None = None
        #: Background work no request waits for (warming the local model).
        self._background: set[asyncio.Task[Any]] = set()

    def report_server_error(self, error: Exception, source: Any) -> None:
        """pygls' default shows every out-of-band error with ``window/showMessage``; when sending
        itself failed (the client is gone), that would fail again, so it is only logged."""
        if source is JsonRpcInternalError:
            logger.error("could not send to the client: %s", error)
            return
        super().report_server_error(error, source)

    # -- shared helpers used by the feature modules -------------------------------------------

    def config_for(self, root: Path) -> AgentConfig:
        return self.folder_configs.get(root, self.initial_settings.config)

    def _make_agent(self, root: Path, host: LspHost) -> Agent:
        return Agent(root, self.config_for(root), host)

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
        wire.notify(self, params)

    def new_turn(self, kind: wire.TurnKind, folder: FolderAgent) -> Turn:
        """A turn for the current request (its JSON-RPC id is kept for ``$/cancelRequest``)."""
        turn_id = new_id()
        progress = TurnProgress(self, f"agent-turn-{turn_id}")
        stream = TurnStream(turn_id, kind, self.notify, progress=progress, interval=self.delta_interval)
        return Turn(
            id=turn_id, kind=kind, folder=folder, stream=stream, progress=progress, request_id=self.protocol.msg_id
        )

    def cancel_request_turn(self, request_id: Any) -> bool:
        return self.turns.cancel_by_request(request_id)

    def show_problems(self, problems: list[str]) -> None:
        """Bad settings: one ``window/showMessage`` naming every bad field (defaults used)."""
        self.settings_problems = list(dict.fromkeys(problems))
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
        folders = list(self.folders)
        if not folders or not self.client_has_configuration():
            return []
        items = [types.ConfigurationItem(section=SECTION, scope_uri=f.uri) for f in folders]
        try:
            answers = await asyncio.wait_for(
                self.workspace_configuration_async(types.ConfigurationParams(items=items)), CONFIGURATION_TIMEOUT
            )
        except Exception as exc:  # no answer or an error: keep what we have, say so in the log
            logger.warning(
                "workspace/configuration failed (%s); keeping the current settings", exc or type(exc).__name__
            )
            return []
        problems: list[str] = []
        for folder, answer in zip(folders, answers or [], strict=False):
            parsed = parse_settings(answer)
            problems.extend(parsed.problems)
            if parsed.given:
                self.folder_configs[folder.root] = parsed.config
        return problems

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
        self.turns.cancel_all()
        await self.turns.wait_all(CLOSE_TIMEOUT)
        for folder in self.folders:
            try:
                await asyncio.wait_for(folder.agent.aclose(), CLOSE_TIMEOUT)
            except Exception:
                logger.exception("closing the agent of %s failed", folder.uri)
        try:
            # Not through wait_for (a task of its own): closing what was never used must not
            # yield to the loop, or a shutdown answered right before end of input loses its reply.
            await self.completions.aclose()
        except Exception:
            logger.exception("closing the completion engines failed")
