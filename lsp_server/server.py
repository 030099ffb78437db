"""The agent-lsp language server: its lifecycle handlers, every feature's registration, and the
``agent-lsp`` entry point.

The state every handler shares is :class:`~lsp_server.language_server.AgentLanguageServer`; the
features live in their own modules (:mod:`~lsp_server.commands`, :mod:`~lsp_server.code_actions`,
:mod:`~lsp_server.inline_completion`). This module imports none of them: it registers each
feature (so pygls advertises it in the ``initialize`` result) with a handler that reaches the
real one through :attr:`AgentLanguageServer.state`, built with the agent core on first use. So
``initialize`` is answered as soon as pygls is loaded, and the core is imported after it (see
:mod:`lsp_server.language_server`). The LSP lifecycle:

* ``initialize``: ``initializationOptions`` and the workspace folders kept for the state;
* ``initialized``: the state built (settings parsed, one agent per workspace folder), settings
  pulled with ``workspace/configuration`` when the client can answer, then each folder's latest
  session restored (its agent announces it, sent as ``agent/sessionRestored``; turns requested
  meanwhile are answered at once but wait for this before they run);
* ``workspace/didChangeConfiguration``: settings re-read and given to every agent;
* ``shutdown`` / ``exit`` / SIGTERM: running turns cancelled, partial messages saved, sessions
  closed (:meth:`AgentLanguageServer.aclose`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from agent_core import __version__
from agent_core.exceptions import AgentError
from agent_core.log_file import LogFileError
from lsp_server import transport
from lsp_server.language_server import AgentLanguageServer, CoreUnavailable
from lsp_server.logging_setup import configure as configure_logging
from lsp_server.methods import ASYNC_COMMANDS, COMMAND_NAMES
from lsp_server.tcp_auth import TcpSetupError, tcp_settings

if TYPE_CHECKING:
    from lsp_server.folders import FolderAgent

logger = logging.getLogger(__name__)

#: The code actions offered (see :mod:`lsp_server.code_actions`).
CODE_ACTION_KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite]


def create_server(*, delta_interval: float | None = None) -> AgentLanguageServer:
    """The server with every feature registered; ``delta_interval`` is the text coalescing
    window (None: :data:`lsp_server.streaming.DEFAULT_INTERVAL`)."""
    server = AgentLanguageServer(delta_interval=delta_interval)
    for name in COMMAND_NAMES:
        server.command(name)(_command(server, name))
    _register_inline_completion(server)

    @server.feature(types.INITIALIZE)
    def initialize(ls: AgentLanguageServer, params: types.InitializeParams) -> None:
        ls.initialize_params = params  # read when the state is built, at ``initialized``
        if ls.has_state:  # a client sent a request before initialize
            ls.state.initialize(params)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: AgentLanguageServer, params: types.InitializedParams) -> None:
        # A client may send requests right after ``initialized`` (a chat typed at once): they are
        # handled while this waits for ``workspace/configuration``. Turns wait for ``started``;
        # a session chosen meanwhile (agent.session.load/new) is kept, not replaced by the latest.
        try:
            try:
                ls.state  # noqa: B018 (built here, with the agent core, unless a request came first)
            except CoreUnavailable:
                return  # shown already; every request is answered with the reason
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
            problems = ls.state.settings_changed(params.settings)
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

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=CODE_ACTION_KINDS))
    def code_action(ls: AgentLanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return ls.state.code_actions(params)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: AgentLanguageServer, params: None) -> None:
        await ls.aclose()

    @server.feature(types.EXIT)
    async def exit_(ls: AgentLanguageServer, params: None) -> None:
        await ls.aclose()

    return server


def _command(server: AgentLanguageServer, name: str) -> Callable[..., Any]:
    """The registered handler of command ``name``: the bound handler of
    :func:`lsp_server.commands.bound`, reached through the state. A coroutine for the commands
    in ``ASYNC_COMMANDS``, a plain function for the others, as the handler itself is (pygls
    answers a plain function's request before anything else runs)."""
    if name in ASYNC_COMMANDS:

        async def call_async(*args: Any) -> Any:
            return await server.state.commands[name](*args)

        return call_async

    def call(*args: Any) -> Any:
        return server.state.commands[name](*args)

    return call


def _register_inline_completion(server: AgentLanguageServer) -> None:
    """``textDocument/inlineCompletion`` (pygls then advertises ``inlineCompletionProvider``) and
    the document events that feed the engines (:mod:`lsp_server.inline_completion`)."""

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: AgentLanguageServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        return await ls.completions.complete(params)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: AgentLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.completions.opened(params)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: AgentLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.completions.changed(params)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: AgentLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.completions.saved(params)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: AgentLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.completions.closed(params)


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
