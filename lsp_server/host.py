"""The agent's :class:`~agent_core.host.Host` inside an editor.

* ``read_file`` answers with the editor's synced text (``didOpen``/``didChange``), so the agent sees
  unsaved changes; closed files are read from disk by the core.
* ``apply_edit`` sends ``workspace/applyEdit`` with the version of the document the text came from,
  after checking the text the agent based its edit on is still what the editor holds; the client
  refusing (user typed meanwhile, file changed) becomes the tool's result, never a forced write.
* ``ask_permission`` uses the custom request or ``window/showMessageRequest`` (see
  :mod:`lsp_server.permissions`).
* ``report`` routes events to the running turn's :class:`~lsp_server.streaming.TurnStream`.

One :class:`LspHost` serves one workspace folder's :class:`~agent_core.agent.Agent`; the agent runs
one chat turn at a time, whose stream the server sets in :attr:`LspHost.turn`. Inline edits run
beside chat turns, so they get a :class:`TurnHost` bound to their own stream.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from pygls.lsp.server import LanguageServer

from agent_core.config import AgentConfig
from agent_core.events import Event, Notice
from agent_core.host import EditResult, PermissionRequest, PermissionResult
from lsp_server import edits
from lsp_server.documents import find_open_document, full_range, path_to_uri
from lsp_server.permissions import ask_permission
from lsp_server.streaming import TurnStream

logger = logging.getLogger(__name__)


class LspHost:
    def __init__(self, server: LanguageServer, root: Path, config: Callable[[], AgentConfig]) -> None:
        self._server = server
        self.root = root
        #: The folder's current settings (the bounds on waiting for the editor come from them).
        self._config = config
        #: The stream of the agent's running chat turn (None between turns).
        self.turn: TurnStream | None = None

    def _absolute(self, path: Path) -> Path:
        return path if path.is_absolute() else self.root / path

    async def read_file(self, path: Path) -> str | None:
        document = find_open_document(self._server.workspace, self._absolute(path))
        return document.source if document is not None else None

    async def apply_edit(self, path: Path, original: str | None, new_text: str) -> EditResult:
        path = self._absolute(path)
        label = f"Agent: edit {_display(path, self.root)}"
        document = find_open_document(self._server.workspace, path)
        versioned = edits.supports_document_changes(self._server)
        codec = self._server.workspace.position_codec
        if document is not None:
            current = document.source
            if original is None:
                return EditResult(False, f"{_display(path, self.root)} already exists (it is open in the editor)")
            if current != original:
                return EditResult(False, "the buffer changed since the agent read it; read the file again")
            edit = edits.text_edit(document.uri, document.version, full_range(current, codec), new_text,
                                   versioned=versioned)
            return await edits.send_edit(self._server, edit, label, timeout=self._config().edit_timeout)
        uri = path_to_uri(path)
        if original is None:
            if path.exists():
                return EditResult(False, f"{_display(path, self.root)} already exists")
            if not edits.supports_create(self._server):
                return EditResult(False, "the editor cannot create files through LSP; create the file first")
            return await edits.send_edit(self._server, edits.create_file_edit(uri, new_text), label,
                                         timeout=self._config().edit_timeout)
        try:
            on_disk = path.read_text(encoding="utf-8")
        except OSError as exc:
            return EditResult(False, f"cannot read {_display(path, self.root)}: {exc.strerror or exc}")
        if on_disk != original:
            return EditResult(False, "the file changed on disk since the agent read it; read it again")
        edit = edits.text_edit(uri, None, full_range(on_disk, codec), new_text, versioned=versioned)
        return await edits.send_edit(self._server, edit, label, timeout=self._config().edit_timeout)

    async def ask_permission(self, request: PermissionRequest) -> PermissionResult:
        return await ask_permission(self._server, request, timeout=self._config().approval_timeout)

    def report(self, event: Event) -> None:
        if self.turn is not None:
            self.turn.report(event)
        elif isinstance(event, Notice):
            self._server.protocol.notify("agent/notice", {"level": event.level, "text": event.text})
        else:
            logger.debug("event outside a turn dropped: %s", event.type)


class TurnHost:
    """A host whose events go to one given turn (an inline edit running beside a chat turn)."""

    def __init__(self, base: LspHost, stream: TurnStream) -> None:
        self._base = base
        self.stream = stream

    async def read_file(self, path: Path) -> str | None:
        return await self._base.read_file(path)

    async def apply_edit(self, path: Path, original: str | None, new_text: str) -> EditResult:
        return await self._base.apply_edit(path, original, new_text)

    async def ask_permission(self, request: PermissionRequest) -> PermissionResult:
        return await self._base.ask_permission(request)

    def report(self, event: Event) -> None:
        self.stream.report(event)


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
