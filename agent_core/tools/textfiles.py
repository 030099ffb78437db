"""Reading workspace files so that nothing can block: regular files only, checked on the open file.

Opening a FIFO for reading waits until someone writes to it (forever, in a hostile repository),
and a thread stuck there also keeps the process alive at exit; a device file can do worse. So a
file is ``lstat``-ed first (a special file is never even opened), then opened with ``O_NONBLOCK``
and ``O_NOFOLLOW`` and checked again with ``fstat`` on the opened descriptor: a file swapped for a
FIFO or a symlink between the two checks is caught too, with no window between check and use.

Only the standard library is used here, so the search worker process (``search_worker.py``) can
import this module without loading the rest of the package.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

#: The first bytes checked for NUL to tell a binary file.
BINARY_SNIFF = 8192

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISLNK, "a symlink"),
)


class NotRegularFile(OSError):
    """The path is a FIFO, socket, device, folder or (unexpected) symlink; ``kind`` says which."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"not a regular file ({kind})")
        self.kind = kind


class TooLarge(OSError):
    """The file is larger than the caller reads whole; ``size`` is its size in bytes."""

    def __init__(self, size: int) -> None:
        super().__init__(f"file too large ({size} bytes)")
        self.size = size


def kind_of(mode: int) -> str | None:
    """What a file of this ``st_mode`` is, in words ("a FIFO"), or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return "a special file"


def read_regular(path: Path | str, max_bytes: int) -> bytes:
    """The bytes of the regular file ``path``, never following a symlink in its last component.

    Raises :class:`NotRegularFile`, :class:`TooLarge` (over ``max_bytes``, also when the file grows
    while being read), ``FileNotFoundError`` or another ``OSError``; never blocks on a special file.
    """
    kind = kind_of(os.lstat(path).st_mode)
    if kind is not None:
        raise NotRegularFile(kind)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        if os.path.islink(path):  # swapped for a symlink since the lstat (ELOOP)
            raise NotRegularFile("a symlink") from None
        raise error
    try:
        info = os.fstat(fd)
        kind = kind_of(info.st_mode)
        if kind is not None:
            raise NotRegularFile(kind)
        if info.st_size > max_bytes:
            raise TooLarge(info.st_size)
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, min(1 << 20, max_bytes + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise TooLarge(total)
        return b"".join(chunks)
    finally:
        os.close(fd)


def decode(data: bytes) -> str | None:
    """Text of a file's bytes, or None for a binary file (a NUL early on, as git decides)."""
    if b"\0" in data[:BINARY_SNIFF]:
        return None
    return data.decode("utf-8", errors="replace")


def split_lines(text: str) -> list[str]:
    """Lines as editors and grep count them: split on LF only (``str.splitlines`` also splits on
    form feeds and Unicode separators, which would shift every later line number), CR dropped."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]
