"""Sending edits through the editor with ``workspace/applyEdit``.

Edits go through the editor, never straight to disk, so they land in the user's buffer, join its
undo history and show up in its review UI. They carry the document version the agent based them
on (``documentChanges`` with a versioned identifier): if the user typed meanwhile, the client
refuses the edit instead of clobbering the newer text, and the refusal goes back to the model.
"""

from __future__ import annotations

import logging

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from agent_core.host import EditResult
from lsp_server.client_requests import NoAnswer, ask_client

logger = logging.getLogger(__name__)


def _workspace_edit_capabilities(server: LanguageServer) -> types.WorkspaceEditClientCapabilities | None:
    workspace = server.client_capabilities.workspace
    return workspace.workspace_edit if workspace else None


def supports_document_changes(server: LanguageServer) -> bool:
    caps = _workspace_edit_capabilities(server)
    return bool(caps and caps.document_changes)


def supports_create(server: LanguageServer) -> bool:
    caps = _workspace_edit_capabilities(server)
    operations = (caps.resource_operations or []) if caps else []
    return supports_document_changes(server) and types.ResourceOperationKind.Create in operations


def text_edit(
    uri: str, version: int | None, range_: types.Range, new_text: str, *, versioned: bool
) -> types.WorkspaceEdit:
    """One replacement, versioned when the client supports ``documentChanges``.

    ``version`` None means "the file is not open in the editor; its disk text is the truth".
    Without ``documentChanges`` support the plain ``changes`` map is used; callers have then
    compared the text themselves just before sending.
    """
    edit = types.TextEdit(range=range_, new_text=new_text)
    if not versioned:
        return types.WorkspaceEdit(changes={uri: [edit]})
    identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=identifier, edits=[edit])])


def create_file_edit(uri: str, text: str) -> types.WorkspaceEdit:
    """Create a new file (failing if it exists) and fill it."""
    create = types.CreateFile(uri=uri, options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False))
    fill = types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
        edits=[
            types.TextEdit(
                range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
                new_text=text,
            )
        ],
    )
    return types.WorkspaceEdit(document_changes=[create, fill])


async def send_edit(server: LanguageServer, edit: types.WorkspaceEdit, label: str, *, timeout: float) -> EditResult:
    """Ask the client to apply ``edit``; a refusal, an error or no answer within ``timeout``
    seconds becomes ``applied=False`` with a reason the model can act on."""
    params = types.ApplyWorkspaceEditParams(edit=edit, label=label)
    try:
        result = await ask_client(server, types.WORKSPACE_APPLY_EDIT, params, timeout=timeout, setting="editTimeout")
    except NoAnswer as exc:
        logger.warning("%s", exc)
        return EditResult(applied=False, reason=f"{exc}; the edit may not have been applied, read the file again")
    except Exception as exc:  # the client answered with an error: report it, never raise into the loop
        logger.warning("workspace/applyEdit failed: %s", exc)
        return EditResult(applied=False, reason=f"the editor could not apply the edit: {exc}")
    if result is None or not result.applied:
        reason = (result.failure_reason if result else None) or "the editor refused the edit"
        return EditResult(applied=False, reason=reason)
    return EditResult(applied=True)
