"""Writing a file so that neither a crash nor a swapped folder can make the write go wrong.

Atomic: the new text goes to a temporary file in the same folder, is flushed to disk and renamed
over the old one, so a crash leaves the old file or the new one, never half of one; an existing
file keeps its permission bits.

Unredirectable: the path was resolved and confined to the workspace earlier (before an approval
prompt that may stay open for minutes), so it holds no symlink. Its folders are opened one at a
time from ``/`` with ``O_NOFOLLOW | O_DIRECTORY``, and the temporary file is created and renamed
relative to the last folder's descriptor: a folder replaced by a symlink meanwhile is refused with
:class:`PathChanged` instead of followed, wherever on the path it is, and once the folder is open
no later swap can move the write elsewhere.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

#: Folders are opened only to be walked through and written in (``O_PATH`` needs no read right).
_FOLDER_FLAGS = os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | getattr(os, "O_PATH", os.O_RDONLY)


class PathChanged(OSError):
    """A folder on the path is no longer a real folder (a symlink or a file took its place)."""


def write_file_atomic(path: Path, data: bytes) -> None:
    """Replace the file at the real (symlink-free) absolute ``path`` with ``data``, creating
    missing folders; raise :class:`PathChanged` if a folder on it became a symlink."""
    folder = _open_folder(path.parent)
    try:
        try:
            existing = os.stat(path.name, dir_fd=folder, follow_symlinks=False)
            mode = stat.S_IMODE(existing.st_mode) if stat.S_ISREG(existing.st_mode) else None
        except FileNotFoundError:
            mode = None
        temp = f".{path.name}.{secrets.token_hex(4)}.tmp"
        # 0o666 less the umask, as any new file; an existing file's own mode is set below.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666, dir_fd=folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
                if mode is not None:
                    os.fchmod(handle.fileno(), mode)
            os.replace(temp, path.name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=folder)
            raise
    finally:
        os.close(folder)


def _open_folder(folder: Path) -> int:
    """A descriptor of ``folder``, reached from ``/`` one folder at a time without following any
    symlink; missing folders are created (with the usual mode) on the way."""
    if not folder.is_absolute():
        raise ValueError(f"not an absolute path: {folder}")
    fd = os.open("/", _FOLDER_FLAGS)
    try:
        for name in folder.parts[1:]:
            try:
                child = _open_child(fd, name, folder)
            except FileNotFoundError:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o777, dir_fd=fd)
                child = _open_child(fd, name, folder)
            os.close(fd)
            fd = child
        return fd
    except BaseException:
        os.close(fd)
        raise


def _open_child(parent: int, name: str, folder: Path) -> int:
    try:
        return os.open(name, _FOLDER_FLAGS, dir_fd=parent)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise PathChanged(error.errno, f"{name} on the way to {folder} is no longer a folder "
                              "(a symlink or a file took its place)") from None
        raise
