"""The ``workspace/executeCommand`` commands of docs/protocol.md.

Handlers stay thin: they get their argument object already checked (:mod:`lsp_server.wire`),
call the folder's agent (or start a turn), and return the result model. Turn-starting handlers
are plain functions, not coroutines: pygls answers a plain function's request before anything
else runs, so the client always gets ``{turnId}`` before the turn's first notification.

Errors are answered in one place (:func:`_answering`): a malformed argument is InvalidParams
(:mod:`lsp_server.arguments`), an
:class:`~agent_core.exceptions.AgentError` (busy, unknown session, bad settings) RequestFailed
with its message, and anything else is a bug, logged with its traceback and answered as an
internal error. The server goes on serving either way.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcInternalError

from agent_core.events import TurnEnded
from agent_core.exceptions import AgentBusy, AgentError
from agent_core.inline_edit import propose
from agent_core.prompt import PromptContext
from lsp_server import checkpoint_commands, wire
from lsp_server.arguments import RequestFailed, parse_arguments
from lsp_server.documents import clamp_range, range_offsets
from lsp_server.folders import FolderAgent
from lsp_server.inline_edits import (
    InlineEditInputError,
    Proposal,
    accept,
    build_request,
    display_path,
    language_of,
    reject,
    snapshot,
)
from lsp_server.language_server import AgentLanguageServer
from lsp_server.turns import Turn

logger = logging.getLogger(__name__)

#: Used when a client runs the "Edit with agent" code action without asking for an instruction.
DEFAULT_INSTRUCTION = "Improve this code: make it clearer and fix any bugs, keeping its behaviour."

#: A command handler: the server and the parsed argument object -> the result (or its coroutine).
Handler = Callable[[AgentLanguageServer, Any], wire.WireModel | Awaitable[wire.WireModel]]


def bound(server: AgentLanguageServer) -> dict[str, Callable[..., Any]]:
    """Every command's pygls handler on ``server``, by name (registered, and advertised in
    ``executeCommandProvider``, by :mod:`lsp_server.server` from :data:`lsp_server.methods.COMMAND_NAMES`)."""
    return {name: _bind(server, name, handler) for name, handler in HANDLERS.items()}


def _bind(server: AgentLanguageServer, name: str, handler: Handler) -> Callable[..., Any]:
    """The pygls command handler: takes the raw argument list (``*args``, so pygls passes it
    unconverted), parses the one argument object, runs ``handler`` and sends its result."""
    arguments, _ = wire.COMMANDS[name]

    if inspect.iscoroutinefunction(handler):

        async def call_async(*args: Any) -> Any:
            with _answering(name):
                result = await handler(server, parse_arguments(name, arguments, args))
                return result.wire()

        return call_async

    def call(*args: Any) -> Any:
        with _answering(name):
            result = handler(server, parse_arguments(name, arguments, args))
            assert isinstance(result, wire.WireModel)
            return result.wire()

    return call


@contextmanager
def _answering(name: str) -> Iterator[None]:
    """The error boundary of every command (see the module docstring)."""
    try:
        yield
    except JsonRpcException:
        raise
    except AgentError as exc:
        raise RequestFailed(f"{name}: {exc}") from exc
    except Exception as exc:
        logger.exception("%s failed", name)
        raise JsonRpcInternalError(
            f"{name}: internal error ({type(exc).__name__}: {exc}); the server log has the details"
        ) from exc


# -- turns -------------------------------------------------------------------------------------


def chat(server: AgentLanguageServer, arg: wire.ChatArgs) -> wire.TurnResult:
    raw = arg.context
    folder = server.folders.for_uri(raw.uri if raw is not None else None)
    context = _prompt_context(server, folder, raw) if raw is not None else None
    _require_idle(server, folder)
    if arg.session_id is not None and arg.session_id != folder.agent.session.id:
        folder.agent.load_session(arg.session_id)
    turn = server.new_turn("chat", folder)

    async def body(turn: Turn) -> TurnEnded:
        # A slash command that switches the session (/clear, /session load) announces it to the
        # turn's host, which sends the new transcript.
        host = folder.host.for_turn(turn.stream)
        return await folder.agent.submit(arg.prompt, context=context, turn_id=turn.id, host=host)

    server.turns.start(turn, body, "Agent", arg.prompt)
    return wire.TurnResult(turn_id=turn.id)


def _require_idle(server: AgentLanguageServer, folder: FolderAgent) -> None:
    """One chat turn per folder: the registry knows every one, including one still waiting for
    start-up to finish (the agent itself only knows the one it runs)."""
    running = server.turns.busy_chat(folder)
    if running is not None:
        raise AgentBusy(f"a turn is already running ({running.id}); cancel it or wait for it to end")


def _prompt_context(server: AgentLanguageServer, folder: FolderAgent, raw: wire.ChatContext) -> PromptContext:
    text = raw.text
    range_ = raw.range.lsp() if raw.range is not None else None
    path = display_path(folder, raw.uri) if raw.uri else None
    if range_ is not None and text is None and raw.uri is not None:
        document = server.workspace.text_documents.get(raw.uri)
        if document is not None:
            start, end = range_offsets(document.source, range_, server.workspace.position_codec)
            text = document.source[start:end] or None
    start_line = end_line = None
    if range_ is not None:
        start_line = range_.start.line + 1
        # A selection of whole lines ends at column 0 of the next line; that line is not in it.
        ends_at_line_start = range_.end.character == 0 and range_.end.line > range_.start.line
        end_line = range_.end.line if ends_at_line_start else range_.end.line + 1
    return PromptContext(
        path=path, selection=text, start_line=start_line, end_line=end_line, diagnostics=list(raw.diagnostics or [])
    )


def inline_edit(server: AgentLanguageServer, arg: wire.InlineEditArgs) -> wire.TurnResult:
    uri = arg.uri
    instruction = arg.instruction if arg.instruction and arg.instruction.strip() else DEFAULT_INSTRUCTION
    folder = _inline_edit_folder(server, uri)
    doc = snapshot(server, uri)
    codec = server.workspace.position_codec
    range_ = clamp_range(doc.text, arg.range.lsp(), codec)
    request = build_request(folder, doc, range_, instruction, codec, language_of(server, uri))
    turn = server.new_turn("inlineEdit", folder)

    async def body(turn: Turn) -> TurnEnded:
        new_text = await propose(folder.agent.provider, request, folder.host.for_turn(turn.stream))
        server.proposals.add(
            Proposal(
                turn_id=turn.id,
                folder=folder,
                uri=uri,
                range=range_,
                instruction=instruction,
                base_text=doc.text,
                new_text=new_text,
                display_path=request.path,
            )
        )
        turn.stream.flush()
        server.notify(
            wire.InlineEditProposalParams(turn_id=turn.id, uri=uri, range=wire.Range.of(range_), new_text=new_text)
        )
        return TurnEnded(turn_id=turn.id, stop_reason="end_turn", usage=turn.stream.usage)

    server.turns.start(turn, body, "Agent: inline edit", instruction)
    return wire.TurnResult(turn_id=turn.id)


def _inline_edit_folder(server: AgentLanguageServer, uri: str) -> FolderAgent:
    """The folder an inline edit of ``uri`` belongs to. Like the tools, inline edits stay inside
    the workspace: a file outside every folder, or a link inside one that points out, is refused
    before anything is read or sent to the model. An ``untitled:`` buffer open in the editor has
    no file anywhere; it is the user's own text, so it is accepted (routed to the first folder)."""
    folder = server.folders.containing(uri)
    if folder is not None:
        return folder
    if uri.startswith("untitled:") and uri in server.workspace.text_documents:
        return server.folders.for_uri(None)
    raise InlineEditInputError(
        f"{uri} is outside the workspace (or a link that points out of it); inline edits work only on "
        "files inside a workspace folder"
    )


async def inline_accept(server: AgentLanguageServer, arg: wire.InlineAcceptArgs) -> wire.AcceptResult:
    return await accept(server, server.proposals.take(arg.turn_id))


def inline_reject(server: AgentLanguageServer, arg: wire.InlineRejectArgs) -> wire.EmptyResult:
    proposal = server.proposals.take(arg.turn_id)
    reason = (arg.reason or "").strip()
    reject(proposal, reason or None)
    return wire.EmptyResult()


def cancel(server: AgentLanguageServer, arg: wire.CancelArgs) -> wire.CancelResult:
    cancelled = server.turns.cancel(arg.turn_id) if arg.turn_id else server.turns.cancel_all()
    return wire.CancelResult(cancelled=cancelled)


# -- sessions ----------------------------------------------------------------------------------


def _folder(server: AgentLanguageServer, arg: wire.FolderArgs) -> FolderAgent:
    """Session commands act on the folder of the optional ``uri`` (multi-root), else the first."""
    return server.folders.for_uri(arg.uri)


def session_list(server: AgentLanguageServer, arg: wire.FolderArgs) -> wire.SessionListResult:
    infos = sorted(_folder(server, arg).agent.list_sessions(), key=lambda info: info.updated, reverse=True)
    return wire.SessionListResult(sessions=[wire.SessionInfo.of(info) for info in infos])


def session_load(server: AgentLanguageServer, arg: wire.SessionIdArgs) -> wire.SessionRestoredParams:
    folder = _folder(server, arg)
    session = folder.agent.load_session(arg.id)  # the agent announces it: agent/sessionRestored
    return wire.SessionRestoredParams.of_session(session, folder.uri)


def session_new(server: AgentLanguageServer, arg: wire.FolderArgs) -> wire.SessionResult:
    session = _folder(server, arg).agent.new_session()
    return wire.SessionResult(session=wire.SessionInfo.of(session.info()))


def session_save(server: AgentLanguageServer, arg: wire.SessionSaveArgs) -> wire.SessionResult:
    info = _folder(server, arg).agent.save_session(arg.title)
    return wire.SessionResult(session=wire.SessionInfo.of(info))


def session_rename(server: AgentLanguageServer, arg: wire.SessionRenameArgs) -> wire.SessionResult:
    info = _folder(server, arg).agent.rename_session(arg.id, arg.title)
    return wire.SessionResult(session=wire.SessionInfo.of(info))


def session_delete(server: AgentLanguageServer, arg: wire.SessionIdArgs) -> wire.DeleteResult:
    _folder(server, arg).agent.delete_session(arg.id)
    return wire.DeleteResult()


def session_export(server: AgentLanguageServer, arg: wire.SessionIdArgs) -> wire.ExportResult:
    return wire.ExportResult(markdown=_folder(server, arg).agent.export_session(arg.id))


def status(server: AgentLanguageServer, arg: wire.FolderArgs) -> wire.StatusResult:
    """A health check: answered from memory at once, even while a turn streams."""
    folder = _folder(server, arg)
    agent = folder.agent.status()
    running = server.turns.running()
    return wire.StatusResult(
        version=agent.version,
        provider=agent.provider,
        model=agent.model,
        session=wire.SessionInfo.of(agent.session) if agent.session is not None else None,
        usage=wire.TokenUsage.of(agent.usage),
        running=any(t.folder is folder for t in running),
        turns=[wire.RunningTurn(turn_id=t.id, kind=t.kind) for t in running],
        folder=folder.uri,
        settings_problems=list(server.settings_problems),
        mcp_servers=[wire.McpServerInfo.of(entry) for entry in agent.mcp_servers],
        mcp_problems=agent.mcp_problems,
        local_model=wire.LocalModelStatus.of(agent.local_model) if agent.local_model is not None else None,
        completion=wire.CompletionStatus.model_validate(server.completions.status(folder)),
        checkpoints=wire.CheckpointSpaceInfo.of(agent.checkpoints) if agent.checkpoints is not None else None,
    )


def completion_accepted(server: AgentLanguageServer, arg: wire.CompletionAcceptedArgs) -> wire.CompletionAcceptedResult:
    return wire.CompletionAcceptedResult(accepted=server.completions.accepted(arg.id, arg.text))


HANDLERS: dict[str, Handler] = {
    wire.CHAT: chat,
    wire.INLINE_EDIT: inline_edit,
    wire.INLINE_EDIT_ACCEPT: inline_accept,
    wire.INLINE_EDIT_REJECT: inline_reject,
    wire.CANCEL: cancel,
    wire.SESSION_LIST: session_list,
    wire.SESSION_LOAD: session_load,
    wire.SESSION_NEW: session_new,
    wire.SESSION_SAVE: session_save,
    wire.SESSION_RENAME: session_rename,
    wire.SESSION_DELETE: session_delete,
    wire.SESSION_EXPORT: session_export,
    wire.STATUS: status,
    wire.COMPLETION_ACCEPTED: completion_accepted,
    **checkpoint_commands.HANDLERS,
}
