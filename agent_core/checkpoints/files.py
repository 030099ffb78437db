"""Reading and writing the workspace's files for a restore: through the host when open, else
atomically on disk, never through a link and never outside the workspace.

An editor may keep a buffer of a file a command deleted; that file counts as missing (its
buffer is not the workspace's content), so restoring it writes it on disk.

A file open in the editor (the host's ``read_file`` gives its text) is changed through the host's
``apply_edit``, so the editor's undo brings it back; every other file is written with
:func:`~agent_core.atomic.write_atomic` (a temporary file renamed over it: a kill -9 mid-restore
leaves each file old or new, never half of one), or removed when it did not exist before.
Manifests name paths relative to the workspace and could come from a hostile repository, so
each path is checked like a tool's (inside the workspace, not private) and must not be, or go
through, a symbolic link.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from agent_core.atomic import write_atomic
from agent_core.checkpoints.scan import read_file
from agent_core.host import Host
from agent_core.tools.errors import ToolError
from agent_core.tools.workspace import Workspace


class CannotRestore(Exception):
    """This one file cannot be restored; the message says why (the rest go on)."""


@dataclass
class Current:
    """A file as it is now: its bytes (None: missing) and its text when open in the editor."""

    data: bytes | None
    open_text: str | None


def locate(workspace: Workspace, rel: str) -> Path:
    """The absolute path of ``rel``, or :class:`CannotRestore` when it is outside the workspace,
    private, or a link (or reached through one)."""
    try:
        real = workspace.resolve(rel)
    except ToolError as error:
        raise CannotRestore(str(error)) from None
    lexical = Path(os.path.normpath(workspace.root / rel))
    if real != lexical:
        raise CannotRestore("it is a symbolic link, or a folder on its way is; not followed")
    return lexical


async def read_current(workspace: Workspace, rel: str, host: Host) -> Current:
    path = locate(workspace, rel)
    text = await host.read_file(path)
    if text is not None and os.path.lexists(path):  # a buffer of a deleted file is no file
        return Current(text.encode("utf-8"), text)
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return Current(None, None)
    except OSError as error:
        raise CannotRestore(f"cannot be read ({error.strerror})") from None
    if not stat.S_ISREG(status.st_mode):
        raise CannotRestore("it is not a regular file")
    data = read_file(path)
    if data is None:
        raise CannotRestore("cannot be read")
    return Current(data, None)


async def write(workspace: Workspace, rel: str, target: bytes | None, current: Current, host: Host) -> None:
    """Make ``rel`` hold ``target`` (None: remove it); :class:`CannotRestore` when it cannot."""
    path = locate(workspace, rel)
    if current.open_text is not None and target is not None:
        try:
            text = target.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            result = await host.apply_edit(path, current.open_text, text)
            if not result.applied:
                raise CannotRestore(f"the editor did not apply it: {result.reason or 'no reason given'}")
            return
    try:
        if target is None:
            if os.path.lexists(path):
                os.unlink(path)
        else:
            write_atomic(path, target, mode=None)
    except OSError as error:
        raise CannotRestore(f"cannot be written ({error.strerror or error})") from None
