"""What the server builds from the agent core: loaded after ``initialize`` is answered.

:class:`ServerState` is made on the first use of :attr:`AgentLanguageServer.state
<lsp_server.language_server.AgentLanguageServer.state>` (``initialized``, or a request a client
sends before it), from what ``initialize`` said: the settings in ``initializationOptions`` and
one agent per workspace folder. Importing this module imports the agent core and every feature
module's handlers; the server's start-up module imports none of them (see
:mod:`lsp_server.language_server`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types

from agent_core.agent import Agent
from agent_core.config import AgentConfig
from agent_core.messages import new_id
from lsp_server import code_actions, commands, wire
from lsp_server.folders import FolderAgent, FolderAgents
from lsp_server.host import LspHost
from lsp_server.inline_completion import Completions
from lsp_server.inline_edits import ProposalStore
from lsp_server.language_server import AgentLanguageServer
from lsp_server.progress import TurnProgress
from lsp_server.settings import SECTION, parse_settings
from lsp_server.streaming import DEFAULT_INTERVAL, TurnStream
from lsp_server.turns import Turn, TurnRegistry

logger = logging.getLogger(__name__)

#: A client that never answers ``workspace/configuration`` must not stall start-up.
CONFIGURATION_TIMEOUT = 5.0


class ServerState:
    """Settings, folders and their agents, turns, proposals, completions, and the bound command
    handlers of one server."""

    def __init__(self, server: AgentLanguageServer) -> None:
        self._server = server
        self.initial_settings = parse_settings(None)
        self.folder_configs: dict[Path, AgentConfig] = {}
        self.settings_problems: list[str] = []
        self.folders = FolderAgents(
            lambda root, uri: LspHost(server, root, uri, lambda: self.config_for(root)), self._make_agent
        )
        self.turns = TurnRegistry(ready=server.started)
        self.proposals = ProposalStore()
        self.completions = Completions(server)
        #: ``workspace/executeCommand`` handlers by command name (registered by lsp_server.server).
        self.commands: dict[str, Callable[..., Any]] = commands.bound(server)
        self.code_actions = code_actions.code_actions
        self._interval = DEFAULT_INTERVAL if server.delta_interval is None else server.delta_interval
        if server.initialize_params is not None:
            self.initialize(server.initialize_params)

    def initialize(self, params: types.InitializeParams) -> None:
        """What ``initialize`` said: the ``initializationOptions`` settings and one agent per
        workspace folder (the root, else the working directory, when it names none)."""
        self.initial_settings = parse_settings(params.initialization_options)
        for folder in params.workspace_folders or []:
            self.folders.add(folder.uri)
        if not len(self.folders):
            root = params.root_uri or (Path(params.root_path).resolve().as_uri() if params.root_path else None)
            self.folders.add(root, fallback=Path(os.getcwd()))

    def config_for(self, root: Path) -> AgentConfig:
        return self.folder_configs.get(root, self.initial_settings.config)

    def _make_agent(self, root: Path, host: LspHost) -> Agent:
        return Agent(root, self.config_for(root), host)

    def notify(self, params: wire.Notification) -> None:
        wire.notify(self._server, params)

    def new_turn(self, kind: wire.TurnKind, folder: FolderAgent, *, request_id: Any) -> Turn:
        turn_id = new_id()
        progress = TurnProgress(self._server, f"agent-turn-{turn_id}")
        stream = TurnStream(turn_id, kind, self.notify, progress=progress, interval=self._interval)
        return Turn(id=turn_id, kind=kind, folder=folder, stream=stream, progress=progress, request_id=request_id)

    async def pull_configuration(self) -> list[str]:
        """Ask the client for each folder's ``agent`` section; returns the problems found.

        A folder whose answer is empty keeps the ``initializationOptions`` settings.
        """
        server = self._server
        folders = list(self.folders)
        if not folders or not server.client_has_configuration():
            return []
        items = [types.ConfigurationItem(section=SECTION, scope_uri=f.uri) for f in folders]
        try:
            answers = await asyncio.wait_for(
                server.workspace_configuration_async(types.ConfigurationParams(items=items)), CONFIGURATION_TIMEOUT
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

    def settings_changed(self, raw: Any) -> list[str]:
        """``workspace/didChangeConfiguration`` from a client that cannot be asked: its settings
        replace the ``initializationOptions`` ones; returns the problems found."""
        parsed = parse_settings(raw)
        if parsed.given:
            self.initial_settings = parsed
            self.folder_configs.clear()
        return parsed.problems
