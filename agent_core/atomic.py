"""Atomic whole-file writes: after a crash the file holds the old bytes or the new, never a mix.

The recipe every careful tool uses (and the one a half-written session file taught others):
a temp file with a unique name in the *same* folder (so the rename stays on one filesystem),
created 0600 because transcripts can hold secrets, written and fsynced, then ``os.replace``d
over the target, then the folder fsynced so the rename itself survives a power cut. Used for the
session store's files and the MCP trust record (the edits of the user's own files go through
:mod:`agent_core.tools.atomic_write`, which also refuses a folder swapped for a symlink).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

#: Session files and their backups are private to the user: chats quote code and commands.
FILE_MODE = 0o600


def fsync_dir(folder: Path) -> None:
    """Make a create, rename or unlink in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, mode: int = FILE_MODE) -> None:
    """Replace ``path`` with ``data`` atomically, the new file with permission bits ``mode``
    (default: private); on any error the old file is untouched."""
    folder = path.parent
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        # mkstemp creates the file 0600; the mode is set explicitly in case that ever changes.
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    os.close(fd)
    try:
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    fsync_dir(folder)
