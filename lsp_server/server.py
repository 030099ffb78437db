"""The agent-lsp language server: state, lifecycle handlers, and the ``agent-lsp`` entry point.

:class:`AgentLanguageServer` holds everything the handlers share (settings, one agent per
workspace folder, running turns, pending inline-edit proposals); the features live in their own
modules (:mod:`~lsp_server.commands`, :mod:`~lsp_server.code_actions`) and this module only wires
the LSP lifecycle:

* ``initialize``: settings from ``initializationOptions``, one agent per workspace folder;
* ``initialized``: settings pulled with ``workspace/configuration`` when the client can answer,
  then each folder's latest session restored and sent as ``agent/sessionRestored`` (turns
  requested meanwhile are answered at once but wait for this before they run);
* ``workspace/didChangeConfiguration``: settings re-read and given to every agent;
* ``shutdown`` / ``exit`` / SIGTERM: running turns cancelled, partial messages saved, sessions
  closed (:meth:`AgentLanguageServer.aclose`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError
from pygls.lsp.server import LanguageServer

from agent_core import __version__
from agent_core.agent import Agent
from agent_core.config import AgentConfig
from agent_core.messages import new_id
from agent_core.sessions import SessionError
from lsp_server import code_actions, commands, inline_completion, transport
from lsp_server.folders import FolderAgent, FolderAgents
from lsp_server.host import LspHost
from lsp_server.inline_completion import Completions
from lsp_server.inline_edits import ProposalStore
from lsp_server.logging_setup import LogFileError
from lsp_server.logging_setup import configure as configure_logging
from lsp_server.progress import TurnProgress
from lsp_server.protocol import AgentProtocol
from lsp_server.settings import SECTION, ParsedSettings, parse_settings
from lsp_server.streaming import DEFAULT_INTERVAL, TurnKind, TurnStream
from lsp_server.tcp_auth import TcpSetupError, tcp_settings
from lsp_server.transcript import session_info_to_protocol, transcript_to_protocol
from lsp_server.turns import Turn, TurnRegistry

logger = logging.getLogger(__name__)

#: How long shutdown waits for cancelled turns to save their partial messages.
CLOSE_TIMEOUT = 2.0
#: A client that never answers ``workspace/configuration`` must not stall start-up.
CONFIGURATION_TIMEOUT = 5.0


class AgentLanguageServer(LanguageServer):
    def __init__(self, *, delta_interval: float = DEFAULT_INTERVAL) -> None:
        super().__init__("agent-lsp", __version__, protocol_cls=AgentProtocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.delta_interval = delta_interval
        self.initial_settings = ParsedSettings(AgentConfig(), given=False)
        self.folder_configs: dict[Path, AgentConfig] = {}
        self.settings_problems: list[str] = []
        self.folders = FolderAgents(lambda root: LspHost(self, root, lambda: self.config_for(root)),
                                    self._make_agent)
        #: Set when ``initialized`` has pulled the settings and restored the sessions; turns
        #: (answered at once) wait for it before they run.
        self.started = asyncio.Event()
        self.turns = TurnRegistry(ready=self.started)
        self.proposals = ProposalStore()
        self.completions = Completions(self)
        self._closing: asyncio.Task[None] | None = None

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

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self.protocol.notify(method, params)

    def new_turn(self, kind: TurnKind, folder: FolderAgent) -> Turn:
        """A turn for the current request (its JSON-RPC id is kept for ``$/cancelRequest``)."""
        turn_id = new_id()
        progress = TurnProgress(self, f"agent-turn-{turn_id}")
        stream = TurnStream(turn_id, kind, self.notify, progress=progress, interval=self.delta_interval)
        return Turn(id=turn_id, kind=kind, folder=folder, stream=stream, progress=progress,
                    request_id=self.protocol.msg_id)

    def cancel_request_turn(self, request_id: Any) -> bool:
        return self.turns.cancel_by_request(request_id)

    def send_session_restored(self, folder: FolderAgent) -> dict[str, Any]:
        """Send the folder's open session and transcript; returns the payload."""
        session = folder.agent.session
        payload = {
            "session": session_info_to_protocol(session.info()),
            "transcript": transcript_to_protocol(session.messages),
            "folder": folder.uri,
        }
        self.notify("agent/sessionRestored", payload)
        return payload

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
                self.workspace_configuration_async(types.ConfigurationParams(items=items)), CONFIGURATION_TIMEOUT)
        except Exception as exc:  # no answer or an error: keep what we have, say so in the log
            logger.warning("workspace/configuration failed (%s); keeping the current settings", exc or type(exc).__name__)
            return []
        problems: list[str] = []
        for folder, answer in zip(folders, answers or []):
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


def create_server(*, delta_interval: float = DEFAULT_INTERVAL) -> AgentLanguageServer:
    """The server with every feature registered; ``delta_interval`` is the text coalescing window."""
    server = AgentLanguageServer(delta_interval=delta_interval)
    commands.register(server)
    inline_completion.register(server)

    @server.feature(types.INITIALIZE)
    def initialize(ls: AgentLanguageServer, params: types.InitializeParams) -> None:
        ls.initial_settings = parse_settings(params.initialization_options)
        folders = params.workspace_folders or []
        for folder in folders:
            ls.folders.add(folder.uri)
        if not len(ls.folders):
            root = params.root_uri or (Path(params.root_path).resolve().as_uri() if params.root_path else None)
            ls.folders.add(root, fallback=Path(os.getcwd()))

    @server.feature(types.INITIALIZED)
    async def initialized(ls: AgentLanguageServer, params: types.InitializedParams) -> None:
        # A client may send requests right after ``initialized`` (a chat typed at once): they are
        # handled while this waits for ``workspace/configuration``. Turns wait for ``started``;
        # a session chosen meanwhile (agent.session.load/new) is kept, not replaced by the latest.
        try:
            problems = list(ls.initial_settings.problems)
            problems.extend(await ls.pull_configuration())
            ls.apply_configs()
            ls.show_problems(problems)
            for folder in ls.folders:
                if folder.agent.has_session:
                    ls.send_session_restored(folder)
                else:
                    _restore(ls, folder)
        finally:
            ls.started.set()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: AgentLanguageServer, params: types.DidChangeConfigurationParams) -> None:
        if ls.client_has_configuration():
            problems = await ls.pull_configuration()
        else:
            parsed = parse_settings(params.settings)
            problems = parsed.problems
            if parsed.given:
                ls.initial_settings = parsed
                ls.folder_configs.clear()
        ls.apply_configs()
        ls.show_problems(problems)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_folders(ls: AgentLanguageServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        for removed in params.event.removed or []:
            folder = ls.folders.remove(removed.uri)
            if folder is not None:
                for turn in ls.turns.running():
                    if turn.folder is folder:
                        ls.turns.cancel(turn.id)
                await folder.agent.aclose()
        for added in params.event.added or []:
            folder = ls.folders.add(added.uri)
            if folder is not None:
                _restore(ls, folder)

    @server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def progress_cancel(ls: AgentLanguageServer, params: types.WorkDoneProgressCancelParams) -> None:
        ls.turns.cancel_by_token(params.token)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=code_actions.KINDS))
    def code_action(ls: AgentLanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return code_actions.code_actions(params)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: AgentLanguageServer, params: None) -> None:
        await ls.aclose()

    @server.feature(types.EXIT)
    async def exit_(ls: AgentLanguageServer, params: None) -> None:
        await ls.aclose()

    return server


def _restore(server: AgentLanguageServer, folder: FolderAgent) -> None:
    """Open the folder's latest session and send it; a session problem is shown, not fatal."""
    try:
        folder.agent.restore()
    except SessionError as exc:
        server.window_show_message(types.ShowMessageParams(type=types.MessageType.Error,
                                                           message=f"agent-lsp: {exc}"))
        return
    server.send_session_restored(folder)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agent-lsp", description="The agent-lsp language server (stdio by default).")
    parser.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)")
    parser.add_argument("--tcp", metavar="HOST:PORT", type=_host_port,
                        help="listen on HOST:PORT for one client instead of using stdio (port 0: any free "
                             "port); the client must send the token as initializationOptions.token")
    parser.add_argument("--token-file", metavar="PATH", type=Path,
                        help="with --tcp: read the token from this file (mode 600) instead of making one up "
                             "and printing it on stderr")
    parser.add_argument("--allow-remote", action="store_true",
                        help="with --tcp: allow a HOST that is not a loopback address")
    parser.add_argument("--log-file", metavar="PATH", type=Path, help="also write the log to this file")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--version", action="version", version=f"agent-lsp {__version__}")
    return parser


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, e.g. 127.0.0.1:2087, got {value!r}")
    return host, int(port)


def run(argv: Sequence[str] | None = None) -> int:
    """``agent-lsp [--stdio | --tcp HOST:PORT [--token-file PATH] [--allow-remote]] [--log-file PATH]
    [-v]``; returns the exit code."""
    args, unknown = build_parser().parse_known_args(argv)
    try:
        tcp = tcp_settings(*args.tcp, token_file=args.token_file, allow_remote=args.allow_remote) if args.tcp else None
    except TcpSetupError as exc:
        sys.stderr.write(f"agent-lsp: {exc}\n")
        return 2
    server = create_server()
    try:
        log_handler = configure_logging(server, verbose=args.verbose, log_file=args.log_file)
    except LogFileError as exc:
        sys.stderr.write(f"agent-lsp: {exc}\n")
        return 2
    if unknown:
        logger.warning("ignoring unknown arguments: %s", " ".join(unknown))
    return transport.serve(server, log_handler, tcp=tcp)
