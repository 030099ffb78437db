"""The agent-lsp language server: its lifecycle handlers and the ``agent-lsp`` entry point.

The state every handler shares is :class:`~lsp_server.language_server.AgentLanguageServer`; the
features live in their own modules (:mod:`~lsp_server.commands`, :mod:`~lsp_server.code_actions`)
and this module wires them and the LSP lifecycle:

* ``initialize``: settings from ``initializationOptions``, one agent per workspace folder;
* ``initialized``: settings pulled with ``workspace/configuration`` when the client can answer,
  then each folder's latest session restored (its agent announces it, sent as
  ``agent/sessionRestored``; turns requested meanwhile are answered at once but wait for this
  before they run);
* ``workspace/didChangeConfiguration``: settings re-read and given to every agent;
* ``shutdown`` / ``exit`` / SIGTERM: running turns cancelled, partial messages saved, sessions
  closed (:meth:`AgentLanguageServer.aclose`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types

from agent_core import __version__
from agent_core.exceptions import AgentError
from agent_core.log_file import LogFileError
from lsp_server import code_actions, commands, inline_completion, transport
from lsp_server.folders import FolderAgent
from lsp_server.language_server import AgentLanguageServer
from lsp_server.logging_setup import configure as configure_logging
from lsp_server.settings import parse_settings
from lsp_server.streaming import DEFAULT_INTERVAL
from lsp_server.tcp_auth import TcpSetupError, tcp_settings

logger = logging.getLogger(__name__)


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
                # A session chosen meanwhile (agent.session.load/new) was announced then.
                if not folder.agent.has_session:
                    _restore(ls, folder)
        finally:
            ls.started.set()
        for folder in ls.folders:
            ls.warm(folder)

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
                ls.warm(folder)

    @server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def progress_cancel(ls: AgentLanguageServer, params: types.WorkDoneProgressCancelParams) -> None:
        ls.turns.cancel_by_token(params.token)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=code_actions.KINDS))
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
    """Open the folder's latest session (the agent announces it); a session problem is shown,
    not fatal."""
    try:
        folder.agent.restore()
    except AgentError as exc:
        server.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"agent-lsp: {exc}"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agent-lsp", description="The agent-lsp language server (stdio by default).")
    parser.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)")
    parser.add_argument(
        "--tcp",
        metavar="HOST:PORT",
        type=_host_port,
        help="listen on HOST:PORT for one client instead of using stdio (port 0: any free "
        "port); the client must send the token as initializationOptions.token",
    )
    parser.add_argument(
        "--token-file",
        metavar="PATH",
        type=Path,
        help="with --tcp: read the token from this file (mode 600) instead of making one up and printing it on stderr",
    )
    parser.add_argument(
        "--allow-remote", action="store_true", help="with --tcp: allow a HOST that is not a loopback address"
    )
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
