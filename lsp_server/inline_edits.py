"""Inline edits on the server side: from a range to a proposal, then accept or reject.

``agent.inlineEdit`` slices the document (the editor's unsaved text) around the range and asks
the model through :func:`agent_core.inline_edit.propose`; the finished text is held as a
:class:`Proposal` and sent as ``agent/inlineEditProposal``. Nothing changes in the editor until
the user accepts:

* accept applies the replacement with ``workspace/applyEdit``, versioned, and only if the document
  still holds exactly the text the proposal was made from (otherwise the range may point at
  different code and the edit is refused with a reason);
* reject records the user's reason in the session as an ``edit_feedback`` message, so the model
  sees it in the next chat request, and later inline edits of the folder are shown it too.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.workspace.position_codec import PositionCodec

from agent_core.exceptions import AgentError
from agent_core.inline_edit import InlineEditRequest
from agent_core.messages import Message
from lsp_server import edits, wire
from lsp_server.documents import range_offsets, uri_to_path
from lsp_server.folders import FolderAgent

#: Pending proposals kept per server; the oldest are forgotten first.
MAX_PROPOSALS = 50
#: Rejection reasons of this folder shown to each new inline edit.
FEEDBACK_SHOWN = 5


class InlineEditInputError(AgentError):
    """The document or range of an inline edit cannot be used (message says why)."""


class UnknownProposal(AgentError):
    """No pending proposal has that turn id (already accepted, rejected, forgotten, or never)."""


@dataclass(frozen=True)
class DocumentSnapshot:
    uri: str
    text: str
    #: The editor's version, or None when the text came from disk (document not open).
    version: int | None


@dataclass(frozen=True)
class Proposal:
    turn_id: str
    folder: FolderAgent
    uri: str
    range: types.Range
    instruction: str
    #: The whole document text the proposal was made from.
    base_text: str
    new_text: str
    display_path: str


def snapshot(server: LanguageServer, uri: str) -> DocumentSnapshot:
    """The editor's text of ``uri`` if it is open, else the file on disk."""
    document = server.workspace.text_documents.get(uri)
    if document is not None:
        return DocumentSnapshot(uri, document.source, document.version)
    path = uri_to_path(uri)
    if path is None:
        raise InlineEditInputError(f"{uri} is not open in the editor and is not a local file")
    try:
        return DocumentSnapshot(uri, path.read_text(encoding="utf-8"), None)
    except (OSError, UnicodeDecodeError) as exc:
        raise InlineEditInputError(f"cannot read {path}: {exc}") from exc


def edit_feedback(folder: FolderAgent) -> tuple[str, ...]:
    """The folder's latest inline-edit rejections (from its session), oldest first."""
    notes = [m.content for m in folder.agent.session.messages if m.kind == "edit_feedback"]
    return tuple(notes[-FEEDBACK_SHOWN:])


def build_request(
    folder: FolderAgent,
    doc: DocumentSnapshot,
    range_: types.Range,
    instruction: str,
    codec: PositionCodec,
    language: str | None,
) -> InlineEditRequest:
    start, end = range_offsets(doc.text, range_, codec)
    return InlineEditRequest(
        instruction=instruction,
        path=display_path(folder, doc.uri),
        before=doc.text[:start],
        selection=doc.text[start:end],
        after=doc.text[end:],
        language=language,
        feedback=edit_feedback(folder),
        max_tokens=folder.agent.config.max_tokens,
    )


def display_path(folder: FolderAgent, uri: str) -> str:
    path = uri_to_path(uri)
    return folder.relative(path) if path is not None else uri


class ProposalStore:
    def __init__(self) -> None:
        self._items: OrderedDict[str, Proposal] = OrderedDict()

    def add(self, proposal: Proposal) -> None:
        self._items[proposal.turn_id] = proposal
        while len(self._items) > MAX_PROPOSALS:
            self._items.popitem(last=False)

    def take(self, turn_id: str) -> Proposal:
        """The proposal of ``turn_id``, which is no longer pending (applied or rejected once)."""
        proposal = self._items.pop(turn_id, None)
        if proposal is None:
            raise UnknownProposal(f"no pending proposal for turn {turn_id} (already accepted, rejected or unknown)")
        return proposal


async def accept(server: LanguageServer, proposal: Proposal) -> wire.AcceptResult:
    """Apply a proposal through the editor."""
    try:
        current = snapshot(server, proposal.uri)
    except InlineEditInputError as exc:
        return wire.AcceptResult(applied=False, reason=str(exc))
    if current.text != proposal.base_text:
        return wire.AcceptResult(
            applied=False, reason="the document changed since the proposal was made; ask for a new proposal"
        )
    edit = edits.text_edit(
        proposal.uri,
        current.version,
        proposal.range,
        proposal.new_text,
        versioned=edits.supports_document_changes(server),
    )
    result = await edits.send_edit(
        server, edit, f"Agent: {proposal.instruction}", timeout=proposal.folder.agent.config.edit_timeout
    )
    return wire.AcceptResult(applied=result.applied, reason=None if result.applied else result.reason)


def reject(proposal: Proposal, reason: str | None) -> None:
    """Record the rejection in the folder's session so the model sees it (raises SessionError)."""
    first = proposal.range.start.line + 1
    last = proposal.range.end.line + 1
    lines = f"line {first}" if first == last else f"lines {first}-{last}"
    text = (
        f"I rejected your proposed inline edit of {proposal.display_path} ({lines}) for the "
        f"instruction {proposal.instruction!r}."
    )
    text += f" Reason: {reason}" if reason else " I gave no reason."
    proposal.folder.agent.record(Message(role="user", kind="edit_feedback", content=text))


def language_of(server: LanguageServer, uri: str) -> str | None:
    document = server.workspace.text_documents.get(uri)
    if document is not None and document.language_id:
        language: str = document.language_id
        return language
    path = uri_to_path(uri)
    if path is None:
        return None
    return path.suffix.lstrip(".") or None
