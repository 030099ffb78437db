"""An open session: its history in memory and its file, appended one durable line at a time.

A writable :class:`Session` holds the session's lock for as long as it is open, so it is the only
writer of its file. Each :meth:`Session.append` is a single ``os.write`` of one complete line on
an ``O_APPEND`` descriptor followed by ``fdatasync``: the message is on disk before the call
returns, and the cost does not depend on how long the history already is (nothing is rewritten).
If a write fails half way (disk full), the file is truncated back to the last complete line, so a
failed save never leaves a torn line for the next one to join.

The file itself is created lazily, with its header, on the first append or title: a session
that never received a message leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from types import TracebackType

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from agent_core.atomic import write_atomic
from agent_core.clock import Clock
from agent_core.messages import Message, new_id
from agent_core.sessions import format as fmt
from agent_core.sessions.errors import SessionError
from agent_core.sessions.history import History
from agent_core.sessions.lock import SessionLock
from agent_core.sessions.nofollow import open_regular, read_regular
from agent_core.text import one_line

#: How many characters of the first user message a listing shows.
PREVIEW_CHARS = 80


class SessionInfo(BaseModel):
    """A listing row; ``model_dump(by_alias=True)`` gives the protocol's camelCase keys."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    id: str
    title: str
    #: Epoch seconds.
    created: float
    #: Epoch seconds of the last write (the file's modification time).
    updated: float
    message_count: int
    #: The start of the first user message, on one line.
    preview: str
    #: Set when the file cannot be read (kept as it is, listed so the user sees it exists).
    error: str | None = None


def make_preview(text: str) -> str:
    """The first user message squeezed onto one line and cut to :data:`PREVIEW_CHARS`."""
    return one_line(text, PREVIEW_CHARS)


class Session:
    """One conversation. Created by :class:`~agent_core.sessions.store.SessionStore`.

    ``messages`` is the active history (everything, summary boundary records included, except
    what a rewind took back: see :meth:`rewind`). :meth:`append` adds to
    it after the message is durable, so a caller running a turn should hand the loop a copy of the
    list, not this one, or each message would be added twice.
    """

    def __init__(
        self,
        path: Path,
        header: fmt.Header,
        *,
        messages: list[Message],
        title: str,
        lock: SessionLock | None,
        size: int | None,
        clock: Clock,
        warnings: list[str] | None = None,
        history: History | None = None,
    ) -> None:
        self.path = path
        self.header = header
        self.history = history if history is not None else History(list(messages))
        self.title = title
        #: Notes about what loading had to repair or skip (torn tail, bad lines, migration);
        #: front ends show them so recovery is never silent.
        self.warnings = list(warnings or [])
        self._lock = lock
        #: Bytes in the file; ``None`` while the file does not exist yet.
        self._size = size
        self._clock = clock
        self._fd: int | None = None
        self._closed = False
        self._mutex = threading.Lock()

    @property
    def id(self) -> str:
        return self.header.id

    @property
    def messages(self) -> list[Message]:
        """The active history."""
        return self.history.active

    @messages.setter
    def messages(self, messages: list[Message]) -> None:
        self.history.active = messages

    @property
    def read_only(self) -> bool:
        """True when another process is the writer (or the session was closed)."""
        return self._lock is None or not self._lock.held

    @property
    def exists(self) -> bool:
        """Whether the file has been written yet (a brand-new session has no file)."""
        return self._size is not None

    def info(self) -> SessionInfo:
        """This session as a listing row, without touching the disk for its contents."""
        first_user = next((m.content for m in self.messages if fmt.is_prompt(m)), "")
        updated = self.header.created
        if self.exists:
            # Deleted or moved by hand meanwhile: the row is still worth showing.
            with contextlib.suppress(OSError):
                updated = self.path.stat().st_mtime
        return SessionInfo(
            id=self.id,
            title=self.title,
            created=self.header.created,
            updated=updated,
            message_count=len(self.messages),
            preview=make_preview(first_user),
        )

    def append(self, message: Message) -> None:
        """Save ``message`` durably, then add it to :attr:`messages`."""
        with self._mutex:
            self._write(fmt.encode_record(fmt.message_record(message)), message)
            self.messages.append(message)

    def set_title(self, title: str) -> None:
        """Rename: appends a title record (the last one wins), never rewrites the file."""
        title = " ".join(title.split())
        with self._mutex:
            self._write(fmt.encode_record(fmt.title_record(title, self._clock.wall())), None)
            self.title = title

    def rewind(self, before: str) -> str:
        """Make the active history the messages before message ``before`` by appending a rewind
        record (nothing is removed from the file); returns the rewind's id, which
        :meth:`unrewind` takes. A version 1 file is first rewritten as version 2."""
        with self._mutex:
            if not any(message.id == before for message in self.messages):
                raise SessionError(f"message {before} is not in the active history of session {self.id}")
            self._check_writable()
            self._upgrade()
            rewind_id = new_id()
            self._write(fmt.encode_record(fmt.rewind_record(rewind_id, before, self._clock.wall())), None)
            self.history.rewind(rewind_id, before)
            return rewind_id

    def unrewind(self, rewind_id: str) -> None:
        """Undo rewind ``rewind_id``: the active history becomes what it was just before it."""
        with self._mutex:
            if rewind_id not in self.history.rewinds:
                raise SessionError(f"no rewind {rewind_id} to undo in session {self.id}")
            self._check_writable()
            self._write(fmt.encode_record(fmt.unrewind_record(rewind_id, self._clock.wall())), None)
            self.history.unrewind(rewind_id)

    def _upgrade(self) -> None:
        """Rewrite a version 1 file whole as the current version (it has no rewinds yet, so its
        messages are its history), atomically, the original kept as ``<id>.jsonl.v1.bak``."""
        if self.header.version >= fmt.FORMAT_VERSION or not self.exists:
            return
        backup = self.path.with_name(f"{self.path.name}.v{self.header.version}.bak")
        data = fmt.encode_file(self.header, self.messages, self.title)
        try:
            if not os.path.lexists(backup):
                write_atomic(backup, read_regular(self.path))
            write_atomic(self.path, data)
        except OSError as exc:
            raise SessionError(f"could not upgrade session file {self.path.name}: {exc}") from exc
        self._close_fd()  # the old descriptor points at the replaced file
        self._size = len(data)
        self.header.version = fmt.FORMAT_VERSION

    def start_with(self, messages: list[Message]) -> None:
        """Write a brand-new session's file whole with ``messages`` (a fork), atomically."""
        with self._mutex:
            if self.exists:
                raise SessionError(f"session {self.id} already has a file; append instead")
            self._check_writable()
            self._create(list(messages))
            self.messages = list(messages)

    def close(self) -> None:
        """Close the file and release the lock; a session never written leaves no files."""
        with self._mutex:
            self._close_fd()
            if self._lock is not None:
                self._lock.release(remove=not self.exists)
            self._closed = True

    def __del__(self) -> None:
        # A session dropped without close() must not keep its lock (and block other windows)
        # for the rest of the process.
        if not getattr(self, "_closed", True):
            self.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _write(self, line: bytes, first: Message | None) -> None:
        self._check_writable()
        if self._size is not None and self._file_vanished():
            # Deleted by hand while open: appending would write into an unlinked file and
            # lose everything, so write the whole history (held in memory) back first.
            self._close_fd()
            self._size = None
            self._create(self.messages)
        if self._size is None:
            self._create([first] if first is not None else [])
            if first is not None:
                return
        self._append_line(line)

    def _check_writable(self) -> None:
        if self._closed:
            raise SessionError(f"session {self.id} is closed; open it again to add to it")
        if self.read_only:
            raise SessionError(
                f"session {self.id} is open for writing in another window or process; "
                "this copy is read-only (start a new session to continue here)"
            )

    def _file_vanished(self) -> bool:
        try:
            status = os.fstat(self._fd) if self._fd is not None else os.lstat(self.path)
        except FileNotFoundError:
            return True
        return status.st_nlink == 0

    def _close_fd(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _create(self, messages: list[Message]) -> None:
        """Write the header (and the first messages) as a whole new file, atomically."""
        data = fmt.encode_file(self.header, messages, self.title)
        try:
            write_atomic(self.path, data)
        except OSError as exc:
            raise SessionError(f"could not create session file {self.path.name}: {exc}") from exc
        self._size = len(data)

    def _append_line(self, line: bytes) -> None:
        assert self._size is not None
        try:
            if self._fd is None:
                self._fd = open_regular(self.path, os.O_WRONLY | os.O_APPEND)
            view = memoryview(line)
            while view:
                view = view[os.write(self._fd, view) :]
            os.fdatasync(self._fd)
        except OSError as exc:
            self._undo_partial_write()
            raise SessionError(
                f"could not save to session {self.id}: {exc}. The file still holds every "
                "earlier message; the unsaved one is kept in memory"
            ) from exc
        self._size += len(line)

    def _undo_partial_write(self) -> None:
        """Cut a half-written line so the next append starts on a fresh line."""
        if self._fd is None or self._size is None:
            return
        # If this fails, the next open cuts the torn tail anyway (see format.parse).
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, self._size)
