"""The ``workspace/executeCommand`` commands of docs/protocol.md.

Handlers stay thin: check the argument object, call the folder's agent (or start a turn), convert
the answer. Turn-starting handlers are plain functions, not coroutines: pygls answers a plain
function's request before anything else runs, so the client always gets ``{turnId}`` before the
turn's first notification. Core errors (busy, unknown session, bad settings) become a JSON-RPC
error with a readable message, and the server goes on serving.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent_core.agent import AgentBusy, PromptContext
from agent_core.config import ConfigError
from agent_core.events import TurnEnded
from agent_core.inline_edit import propose
from agent_core.sessions import SessionError, SessionInfo
from lsp_server.arguments import (
    RequestFailed,
    invalid,
    optional_str,
    parse_range,
    range_to_json,
    require_str,
    single_object,
    string_list,
)
from lsp_server.documents import clamp_range, range_offsets
from lsp_server.folders import FolderAgent
from lsp_server.host import TurnHost
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
from lsp_server.transcript import session_info_to_protocol
from lsp_server.turns import Turn

if TYPE_CHECKING:
    from lsp_server.server import AgentLanguageServer

#: Used when a client runs the "Edit with agent" code action without asking for an instruction.
DEFAULT_INSTRUCTION = "Improve this code: make it clearer and fix any bugs, keeping its behaviour."

Handler = Callable[["AgentLanguageServer", str, dict[str, Any]], Any]


#: Core errors a user can act on: answered as RequestFailed with the core's message.
CORE_ERRORS = (AgentBusy, SessionError, ConfigError, LookupError, InlineEditInputError)


def register(server: AgentLanguageServer) -> None:
    """Register every command on ``server`` (advertised in ``executeCommandProvider``)."""
    for name, handler in COMMANDS.items():
        server.command(name)(_bind(server, name, handler))


def _bind(server: AgentLanguageServer, name: str, handler: Handler) -> Callable[..., Any]:
    """The pygls command handler: takes the raw argument list (``*args``, so pygls passes it
    unconverted), checks it is one object, runs ``handler``, and turns core errors into
    JSON-RPC errors naming the command."""
    if inspect.iscoroutinefunction(handler):
        async def call_async(*args: Any) -> Any:
            try:
                return await handler(server, name, single_object(name, args))
            except CORE_ERRORS as exc:
                raise RequestFailed(f"{name}: {exc}") from exc
        return call_async

    def call(*args: Any) -> Any:
        try:
            return handler(server, name, single_object(name, args))
        except CORE_ERRORS as exc:
            raise RequestFailed(f"{name}: {exc}") from exc
    return call


# -- turns -------------------------------------------------------------------------------------

def chat(server: AgentLanguageServer, command: str, arg: dict[str, Any]) -> dict[str, Any]:
    prompt = require_str(command, arg, "prompt")
    raw_context = arg.get("context")
    if raw_context is not None and not isinstance(raw_context, dict):
        raise invalid(command, "'context' must be an object {uri?, range?, text?, diagnostics?}")
    context_uri = optional_str(command, raw_context or {}, "uri")
    session_id = optional_str(command, arg, "sessionId")
    folder = server.folders.for_uri(context_uri)
    context = _prompt_context(server, command, folder, raw_context) if raw_context is not None else None
    _require_idle(server, folder)
    if session_id is not None and session_id != folder.agent.session.id:
        folder.agent.load_session(session_id)
        server.send_session_restored(folder)
    turn = server.new_turn("chat", folder)

    async def body(turn: Turn) -> TurnEnded:
        folder.host.turn = turn.stream
        session_before = folder.agent.session.id
        try:
            return await folder.agent.submit(prompt, context=context, turn_id=turn.id)
        finally:
            if folder.host.turn is turn.stream:
                folder.host.turn = None
            # A slash command typed in the chat (/clear, /session load|new) can switch the
            # session; the client must show the new transcript, as after agent.session.load.
            if folder.agent.session.id != session_before:
                server.send_session_restored(folder)

    server.turns.start(turn, body, "Agent", prompt)
    return {"turnId": turn.id}


def _require_idle(server: AgentLanguageServer, folder: FolderAgent) -> None:
    running = server.turns.busy_chat(folder)
    if running is not None or folder.agent.busy:
        which = f" ({running.id})" if running is not None else ""
        raise AgentBusy(f"a turn is already running{which}; cancel it or wait for it to end")


def _prompt_context(server: AgentLanguageServer, command: str, folder: FolderAgent,
                    raw: dict[str, Any]) -> PromptContext:
    uri = optional_str(command, raw, "uri")
    text = optional_str(command, raw, "text")
    diagnostics = string_list(command, raw.get("diagnostics"), "context.diagnostics")
    range_ = parse_range(command, raw["range"], "context.range") if raw.get("range") is not None else None
    path = display_path(folder, uri) if uri else None
    if range_ is not None and text is None and uri is not None:
        document = server.workspace.text_documents.get(uri)
        if document is not None:
            start, end = range_offsets(document.source, range_, server.workspace.position_codec)
            text = document.source[start:end] or None
    start_line = end_line = None
    if range_ is not None:
        start_line = range_.start.line + 1
        # A selection of whole lines ends at column 0 of the next line; that line is not in it.
        ends_at_line_start = range_.end.character == 0 and range_.end.line > range_.start.line
        end_line = range_.end.line if ends_at_line_start else range_.end.line + 1
    return PromptContext(path=path, selection=text, start_line=start_line, end_line=end_line,
                         diagnostics=diagnostics)


def inline_edit(server: AgentLanguageServer, command: str, arg: dict[str, Any]) -> dict[str, Any]:
    uri = require_str(command, arg, "uri")
    range_ = parse_range(command, arg.get("range"))
    instruction = optional_str(command, arg, "instruction")
    instruction = instruction if instruction and instruction.strip() else DEFAULT_INSTRUCTION
    folder = _inline_edit_folder(server, uri)
    doc = snapshot(server, uri)
    codec = server.workspace.position_codec
    range_ = clamp_range(doc.text, range_, codec)
    request = build_request(folder, doc, range_, instruction, codec, language_of(server, uri))
    turn = server.new_turn("inlineEdit", folder)

    async def body(turn: Turn) -> TurnEnded:
        new_text = await propose(folder.agent.provider, request, TurnHost(folder.host, turn.stream), turn.id)
        server.proposals.add(Proposal(turn_id=turn.id, folder=folder, uri=uri, range=range_,
                                      instruction=instruction, base_text=doc.text, new_text=new_text,
                                      display_path=request.path))
        turn.stream.flush()
        server.notify("agent/inlineEditProposal",
                      {"turnId": turn.id, "uri": uri, "range": range_to_json(range_), "newText": new_text})
        return TurnEnded(turn_id=turn.id, stop_reason="end_turn", usage=turn.stream.usage)

    server.turns.start(turn, body, "Agent: inline edit", instruction)
    return {"turnId": turn.id}


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


async def inline_accept(server: AgentLanguageServer, command: str, arg: dict[str, Any]) -> dict[str, Any]:
    turn_id = require_str(command, arg, "turnId")
    proposal = server.proposals.pop(turn_id)
    if proposal is None:
        raise RequestFailed(f"{command}: no pending proposal for turn {turn_id} (already accepted, rejected or unknown)")
    return await accept(server, proposal)


def inline_reject(server: AgentLanguageServer, command: str, arg: dict[str, Any]) -> dict[str, Any]:
    turn_id = require_str(command, arg, "turnId")
    reason = optional_str(command, arg, "reason")
    proposal = server.proposals.pop(turn_id)
    if proposal is None:
        raise RequestFailed(f"{command}: no pending proposal for turn {turn_id} (already accepted, rejected or unknown)")
    reject(proposal, reason.strip() if reason and reason.strip() else None)
    return {}


def cancel(server: AgentLanguageServer, command: str, arg: dict[str, Any]) -> dict[str, Any]:
    turn_id = optional_str(command, arg, "turnId")
    cancelled = server.turns.cancel(turn_id) if turn_id else server.turns.cancel_all()
    return {"cancelled": cancelled}


# -- sessions ----------------------------------------------------------------------------------

def _folder(server: AgentLanguageServer, command: str, arg: dict[str, Any]) -> FolderAgent:
    """Session commands act on the folder of the optional ``uri`` (multi-root), else the first."""
    return server.folders.for_uri(optional_str(command, arg, "uri"))


def session_list(server: AgentLanguageServer, command: str, arg: dict[str, Any]) -> dict[str, Any]:
    infos = _folder(server, command, arg).agent.list_sessions()
    infos = sorted(infos, key=lambda info: info.updated, reverse=True)
    return {"sessions": [session_info_to_protocol(info) for info in infos]}


def session_load(server: AgentLanguageServer, command: str, arg: dict[str, Any]) -> dict[str, Any]:
    session_id = require_str(command, arg, "id")
    folder = _folder(server, command, arg)
    folder.agent.load_session(session_id)
    return server.send_session_restored(folder)


def session_new(server: AgentLanguageServer, command: str, arg: dict[str, Any]) -> dict[str, Any]:
    folder = _folder(server, command, arg)
    folder.agent.new_session()
    payload = server.send_session_restored(folder)
    return {"session": payload["session"]}


def session_save(server: AgentLanguageServer, command: str, arg: dict[str, Any]) -> dict[str, Any]:
    info = _folder(server, command, arg).agent.save_session(optional_str(command, arg, "title"))
    return {"session": session_info_to_protocol(info)}


def session_rename(server: AgentLanguageServer, command: str, arg: dict[str, Any]) -> dict[str, Any]:
    session_id = require_str(command, arg, "id")
    title = require_str(command, arg, "title")
    info = _folder(server, command, arg).agent.rename_session(session_id, title)
    return {"session": session_info_to_protocol(info)}


def session_delete(server: AgentLanguageServer, command: str, arg: dict[str, Any]) -> dict[str, Any]:
    _folder(server, command, arg).agent.delete_session(require_str(command, arg, "id"))
    return {"deleted": True}


def session_export(server: AgentLanguageServer, command: str, arg: dict[str, Any]) -> dict[str, Any]:
    markdown = _folder(server, command, arg).agent.export_session(require_str(command, arg, "id"))
    return {"markdown": markdown}


def status(server: AgentLanguageServer, command: str, arg: dict[str, Any]) -> dict[str, Any]:
    """A health check: answered from memory at once, even while a turn streams."""
    folder = _folder(server, command, arg)
    raw = folder.agent.status()
    session = raw.get("session")
    usage = raw.get("usage") or {}
    return {
        "version": raw.get("version"),
        "provider": raw.get("provider"),
        "model": raw.get("model"),
        "session": session_info_to_protocol(SessionInfo.model_validate(session)) if session else None,
        "usage": {"inputTokens": usage.get("input_tokens", 0), "outputTokens": usage.get("output_tokens", 0)},
        "running": bool(raw.get("running")) or any(t.folder is folder for t in server.turns.running()),
        "turns": [{"turnId": t.id, "kind": t.kind} for t in server.turns.running()],
        "folder": folder.uri,
        "settingsProblems": list(server.settings_problems),
        "completion": server.completions.status(folder),
    }


def completion_accepted(server: AgentLanguageServer, command: str, arg: dict[str, Any]) -> dict[str, Any]:
    return server.completions.accepted(command, arg)


COMMANDS: dict[str, Handler] = {
    "agent.chat": chat,
    "agent.inlineEdit": inline_edit,
    "agent.inlineEdit.accept": inline_accept,
    "agent.inlineEdit.reject": inline_reject,
    "agent.cancel": cancel,
    "agent.session.list": session_list,
    "agent.session.load": session_load,
    "agent.session.new": session_new,
    "agent.session.save": session_save,
    "agent.session.rename": session_rename,
    "agent.session.delete": session_delete,
    "agent.session.export": session_export,
    "agent.status": status,
    "agent.completion.accepted": completion_accepted,
}
