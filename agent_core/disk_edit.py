"""An approved edit applied straight to the disk, for front ends that have no editor buffer to
send it through (the terminal; an ACP client that does not offer ``fs/write_text_file``).

The edit is refused when the file no longer holds the text the agent based it on (changed,
created or deleted since it was read), so newer text is never overwritten; otherwise the file is
replaced atomically, keeping its permission bits, and without following a symlink swapped in
meanwhile (:func:`~agent_core.atomic.write_atomic`).
"""

from __future__ import annotations

from pathlib import Path

from agent_core.atomic import write_atomic
from agent_core.host import EditResult
from agent_core.tools.files import MAX_FILE_BYTES
from agent_core.tools.textfiles import read_regular


def apply_edit_on_disk(path: Path, original: str | None, new_text: str) -> EditResult:
    """Replace the whole text of ``path`` with ``new_text`` unless it changed since it was read
    as ``original`` (None: it did not exist). Blocking; never raises for a file problem."""
    try:
        data: bytes | None = read_regular(path, MAX_FILE_BYTES)
    except FileNotFoundError:
        data = None
    except OSError as error:
        return EditResult(False, f"cannot read {path.name}: {error.strerror or error}")
    current = None if data is None else data.decode("utf-8", errors="replace")
    if current != original:
        if original is None:
            return EditResult(False, "the file was created by someone else meanwhile")
        if current is None:
            return EditResult(False, "the file was deleted since it was read")
        return EditResult(False, "the file changed on disk since it was read")
    try:
        write_atomic(path, new_text.encode("utf-8"), mode=None)  # the user's file keeps its mode
    except OSError as error:
        return EditResult(False, f"cannot write {path.name}: {error.strerror or error}")
    return EditResult(True)
