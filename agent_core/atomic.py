"""Writing a whole file so that neither a crash nor a swapped folder can make the write go wrong.

One writer for the session store's files and for edits of the user's files (the terminal's host):

Atomic: the new bytes go to a temporary file in the same folder (so the rename stays on one
filesystem), are flushed and fsynced, then ``os.replace``d over the target, then the folder is
fsynced so the rename itself survives a power cut: a crash leaves the old file or the new one,
never half of one.

Unredirectable: the path was resolved (and, for an edit, confined to the workspace) earlier,
maybe before an approval prompt that stayed open for minutes, so it holds no symlink. Its folders
are opened one at a time from ``/`` with ``O_NOFOLLOW | O_DIRECTORY``, and the temporary file is
created and renamed relative to the last folder's descriptor: a folder replaced by a symlink
meanwhile is refused with :class:`PathChanged` instead of followed, and once the folder is open no
later swap can move the write elsewhere.

Modes: session files are private (:data:`FILE_MODE`: chats quote code and commands); a user's
file keeps its permission bits, and a new one gets what the umask allows, as an editor's would.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

#: Session files and their backups are private to the user: chats quote code and commands.
FILE_MODE = 0o600

#: Folders are opened only to be walked through and written in (``O_PATH`` needs no read right).
_FOLDER_FLAGS = os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | getattr(os, "O_PATH", os.O_RDONLY)
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class PathChanged(OSError):
    """A folder on the path is no longer a real folder (a symlink or a file took its place)."""


def fsync_dir(folder: Path) -> None:
    """Make a create, rename or unlink in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, mode: int | None = FILE_MODE) -> None:
    """Replace the file at the absolute, symlink-free ``path`` with ``data``, creating missing
    folders. The file gets ``mode`` (default: private), or with None keeps the old file's
    permission bits (a new one: 0o666 less the umask). Raises
    :class:`PathChanged` if a folder on the path became a symlink; on any error the old file is
    untouched and no temporary file is left."""
    folder = _open_folder(path.parent)
    try:
        keep = mode if mode is not None else _existing_mode(folder, path.name)
        temp = f".{path.name}.{secrets.token_hex(4)}.tmp"
        # Private while it is written; a new user's file gets 0o666 less the umask, as any file.
        fd = os.open(temp, _TEMP_FLAGS, 0o600 if mode is not None else 0o666, dir_fd=folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                if keep is not None:
                    os.fchmod(handle.fileno(), keep)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path.name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=folder)
            raise
        _fsync_open_folder(folder)
    finally:
        os.close(folder)


def _existing_mode(folder: int, name: str) -> int | None:
    try:
        existing = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return None
    return stat.S_IMODE(existing.st_mode) if stat.S_ISREG(existing.st_mode) else None


def _fsync_open_folder(folder: int) -> None:
    """fsync the folder behind ``folder`` (an ``O_PATH`` descriptor cannot be fsynced itself)."""
    fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=folder)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
            raise PathChanged(
                error.errno,
                f"{name} on the way to {folder} is no longer a folder (a symlink or a file took its place)",
            ) from None
        raise
