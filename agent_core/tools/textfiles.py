"""Reading workspace files so that nothing can block: regular files only, checked on the open file.

Opening a FIFO for reading waits until someone writes to it (forever, in a hostile repository),
and a thread stuck there also keeps the process alive at exit; a device file can do worse. So a
file is ``lstat``-ed first (a special file is never even opened), then opened with ``O_NONBLOCK``
and ``O_NOFOLLOW`` and checked again with ``fstat`` on the opened descriptor: a file swapped for a
FIFO or a symlink between the two checks is caught too, with no window between check and use.

The module is also the search_text worker (:func:`search_main`), run as a program of its own;
so it uses only the standard library and starts in a few tens of milliseconds.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # not imported at run time: the worker process starts faster without pathlib
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


# -- the search_text worker ------------------------------------------------------------------


def search_main() -> None:
    """Run as a program (``python -I -S textfiles.py``): the search_text worker.

    Python's ``re`` cannot be interrupted, and while it backtracks it holds the GIL of whatever
    process runs it; so matching runs here, in a process of its own that the tool kills at its
    time limit. Input on stdin: one JSON line of options, then one JSON ``[path, shown]`` line per
    file to search. Output on stdout, flushed as found so a killed search keeps what it found:
    one JSON string per match (``shown:line:text``), then ``{"cut": bool}`` (true when the result
    or size limit stopped the search early).
    """
    options_line = sys.stdin.buffer.readline()
    if not options_line:  # the tool gave up before sending anything
        return
    options = json.loads(options_line)
    signal.alarm(options["alarm"])  # an orphaned worker ends by itself
    regex = re.compile(options["pattern"], re.IGNORECASE if options["ignore_case"] else 0)
    max_line, used, count = options["max_line"], 0, 0
    for entry in sys.stdin.buffer:
        path, shown = json.loads(entry)
        try:
            text = decode(read_regular(path, options["max_bytes"]))
        except OSError:  # also a special file, a symlink, or a file too large
            continue
        for number, line in enumerate(split_lines(text or ""), start=1):
            if not regex.search(line):
                continue
            cut = line if len(line) <= max_line else line[:max_line] + " [...]"
            match = f"{shown}:{number}:{cut}"
            if count >= options["max_results"] or used + len(match) > options["cap"]:
                _emit({"cut": True})
                return
            _emit(match)
            count += 1
            used += len(match) + 1
    _emit({"cut": False})


def _emit(item: object) -> None:
    sys.stdout.write(json.dumps(item) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    search_main()
