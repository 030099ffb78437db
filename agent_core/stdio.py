"""What the stdio front ends (the LSP server, the ACP agent) share about their standard input.

Editors hand a server a pipe or a socket, which the event loop can watch. A regular file (a
recorded session replayed) or a character device such as ``/dev/null`` cannot be watched: epoll
refuses them (``EPERM``) only once the loop starts reading, where the error can no longer be
caught, and the server would wait forever. Both front ends ask :func:`can_poll` first and read
anything else on a thread.
"""

from __future__ import annotations

import os
import stat


def can_poll(fd: int) -> bool:
    """Whether the event loop can watch ``fd`` (a pipe or a socket)."""
    mode = os.fstat(fd).st_mode
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)
