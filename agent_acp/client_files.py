"""Files as the ACP client sees them, or the disk when the client does not offer its own.

A client that offers ``fs/read_text_file`` answers with the editor's text of a file, unsaved
changes included, which is what the user sees; ``fs/write_text_file`` writes through the editor, so
an edit lands in the open buffer (and its undo history) instead of behind the editor's back. A
client without them gets the disk: reads fall back to the core's own, and an edit is applied by
:func:`~agent_core.disk_edit.apply_edit_on_disk`, as in the terminal.

Either way an edit is refused when the file no longer holds the text the agent based it on: the
user's newer text is never overwritten.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from acp.interfaces import Client

from agent_acp.deadline import within
from agent_core.disk_edit import apply_edit_on_disk
from agent_core.host import EditResult
from agent_core.tools.files import MAX_FILE_BYTES
from agent_core.tools.textfiles import read_regular

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClientFiles:
    """One session's file access: through ``client`` where its capabilities say so."""

    client: Client
    session_id: str
    can_read: bool
    can_write: bool
    #: Seconds the editor may take to answer one read or write (``editTimeout``).
    timeout: float

    async def read(self, path: Path) -> str | None:
        """The editor's text of ``path``; None (read the disk) without the capability, or when
        the client cannot read it (a missing file, a binary one)."""
        if not self.can_read:
            return None
        try:
            answer = await within(
                self.client.read_text_file(session_id=self.session_id, path=str(path)),
                self.timeout,
                "fs/read_text_file",
                "editTimeout",
            )
        except asyncio.CancelledError:
            raise
        except Exception as error:
            logger.debug("fs/read_text_file %s failed (%s); reading the disk", path, error)
            return None
        return answer.content

    async def write(self, path: Path, original: str | None, new_text: str) -> EditResult:
        """Replace the whole text of ``path`` unless it changed since the agent read it."""
        if not self.can_write:
            return await asyncio.to_thread(apply_edit_on_disk, path, original, new_text)
        current = await self.read(path)
        if current is None:
            current = await asyncio.to_thread(_read_disk, path)
        if current != original:
            if original is None:
                return EditResult(False, f"{path.name} already exists")
            if current is None:
                return EditResult(False, f"{path.name} was deleted since the agent read it")
            return EditResult(False, f"{path.name} changed since the agent read it; read it again")
        try:
            await within(
                self.client.write_text_file(session_id=self.session_id, path=str(path), content=new_text),
                self.timeout,
                "fs/write_text_file",
                "editTimeout",
            )
        except asyncio.CancelledError:
            raise
        except Exception as error:
            return EditResult(False, f"the editor could not write {path.name}: {error}")
        return EditResult(True)


def _read_disk(path: Path) -> str | None:
    try:
        return read_regular(path, MAX_FILE_BYTES).decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
