"""One writer per session file: an exclusive, non-blocking ``flock`` on ``<id>.lock``.

The lock lives in its own file rather than on the transcript because whole-file rewrites
(migration) replace the transcript's inode, which would silently drop a lock taken on it.
``flock`` is released by the kernel when the holder exits or is killed, so a crashed editor never
leaves a session stuck. The lock belongs to one open file description: a second attempt in the
same process fails just like one from another process, which is what makes "another window gets
its own session" testable in one process too.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path

from agent_core.sessions.nofollow import open_regular


class SessionLock:
    """A held lock; :meth:`release` (or process death) frees it."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self, *, remove: bool = False) -> None:
        """Unlock; with ``remove`` also delete the lock file (only while still holding it)."""
        if self._fd is None:
            return
        if remove:
            # Gone already, or the folder turned read-only: an empty lock file left is harmless.
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def try_lock(path: Path) -> SessionLock | None:
    """Take the lock at ``path`` without waiting; ``None`` when someone else holds it. A link
    planted at ``path`` is refused (SessionError), never followed to create a file elsewhere."""
    fd = open_regular(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return None
        raise
    return SessionLock(path, fd)
