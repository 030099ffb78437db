"""The agent's :class:`~agent_core.host.Host` inside an editor.

* ``read_file`` answers with the editor's synced text (``didOpen``/``didChange``), so the agent sees
  unsaved changes; closed files are read from disk by the core.
* ``apply_edit`` sends ``workspace/applyEdit`` with the version of the document the text came from,
  after checking the text the agent based its edit on is still what the editor holds; the client
  refusing (user typed meanwhile, file changed) becomes the tool's result, never a forced write.
* ``ask_permission`` uses the custom request or ``window/showMessageRequest`` (see
  :mod:`lsp_server.permissions`).
* ``report`` sends a turn's events to that turn's :class:`~lsp_server.streaming.TurnStream`, a
  notice outside any turn as ``agent/notice`` without ``turnId``, and a session switch as
  ``agent/sessionRestored`` (the one place that notification is sent).

Each workspace folder has one :class:`LspHost` (given to its :class:`~agent_core.agent.Agent` for
what happens outside a turn), and each turn gets its own, bound to its stream by
:meth:`LspHost.for_turn` and handed to ``Agent.submit`` or ``propose``: a chat turn and inline
edits running beside it never share anything mutable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from pygls.lsp.server import LanguageServer

from agent_core.config import AgentConfig
from agent_core.events import Event, Notice, SessionChanged
from agent_core.host import EditResult, PermissionRequest, PermissionResult
from agent_core.paths import relative_path
from lsp_server import edits, wire
from lsp_server.documents import find_open_document, full_range, path_to_uri
from lsp_server.permissions import ask_permission
from lsp_server.streaming import TurnStream

logger = logging.getLogger(__name__)


class LspHost:
    """The host of one workspace folder (``folder`` is its URI), bound to one turn's ``stream``
    or, for the folder's agent itself, to none. ``config`` gives the folder's current settings
    (the bounds on waiting for the editor come from them)."""

    def __init__(
        self,
        server: LanguageServer,
        root: Path,
        folder: str,
        config: Callable[[], AgentConfig],
        stream: TurnStream | None = None,
    ) -> None:
        self._server = server
        self.root = root
        self.folder = folder
        self._config = config
        self._stream = stream

    def for_turn(self, stream: TurnStream) -> LspHost:
        """The same folder's host for one turn: its events go to ``stream``."""
        return LspHost(self._server, self.root, self.folder, self._config, stream)

    def _absolute(self, path: Path) -> Path:
        return path if path.is_absolute() else self.root / path

    async def read_file(self, path: Path) -> str | None:
        document = find_open_document(self._server.workspace, self._absolute(path))
        return document.source if document is not None else None

    async def apply_edit(self, path: Path, original: str | None, new_text: str) -> EditResult:
        path = self._absolute(path)
        label = f"Agent: edit {relative_path(path, self.root)}"
        document = find_open_document(self._server.workspace, path)
        versioned = edits.supports_document_changes(self._server)
        codec = self._server.workspace.position_codec
        if document is not None:
            current = document.source
            if original is None:
                return EditResult(False, f"{relative_path(path, self.root)} already exists (it is open in the editor)")
            if current != original:
                return EditResult(False, "the buffer changed since the agent read it; read the file again")
            edit = edits.text_edit(
                document.uri, document.version, full_range(current, codec), new_text, versioned=versioned
            )
            return await edits.send_edit(self._server, edit, label, timeout=self._config().edit_timeout)
        uri = path_to_uri(path)
        if original is None:
            if path.exists():
                return EditResult(False, f"{relative_path(path, self.root)} already exists")
            if not edits.supports_create(self._server):
                return EditResult(False, "the editor cannot create files through LSP; create the file first")
            return await edits.send_edit(
                self._server, edits.create_file_edit(uri, new_text), label, timeout=self._config().edit_timeout
            )
        try:
            on_disk = path.read_text(encoding="utf-8")
        except OSError as exc:
            return EditResult(False, f"cannot read {relative_path(path, self.root)}: {exc.strerror or exc}")
        if on_disk != original:
            return EditResult(False, "the file changed on disk since the agent read it; read it again")
        edit = edits.text_edit(uri, None, full_range(on_disk, codec), new_text, versioned=versioned)
        return await edits.send_edit(self._server, edit, label, timeout=self._config().edit_timeout)

    async def ask_permission(self, request: PermissionRequest) -> PermissionResult:
        return await ask_permission(self._server, request, timeout=self._config().approval_timeout)

    def report(self, event: Event) -> None:
        if isinstance(event, SessionChanged):
            if self._stream is not None:
                self._stream.flush()  # the turn's text so far belongs to the old session's view
            wire.notify(self._server, wire.SessionRestoredParams.of(event.session, event.messages, self.folder))
        elif self._stream is not None:
            self._stream.report(event)
        elif isinstance(event, Notice):
            wire.notify(self._server, wire.NoticeParams(level=event.level, text=event.text))
        else:
            logger.debug("event outside a turn dropped: %s", event.type)
