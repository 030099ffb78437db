"""Opening files in the sessions folder without ever following a link.

The sessions folder sits inside the workspace, and a workspace is often a repository someone else
wrote. A repository can ship ``.agent-lsp/sessions/<id>.jsonl`` (or ``<id>.lock``) as a symbolic
link to a file outside the workspace; a store that follows it would copy that file into the
workspace as a "corrupt" backup, truncate it while "repairing" it, or append transcripts to it.
So every open here uses ``O_NOFOLLOW`` (a link is refused by the kernel, not by a check that
could race with a swap), ``O_NONBLOCK`` (a FIFO planted under a session's name cannot hang the
open), and ``fstat`` on the opened descriptor: only regular files are used. The rule has no
exceptions, not even for links that stay inside the workspace: it is simpler to trust.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from agent_core.atomic import FILE_MODE
from agent_core.sessions.errors import SessionError

_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


def link_refused(path: Path) -> SessionError:
    return SessionError(
        f"{path.name} in the sessions folder is a symbolic link; agent-lsp never follows links "
        "there (a repository could point one at a file outside the workspace). It was left "
        "alone: remove it"
    )


def open_regular(path: Path, flags: int, mode: int = FILE_MODE) -> int:
    """``os.open`` that refuses a symbolic link or anything but a regular file (SessionError);
    other failures are raised as the usual OSError."""
    try:
        fd = os.open(path, flags | _FLAGS, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise link_refused(path) from None
        raise
    try:
        is_regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except BaseException:
        os.close(fd)
        raise
    if not is_regular:
        os.close(fd)
        raise SessionError(f"{path.name} in the sessions folder is not a regular file; it was left alone")
    return fd


def read_regular(path: Path) -> bytes:
    """The bytes of a regular file, never through a link (see :func:`open_regular`)."""
    fd = open_regular(path, os.O_RDONLY)
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def is_regular(path: Path) -> bool:
    """Whether ``path`` itself (not what a link points to) is a regular file."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False
