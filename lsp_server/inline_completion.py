"""``textDocument/inlineCompletion``: ghost text from the completion engine (LSP 3.18).

An editor asks, at the cursor, for text to show greyed out after it; the user accepts it with a
key (Tab in VS Code, the plugin's keymap in Neovim) and the editor inserts ``insertText`` over
``range``. Here every item is an insertion at the cursor (an empty range there), except when the
client shows a completion-menu entry (``selectedCompletionInfo``): then the item replaces that
entry's range with the entry's text plus the suggestion, as the specification asks.

This module only translates: the document's synced text (or the file on disk when it is not
open), the position clamped into it, the trigger kind. :mod:`agent_core.completion` does the
rest. One engine per workspace folder (settings are per folder), one embedded model server for
the whole process. Document events feed the engines' rings of extra context and warm the local
model on the first ``didOpen``. Each item carries the ``agent.completion.accepted`` command,
which clients run when the user accepts it: the server counts it and learns from it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from agent_core.completion.engine import CompletionEngine, CompletionRequest
from agent_core.completion.local import EmbeddedModelServer
from agent_core.completion.select import installed_local_model, make_engine
from agent_core.config import AgentConfig
from agent_core.providers.local import LocalProvider
from lsp_server import wire
from lsp_server.documents import offset_at, position_at, range_offsets, uri_to_path
from lsp_server.folders import FolderAgent
from lsp_server.inline_edits import InlineEditInputError, display_path, language_of, snapshot

if TYPE_CHECKING:
    from lsp_server.language_server import AgentLanguageServer

logger = logging.getLogger(__name__)

#: The command every item carries; clients run it when the user accepts the item.
ACCEPTED_COMMAND = "agent.completion.accepted"


def _engine_key(config: AgentConfig) -> tuple[Any, ...]:
    """The settings an engine is built from: a change to any of them builds a new one."""
    return (config.completion, config.provider, config.model, config.base_url, config.api_key_env, config.local_model)


class Completions:
    """The completion engines of the server's workspace folders."""

    def __init__(self, server: AgentLanguageServer, env: Mapping[str, str] | None = None) -> None:
        self._server = server
        self._env = os.environ if env is None else env
        self._engines: dict[Path, tuple[tuple[Any, ...], CompletionEngine]] = {}
        #: The embedded model's server, by model id (one llama.cpp server per model per process).
        self._local: dict[str, EmbeddedModelServer] = {}
        #: The last edited line of each document, for the ring chunk picked when it is saved.
        self._edited: dict[str, int] = {}

    def _local_server(self, config: AgentConfig) -> EmbeddedModelServer | None:
        """The embedded model's server for these settings (``localModel``), None when not installed."""
        model = installed_local_model(config)
        if model is None:
            return None
        if model.id not in self._local:
            self._local[model.id] = EmbeddedModelServer(LocalProvider(model))
        return self._local[model.id]

    def engine_for(self, folder: FolderAgent) -> CompletionEngine:
        config = self._server.config_for(folder.root)
        key = _engine_key(config)
        held = self._engines.get(folder.root)
        if held is not None and held[0] == key:
            return held[1]
        if held is not None:
            self._close_later(held[1])
        engine = make_engine(config, self._env, self._local_server(config), on_problem=self._notice)
        self._engines[folder.root] = (key, engine)
        return engine

    def _notice(self, problem: str) -> None:
        """A completion problem, once per distinct message: a notice, never a popup per keystroke."""
        wire.notify(self._server, wire.NoticeParams(level="warning", text=f"agent-lsp completion: {problem}"))

    def _close_later(self, engine: CompletionEngine) -> None:
        """An engine replaced by a settings change is closed in the background."""

        def closed(task: asyncio.Task[None]) -> None:
            if not task.cancelled() and task.exception() is not None:
                logger.warning("closing a completion engine failed: %s", task.exception())

        asyncio.ensure_future(engine.aclose()).add_done_callback(closed)

    # -- the request ------------------------------------------------------------------------------

    async def complete(self, params: types.InlineCompletionParams) -> types.InlineCompletionList:
        uri = params.text_document.uri
        try:
            folder = self._server.folders.for_uri(uri)
            doc = snapshot(self._server, uri)
        except (LookupError, InlineEditInputError) as exc:
            logger.info("no completion for %s: %s", uri, exc)
            return types.InlineCompletionList(items=[])
        engine = self.engine_for(folder)
        if not engine.enabled:
            return types.InlineCompletionList(items=[])
        codec = self._server.workspace.position_codec
        text = doc.text
        offset = offset_at(text, params.position, codec)
        replace_start = offset
        chosen = params.context.selected_completion_info if params.context else None
        if chosen is not None:
            # Suggest as if the menu entry were already inserted; the item then inserts both.
            start, end = range_offsets(text, chosen.range, codec)
            end = max(end, offset)
            text = text[:start] + chosen.text + text[end:]
            replace_start, offset = start, start + len(chosen.text)
            replace_end = position_at(doc.text, end, codec)
        automatic = bool(params.context and params.context.trigger_kind == types.InlineCompletionTriggerKind.Automatic)
        request = CompletionRequest(
            document=uri,
            path=display_path(folder, uri),
            text=text,
            offset=offset,
            automatic=automatic,
            language=language_of(self._server, uri),
        )
        result = await engine.complete(request)
        start_position = position_at(doc.text, replace_start, codec)
        if chosen is None:
            replace_end = start_position
        typed = chosen.text if chosen is not None else ""
        return types.InlineCompletionList(
            items=[
                types.InlineCompletionItem(
                    insert_text=typed + suggestion.text,
                    range=types.Range(start=start_position, end=replace_end),
                    command=types.Command(
                        title="Suggestion accepted", command=ACCEPTED_COMMAND, arguments=[{"id": suggestion.id}]
                    ),
                )
                for suggestion in result.suggestions
            ]
        )

    # -- document events (the ring of extra context) ---------------------------------------------

    def opened(self, params: types.DidOpenTextDocumentParams) -> None:
        document = params.text_document
        folder = self._folder_of(document.uri)
        if folder is not None:
            self.engine_for(folder).opened(
                display_path(folder, document.uri), document.text, warm=self._client_shows_ghost_text()
            )

    def changed(self, params: types.DidChangeTextDocumentParams) -> None:
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                self._edited[params.text_document.uri] = change.range.start.line

    def saved(self, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        folder = self._folder_of(uri)
        document = self._server.workspace.text_documents.get(uri)
        if folder is not None and document is not None:
            self.engine_for(folder).saved(display_path(folder, uri), document.source, self._edited.get(uri))

    def closed(self, params: types.DidCloseTextDocumentParams) -> None:
        self._edited.pop(params.text_document.uri, None)

    def _client_shows_ghost_text(self) -> bool:
        """Only a client that declared inline completion makes starting a model worth it."""
        text_document = self._server.client_capabilities.text_document
        return bool(text_document and text_document.inline_completion is not None)

    def _folder_of(self, uri: str) -> FolderAgent | None:
        if uri_to_path(uri) is None:
            return None
        try:
            return self._server.folders.for_uri(uri)
        except LookupError:
            return None

    # -- feedback and status ---------------------------------------------------------------------

    def accepted(self, suggestion_id: str, text: str | None) -> bool:
        """``agent.completion.accepted {id, text?}``: ``text`` is the part taken when the user
        accepted only some of it (a line, a word). False for an unknown id (an old suggestion, or
        one already counted)."""
        return any(engine.accepted(suggestion_id, text) for _, engine in list(self._engines.values()))

    def status(self, folder: FolderAgent) -> dict[str, Any]:
        engine = self.engine_for(folder)
        status = engine.status()
        local = self._local_server(self._server.config_for(folder.root)) if status.get("source") == "local" else None
        if local is not None and local.problem:
            status["problem"] = status.get("problem") or local.problem
        return status

    async def aclose(self) -> None:
        engines = [engine for _, engine in self._engines.values()]
        self._engines.clear()
        for engine in engines:
            await engine.aclose()
        for local in self._local.values():
            await local.aclose()
