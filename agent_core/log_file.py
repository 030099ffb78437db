"""The ``--log-file`` of every front end: private to the user, never written through a link.

A log can quote code, commands and errors, so the file is created ``0600`` (an existing one is made
``0600``), opened with ``O_NOFOLLOW`` so a link planted at its path is refused rather than written
through, and only a regular file is used (a FIFO planted there is never waited on).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import TextIO

#: The log file is the user's alone: approval questions and errors can quote code and commands.
LOG_FILE_MODE = 0o600


class LogFileError(Exception):
    """``--log-file`` names something a front end will not write to; the message says why."""


def open_log_file(path: Path) -> TextIO:
    """Open ``path`` for appending, private to the user, never through a link (see the module
    docstring); raises :class:`LogFileError`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(
            path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, LOG_FILE_MODE
        )
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LogFileError(
                f"--log-file {path} is a symbolic link; the log is never written through a link (give the real path)"
            ) from None
        if exc.errno == errno.ENXIO:
            raise LogFileError(f"--log-file {path} is not a regular file") from None
        raise LogFileError(f"cannot open --log-file {path}: {exc.strerror or exc}") from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise LogFileError(f"--log-file {path} is not a regular file")
        if stat.S_IMODE(status.st_mode) != LOG_FILE_MODE:
            os.fchmod(fd, LOG_FILE_MODE)
    except OSError as exc:
        os.close(fd)
        raise LogFileError(f"cannot make --log-file {path} private (chmod 600): {exc.strerror or exc}") from None
    except BaseException:
        os.close(fd)
        raise
    # A lone surrogate in a message must not make logging fail.
    return os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace")
